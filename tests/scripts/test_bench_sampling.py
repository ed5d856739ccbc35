"""scripts/bench_sampling.py in --quick mode: the rows, the ratios and the output equality."""

import contextlib
import io
import json
import runpy
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_sampling.py"
METHODS = {"library-ddim", "released-ddim", "library-ddim-bf16", "library-dpm++3", "library-dpm++4"}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, dict, str]:
    """(returned report, JSON read back, printed Markdown) of one quick run.

    The tiny budget makes the batch-4 cases time a subset of steps (extrapolated).
    """
    out = tmp_path_factory.mktemp("bench_sampling") / "bench.json"
    threads, printed = torch.get_num_threads(), io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
            patch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # the script's default, undone after
            main = runpy.run_path(str(SCRIPT))["main"]
            returned = main(
                [
                    "--quick",
                    "--threads",
                    "1",
                    "--repeats",
                    "1",
                    "--budget",
                    "1e-9",
                    "--out",
                    str(out),
                ]
            )
    finally:
        torch.set_num_threads(threads)
    return returned, json.loads(out.read_text()), printed.getvalue()


def test_rows_cover_every_case_and_method(report):
    _, data, _ = report
    assert data["quick"] is True and data["torch_threads"] == 1
    assert data["omp_wait_policy"] == "PASSIVE"
    cases = {(r["size"], r["batch"], r["length"], r["method"]) for r in data["rows"]}
    expected = {
        (size, batch, length, method)
        for size in ("paper", "small")
        for batch in (1, 4)
        for length in (24, 12)
        for method in METHODS
    }
    assert cases == expected and len(data["rows"]) == len(expected)
    for row in data["rows"]:
        assert row["seconds"] > 0 and row["seconds_per_motion"] == pytest.approx(
            row["seconds"] / row["batch"]
        )
        assert row["padded_to"] == (32 if row["method"] == "released-ddim" else row["length"])
        assert row["extrapolated"] == (row["steps_timed"] < row["steps"])


def test_library_and_released_outputs_match(report):
    _, data, _ = report
    library = [r for r in data["rows"] if r["method"] == "library-ddim"]
    assert len(library) == 8
    assert all(0.0 <= r["max_abs_diff_vs_released"] <= 1e-5 for r in library)
    assert data["outputs_match"] and data["max_abs_diff"] <= 1e-5
    bf16 = [r for r in data["rows"] if r["method"] == "library-ddim-bf16"]
    assert len(bf16) == 8 and all(0 < r["relative_diff_vs_released"] < 0.05 for r in bf16)


def test_ratios_are_side_by_side_and_subsets_labelled(report):
    returned, data, markdown = report
    assert returned["rows"] == data["rows"]
    assert "| size | batch | frames | method |" in markdown and "torch threads: 1" in markdown
    assert "6 (3, extrapolated)" in markdown and "(pad 32)" in markdown
    by_case: dict[tuple, dict[str, dict]] = {}
    for row in data["rows"]:
        by_case.setdefault((row["size"], row["batch"], row["length"]), {})[row["method"]] = row
    for case, rows in by_case.items():
        released, library = rows["released-ddim"]["seconds"], rows["library-ddim"]["seconds"]
        for row in rows.values():
            assert row["speedup_vs_released"] == pytest.approx(released / row["seconds"])
            assert row["speedup_vs_library_ddim"] == pytest.approx(library / row["seconds"])
        # batch 1 is always timed in full; the budget sends batch 4 to a step subset
        assert rows["released-ddim"]["extrapolated"] == (case[1] == 4)
        assert rows["library-ddim"]["steps"] == 6
