"""The contrastive evaluator stage end to end on a tiny synthetic set."""

import csv
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate

from remodiffuse.data import collate_motions
from remodiffuse.evaluators import load_evaluator

TINY_EVALUATOR = (
    "stage=evaluator",
    "debug=tiny_evaluator",
    "trainer.max_epochs=6",
    "stage.lr=1e-3",
    "stage.architecture.motion_num_layers=2",
    "stage.architecture.dropout=0.0",
)


@pytest.fixture(scope="module")
def evaluator_run(tmp_path_factory, compose_train_module):
    """(config, run directory, last checkpoint) of 6 epochs of a tiny evaluator."""
    from remodiffuse.training import run_training

    cfg = compose_train_module(tmp_path_factory.mktemp("evaluator_run"), *TINY_EVALUATOR)
    last = run_training(cfg)
    return cfg, Path(cfg.hydra.runtime.output_dir), last


def test_training_logs_and_lowers_the_loss(evaluator_run) -> None:
    _, run_dir, last = evaluator_run
    assert last == run_dir / "checkpoints" / "last.ckpt" and last.is_file()
    with (run_dir / "csv" / "version_0" / "metrics.csv").open() as file:
        rows = list(csv.DictReader(file))

    def column(name: str) -> np.ndarray:
        return np.array([float(row[name]) for row in rows if row.get(name)])

    for name in ("val/r_precision_top1", "val/r_precision_top3"):
        assert column(name).size > 0 and np.isfinite(column(name)).all(), name
    train = column("train/loss")
    assert column("val/loss").size == 6 and train.size == 24  # 4 steps x 6 epochs
    assert train[-4:].mean() < train[:4].mean()


def test_saved_evaluator_loads_and_separates_pairs(evaluator_run) -> None:
    cfg, run_dir, last = evaluator_run
    assert (run_dir / "evaluator.safetensors").is_file() and (run_dir / "evaluator.yaml").is_file()
    evaluator = load_evaluator({"kind": "contrastive", "ckpt": str(run_dir)})
    from_ckpt = load_evaluator({"kind": "contrastive", "ckpt": str(last), "device": "cpu"})
    assert evaluator.feature_dim == 263 and evaluator.name == f"contrastive:{run_dir}"

    datamodule = instantiate(cfg.dataset)
    datamodule.setup("fit")
    train = datamodule.datasets["train"]
    batch = collate_motions([train[i] for i in range(16)])
    mean, std = datamodule.mean, datamodule.std
    np.testing.assert_array_equal(evaluator.mean, mean)
    motions = evaluator.embed_motions(batch["motion"], batch["length"], mean, std)  # (16, 16)
    texts = evaluator.embed_texts(batch["caption"], batch["tokens"])  # (16, 16)
    assert motions.shape == texts.shape == (16, 16)
    # last.ckpt holds the best-val-loss epoch's weights (the callback's rule), not the final ones
    assert from_ckpt.embed_motions(batch["motion"], batch["length"], mean, std).shape == (16, 16)
    np.testing.assert_array_equal(from_ckpt.mean, mean)
    distance = np.linalg.norm(texts[:, None] - motions[None], axis=-1)  # (16, 16)
    matched = distance.diagonal().mean()
    mismatched = distance[~np.eye(16, dtype=bool)].mean()
    assert matched < mismatched
