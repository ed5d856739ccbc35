"""Training end to end on a tiny synthetic set, and the frozen conditions it trains with."""

import numpy as np
import torch

from remodiffuse.pipeline import load_run
from remodiffuse.retrieval import RetrievalDatabase


def test_training_writes_checkpoints_and_inference_bundle(tiny_trained_run):
    run_dir, last = tiny_trained_run
    assert last == run_dir / "checkpoints" / "last.ckpt" and last.is_file()
    checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 8  # 32 train motions / batch 8 = 4 steps x 2 epochs
    model, _, _ = load_run(run_dir)
    state = {k: v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, state[f"model.{name}"])
    assert np.load(run_dir / "mean.npy").shape == (263,)
    metrics = (run_dir / "csv" / "version_0" / "metrics.csv").read_text()
    assert "train/loss" in metrics and "val/loss" in metrics and "nan" not in metrics


def test_training_neighbours_exclude_the_items_own_motion(tiny_trained_run):
    run_dir, _ = tiny_trained_run
    database = RetrievalDatabase.load(run_dir / "database")
    neighbours = database.neighbours_of(np.arange(len(database)))  # (N, k)
    assert neighbours.shape == (len(database), 2)
    assert (database.ids[neighbours] != database.ids[:, None]).all()
    indices, _ = database.query(
        database.sentence_features, database.lengths, exclude_ids=list(database.ids)
    )
    np.testing.assert_array_equal(indices, neighbours)


def test_resume_continues_from_the_last_checkpoint(
    tiny_trained_run, tiny_training, compose_train_module, tmp_path
):
    from remodiffuse.training import run_training

    _, last = tiny_trained_run
    cfg = compose_train_module(
        tmp_path, *tiny_training, "trainer.max_epochs=3", f"ckpt_path={last}"
    )
    resumed = torch.load(run_training(cfg), map_location="cpu", weights_only=True)
    assert resumed["epoch"] == 2 and resumed["global_step"] == 12  # one more epoch of 4 steps
