"""A few training steps with DistributedDataParallel over 2 CPU processes (gloo)."""

import subprocess
import sys

import pytest
import torch


@pytest.mark.slow
def test_two_process_cpu_ddp_training(tmp_path, tiny_training):
    run_dir = tmp_path / "run"
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
            "trainer.max_epochs=1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "distributed_backend=gloo" in result.stdout + result.stderr
    assert "Starting with 2 processes" in result.stdout + result.stderr
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 2  # 32 train motions / (batch 8 x 2 processes)
    assert (run_dir / "model.safetensors").is_file()
