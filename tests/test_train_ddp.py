"""Training with DistributedDataParallel over 2 CPU processes (gloo): per-rank randomness."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

# Recorded by every rank: its first step's draws and a weight checksum after every step.
RECORDER = """
import torch
from lightning import Callback


class DrawRecorder(Callback):
    def __init__(self, out_dir):
        self.out_dir, self.first, self.checksums = out_dir, None, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.first is None:
            state = torch.get_rng_state()
            t, noise, _, _ = pl_module.training_draws(batch["motion"].shape)
            torch.set_rng_state(state)
            self.first = {"t": t, "noise": noise}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.checksums.append(sum(float(p.double().sum()) for p in pl_module.parameters()))

    def on_train_end(self, trainer, pl_module):
        record = {**self.first, "checksums": self.checksums}
        torch.save(record, f"{self.out_dir}/rank{trainer.global_rank}.pt")
"""


def _train_ddp(tmp_path: Path, name: str, tiny_training) -> Path:
    run_dir = tmp_path / name
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remodiffuse.train",
            "trainer=ddp",
            "trainer.accelerator=cpu",
            "trainer.devices=2",
            f"paths.data_dir={tmp_path / 'data'}",
            f"hydra.run.dir={run_dir}",
            *tiny_training,
            "+callbacks.recorder._target_=draw_recorder.DrawRecorder",
            f"+callbacks.recorder.out_dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "distributed_backend=gloo" in result.stdout + result.stderr
    assert "Starting with 2 processes" in result.stdout + result.stderr
    return run_dir


@pytest.mark.slow
def test_two_process_ddp_ranks_draw_apart_and_stay_in_sync(tmp_path, tiny_training):
    (tmp_path / "draw_recorder.py").write_text(RECORDER)
    first = _train_ddp(tmp_path, "first", tiny_training)
    checkpoint = torch.load(first / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 4  # 32 train motions / (batch 8 x 2 processes) x 2 epochs
    rank0, rank1 = (torch.load(first / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert not torch.equal(rank0["noise"], rank1["noise"])
    assert not torch.equal(rank0["t"], rank1["t"])
    assert len(rank0["checksums"]) == 4 and rank0["checksums"] == rank1["checksums"]

    second = _train_ddp(tmp_path, "second", tiny_training)
    weights, again = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert weights.keys() == again.keys()
    assert all(torch.equal(weights[name], again[name]) for name in weights)
