"""scripts/bench_training.py in --quick mode: both precisions timed side by side on one draw."""

import json
import runpy
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_training.py"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp("bench_training") / "bench.json"
    threads = torch.get_num_threads()
    try:
        main = runpy.run_path(str(SCRIPT))["main"]
        returned = main(["--quick", "--threads", "1", "--iterations", "2", "--warmup", "1",
                         "--out", str(out)])  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return returned, json.loads(out.read_text())


def test_both_precisions_timed_and_the_ratio_is_of_the_medians(report):
    returned, data = report
    assert returned["seconds_per_iteration"] == data["seconds_per_iteration"]
    assert data["quick"] and data["batch"] == 16 and data["padded_to"] == 32
    seconds = data["seconds_per_iteration"]
    assert all(len(data["runs_seconds"][p]) == 2 for p in ("fp32", "bf16"))
    assert data["bf16_speedup"] == pytest.approx(seconds["fp32"] / seconds["bf16"])


def test_bf16_trains_on_the_same_draws_to_a_close_loss(report):
    _, data = report
    fp32, bf16 = data["losses"]["fp32"], data["losses"]["bf16"]
    assert all(abs(a - b) <= 0.05 * a for a, b in zip(fp32, bf16, strict=True))
