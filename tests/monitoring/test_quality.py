"""Quality during training: metrics and animations logged (W&B offline, read back), and the
training randomness untouched by the callback."""

import random

import numpy as np
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict
from safetensors.torch import load_file

from remodiffuse.monitoring import offline_run_dir, read_history
from remodiffuse.monitoring.quality import isolated_rng
from remodiffuse.training import run_training

QUALITY = ("val/fid@contrastive", "val/r_precision_top1@contrastive",
           "val/r_precision_top3@contrastive", "val/mm_dist@contrastive",
           "val/diversity@contrastive")  # fmt: skip
SIGNALS = ("lr-Adam", "train/grad_norm", "train/epoch_seconds", "train/device/samples_per_sec")


def _train(compose, directory, data_dir, *overrides):
    cfg = compose(directory, "debug=tiny", *overrides)
    with open_dict(cfg):
        cfg.paths.data_dir = str(data_dir)
    try:
        run_training(cfg)
    finally:
        GlobalHydra.instance().clear()
    return directory / "run"


def _with_evaluator(evaluator_run) -> tuple[str, ...]:
    return ("evaluator=contrastive", f"evaluator.ckpt={evaluator_run}",
            "callbacks.quality.every_n_epochs=1")  # fmt: skip


def test_isolated_rng_restores_every_generator():
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    expected = (torch.rand(2), np.random.rand(2), random.random())
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    with isolated_rng(torch.device("cpu")):
        torch.rand(5), np.random.rand(5), random.random()
    after = (torch.rand(2), np.random.rand(2), random.random())
    assert torch.equal(after[0], expected[0]) and np.array_equal(after[1], expected[1])
    assert after[2] == expected[2]


@pytest.mark.slow
def test_wandb_offline_run_has_quality_metrics_and_animations(
    compose_train_module, tmp_path, tiny_evaluator_run
):
    overrides = ("logger=wandb", *_with_evaluator(tiny_evaluator_run))
    run = _train(compose_train_module, tmp_path, tmp_path / "data", *overrides)
    offline = offline_run_dir(run)
    rows = read_history(offline)
    quality = [row for row in rows if "val/fid@contrastive" in row]
    assert [row["epoch"] for row in quality] == [0, 1]  # every epoch (every_n_epochs=1)
    assert all(np.isfinite(row[name]) for row in quality for name in QUALITY)
    logged = {name for row in rows for name in row}
    assert set(SIGNALS) <= logged and "val/animation_0/videos" in logged
    videos = sorted((offline / "files" / "media" / "videos" / "val").glob("animation_*.gif"))
    assert len(videos) == 4  # 2 prompts x 2 epochs
    assert list((offline / "files" / "media" / "table" / "val").glob("retrieved_*.table.json"))
    assert len(list((run / "quality").glob("epoch*.gif"))) == 4


@pytest.mark.slow
def test_the_callback_does_not_change_the_trained_weights(
    compose_train_module, tmp_path, tiny_evaluator_run
):
    data = tmp_path / "data"
    plain = _train(compose_train_module, tmp_path / "off", data)
    monitored = _train(
        compose_train_module, tmp_path / "on", data, *_with_evaluator(tiny_evaluator_run)
    )
    assert list((monitored / "quality").glob("*.gif"))  # the callback did sample
    off, on = load_file(plain / "model.safetensors"), load_file(monitored / "model.safetensors")
    assert off.keys() == on.keys() and all(torch.equal(off[k], on[k]) for k in off)
