"""scripts/bench_evaluation.py in --quick mode: per-length rows and the HumanML3D arithmetic."""

import json
import runpy
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_evaluation.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bench_evaluation")
    ids = folder / "test.txt"
    ids.write_text("".join(f"{i:06d}\n" for i in range(1000)))
    threads = torch.get_num_threads()
    try:
        main = runpy.run_path(str(SCRIPT))["main"]
        argv = ["--quick", "--threads", "1", "--repeats", "1", "--mean-length", "16"]
        main([*argv, "--test-ids", str(ids), "--out", str(folder / "bench.json")])
    finally:
        torch.set_num_threads(threads)
    return json.loads((folder / "bench.json").read_text())


def test_every_length_is_timed_for_each_method_and_outputs_match(report):
    assert report["quick"] and report["outputs_match"]
    cases = {(row["length"], row["method"]) for row in report["rows"]}
    methods = {"library-ddim", "released-ddim", "library-ddim-bf16"}
    assert cases == {(length, method) for length in (12, 20, 32) for method in methods}
    for row in report["rows"]:
        assert row["extrapolated"] and row["steps"] == 6 and row["steps_timed"] == 3  # 2 + 1
        assert row["padded_to"] == (32 if row["method"] == "released-ddim" else row["length"])


def test_humanml3d_extrapolation_interpolates_the_side_by_side_ratio(report):
    h = report["humanml3d"]
    assert h["test_motions"] == 1000 and h["motions"] == 20 * (1000 + 100 * 30)
    ratios = {r["length"]: r["ratio_vs_released"] for r in report["rows"]
              if r["method"] == "library-ddim"}  # fmt: skip
    halfway = 0.5 * (ratios[12] + ratios[20])  # mean length 16: halfway between 12 and 20
    assert h["library-ddim"]["ratio_vs_released"] == pytest.approx(halfway)
    released = sorted(r["seconds_per_motion"] for r in report["rows"]
                      if r["method"] == "released-ddim")[1]  # fmt: skip
    assert h["released_seconds_per_motion"] == pytest.approx(released)  # median of 3 cases
    hours = h["motions"] * halfway * released / 3600
    assert h["library-ddim"]["hours"] == pytest.approx(hours)
