"""scripts/sampler_quality.py on the tiny session run and evaluator, 2 replications."""

import json
import runpy
from pathlib import Path

import pytest

from remodiffuse.data.synthetic import ensure_synthetic_dataset

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sampler_quality.py"
PROTOCOL = ("batch_size=8", "rprecision_batch_size=8", "diversity_pairs=10", "balanced_bins=4")


@pytest.fixture(scope="module")
def script() -> dict:
    return runpy.run_path(str(SCRIPT))


@pytest.fixture(scope="module")
def report(script, tiny_trained_run, tiny_evaluator_run, tmp_path_factory) -> tuple[dict, Path]:
    root = ensure_synthetic_dataset(tmp_path_factory.mktemp("quality") / "synthetic", 240, 1)
    out = tmp_path_factory.mktemp("quality_out") / "quality.json"
    argv = ["--run", str(tiny_trained_run[0]), "--evaluator", str(tiny_evaluator_run)]
    argv += ["--root", str(root), "--replications", "2", "--threads", "1", "--out", str(out)]
    for setting in PROTOCOL:
        argv += ["--protocol", setting]
    return script["main"](argv), out


@pytest.mark.slow
def test_every_row_is_scored_with_the_same_orders(report):
    data, out = report
    assert json.loads(out.read_text()) == data
    rows = data["rows"]
    assert list(rows)[0] == "DDIM 50" and len(rows) == 8
    assert rows["DDIM 50"]["steps"] == 50 and rows["DDIM 50"]["steps_at_or_below_100"] == 8
    assert rows["DPM-Solver++ 10"]["timesteps"] == [999, 886, 757, 603, 410, 202, 73, 22, 5, 0]
    assert rows["DDIM 50, bf16"]["precision"] == "bf16"
    assert rows["DDIM 50, not bucketed by length"]["bucket_by_length"] is False
    real = [row["real"]["fid"]["values"] for row in rows.values()]
    assert all(values == real[0] for values in real)  # same seed: the same real passes
    for row in rows.values():
        assert row["steps_at_or_below_100"] >= 2
        assert len(row["metrics"]["fid"]["values"]) == 2
        assert row["seconds_per_replication"] > 0


@pytest.mark.slow
def test_the_reference_is_within_itself_and_the_verdict_follows_the_rows(script, report):
    data, out = report
    reference = data["rows"]["DDIM 50"]
    assert reference["all_within"] and reference["time_vs_reference"] == 1.0
    for comparison in reference["vs_reference"].values():
        assert comparison["difference"] == 0.0
    candidates = [
        name for name, row in data["rows"].items() if row["few_step"] and row["all_within"]
    ]
    if candidates:
        assert data["smallest_within"] in candidates
    else:
        assert data["smallest_within"] is None
    table = out.with_suffix(".md").read_text()
    assert table.count("\n| ") == 1 + len(data["rows"])  # header and one line per row


def test_comparison_uses_the_interval_of_the_difference(script):
    reference = {m: {"mean": 1.0, "conf95": 0.3} for m in script["COMPARED"]}
    row = {m: {"mean": 1.45, "conf95": 0.4} for m in script["COMPARED"]}  # 0.45 < 0.5
    assert all(c["within"] for c in script["comparison"](reference, row).values())
    row = {m: {"mean": 1.55, "conf95": 0.4} for m in script["COMPARED"]}  # 0.55 > 0.5
    assert not any(c["within"] for c in script["comparison"](reference, row).values())
