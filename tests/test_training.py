"""Training randomness: exact resume from any epoch, `last.ckpt` always the latest state."""

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from omegaconf import open_dict

from remodiffuse.training import run_training

EPOCHS = 4
# "best" is the highest validation loss: once the loss falls, no later epoch is an improvement
NEVER_IMPROVING = (
    "callbacks.model_checkpoint.mode=max",
    "callbacks.model_checkpoint.save_top_k=-1",
)


def _train(compose, directory: Path, data_dir: Path, *overrides: str) -> Path:
    cfg = compose(directory, *overrides)
    with open_dict(cfg):
        cfg.paths.data_dir = str(data_dir)  # one data set and caption cache for every run
    return run_training(cfg)


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _assert_same_state(a: dict, b: dict) -> None:
    assert (a["epoch"], a["global_step"]) == (b["epoch"], b["global_step"])
    for name, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][name], value, rtol=0, atol=1e-6)
    optimizer_a, optimizer_b = a["optimizer_states"][0], b["optimizer_states"][0]
    assert optimizer_a["param_groups"][0]["lr"] == pytest.approx(
        optimizer_b["param_groups"][0]["lr"], rel=1e-9
    )
    for key, state in optimizer_a["state"].items():
        for name in ("exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(
                optimizer_b["state"][key][name], state[name], atol=1e-6, rtol=0
            )


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, compose_train_module, tiny_training):
    """EPOCHS epochs uninterrupted, every epoch's checkpoint kept: (run dir, data dir)."""
    root = tmp_path_factory.mktemp("straight")
    _train(
        compose_train_module,
        root,
        root / "data",
        *tiny_training,
        f"trainer.max_epochs={EPOCHS}",
        *NEVER_IMPROVING,
    )
    return root / "run", root / "data"


def _validation_losses(run_dir: Path) -> list[float]:
    with open(run_dir / "csv" / "version_0" / "metrics.csv") as file:
        return [float(row["val/loss"]) for row in csv.DictReader(file) if row["val/loss"]]


def test_last_checkpoint_is_the_last_epoch_even_without_improvement(straight_run):
    run_dir, _ = straight_run
    losses = _validation_losses(run_dir)
    assert len(losses) == EPOCHS
    assert max(losses) != losses[-1], f"the last epoch is the best one: {losses}"
    last = _load(run_dir / "checkpoints" / "last.ckpt")
    final = _load(run_dir / "checkpoints" / f"epoch{EPOCHS - 1:03d}.ckpt")
    assert last["epoch"] == EPOCHS - 1 and last["global_step"] == 4 * EPOCHS
    _assert_same_state(final, last)


@pytest.mark.slow
def test_resume_from_an_earlier_epoch_ends_with_the_same_state(
    straight_run, tmp_path, compose_train_module, tiny_training
):
    run_dir, data_dir = straight_run
    resumed = _train(
        compose_train_module,
        tmp_path,
        data_dir,
        *tiny_training,
        f"trainer.max_epochs={EPOCHS}",
        *NEVER_IMPROVING,
        f"ckpt_path={run_dir / 'checkpoints' / 'epoch001.ckpt'}",
    )
    _assert_same_state(_load(run_dir / "checkpoints" / "last.ckpt"), _load(resumed))


@pytest.mark.slow
def test_training_killed_mid_epoch_resumes_to_the_full_schedule(tmp_path, tiny_training):
    epochs, run_dir = 8, tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "remodiffuse.train",
        f"paths.data_dir={tmp_path / 'data'}",
        *tiny_training,
        "dataset.synthetic.num_motions=160",
        f"trainer.max_epochs={epochs}",
    ]
    process = subprocess.Popen(
        [*command, f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # into the next epoch
    process.kill()
    assert process.wait() == -signal.SIGKILL, "training ended before it could be killed"
    saved = {path.name: _load(path) for path in (run_dir / "checkpoints").glob("*.ckpt")}
    assert "last.ckpt" in saved  # every file left behind loads
    killed_at = saved["last.ckpt"]
    assert killed_at["epoch"] < epochs - 1
    steps_per_epoch = killed_at["global_step"] // (killed_at["epoch"] + 1)

    result = subprocess.run(
        [*command, f"hydra.run.dir={tmp_path / 'resumed'}", f"ckpt_path={last}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    final = _load(tmp_path / "resumed" / "checkpoints" / "last.ckpt")
    assert final["epoch"] == epochs - 1 and final["global_step"] == epochs * steps_per_epoch


def test_bf16_preset_trains_with_fp32_weights(tmp_path, compose_train_module, tiny_training):
    composed = compose_train_module(tmp_path / "composed", "trainer=cpu_bf16")
    assert composed.trainer.precision == "bf16-mixed" and composed.trainer.accelerator == "cpu"
    last = _train(
        compose_train_module, tmp_path, tmp_path / "data", *tiny_training, "trainer=cpu_bf16"
    )
    checkpoint = _load(last)
    weights = checkpoint["state_dict"]
    assert all(v.dtype == torch.float32 for v in weights.values() if v.is_floating_point())
    assert all(bool(torch.isfinite(value).all()) for value in weights.values())
    with (last.parent.parent / "csv" / "version_0" / "metrics.csv").open() as stream:
        losses = [float(row["train/loss"]) for row in csv.DictReader(stream) if row["train/loss"]]
    assert losses and all(0 < loss < 10 for loss in losses)
