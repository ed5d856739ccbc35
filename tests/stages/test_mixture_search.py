"""The mixture search's items retrieve as training items do: never their own motion."""

import numpy as np
import pytest
import torch

import remodiffuse.pipeline.generator as pipeline_generator
from remodiffuse.data import TextMotionDataset
from remodiffuse.evaluation import EvaluationItems
from remodiffuse.evaluators import load_evaluator
from remodiffuse.pipeline import MotionGenerator, PromptBatch
from remodiffuse.retrieval import RetrievalDatabase
from remodiffuse.stages.mixture_search import MixtureSearch


def _search(run_dir, evaluator_run) -> MixtureSearch:
    train = TextMotionDataset(run_dir.parent / "data" / "synthetic", "train")
    return MixtureSearch(
        MotionGenerator(run_dir),
        load_evaluator({"kind": "contrastive", "ckpt": str(evaluator_run)}),
        EvaluationItems.from_dataset(train, 24),
        steps=5,
        batch_size=8,
    )


@pytest.fixture(scope="module")
def search(tiny_trained_run, tiny_evaluator_run) -> MixtureSearch:
    return _search(tiny_trained_run[0], tiny_evaluator_run)


def test_search_items_never_retrieve_their_own_motion(search):
    database = search.generator.database
    for batch, prompts in zip(search.slices, search.batches, strict=True):
        own = np.array(search.items.motion_ids[batch])[:, None]  # (B, 1)
        retrieved = database.ids[prompts.neighbours]  # (B, k)
        assert (retrieved != own).all()
        twins = np.char.add(np.where(np.char.startswith(own, "M"), "", "M"), own)
        assert (retrieved != twins).all()


def _copy_the_retrieved_motion(monkeypatch, run_dir) -> None:
    """A network that returns its first retrieved motion where retrieval is on, else zeros."""
    database = RetrievalDatabase.load(run_dir / "database")

    def model_call(self, x, t, text_on, retrieval_on, branch_index=None):
        motions, _ = database.motions_of(self.neighbours[:, :1], x.shape[1])  # (B, 1, T, D)
        copies = x.shape[0] // self.size
        retrieved = torch.from_numpy(motions[:, 0, : x.shape[1]]).repeat(copies, 1, 1)
        return retrieved * retrieval_on[:, None, None]  # (nB, T, D)

    monkeypatch.setattr(PromptBatch, "model_call", model_call)


def test_with_the_leak_a_copying_network_scores_a_perfect_fid(
    tiny_trained_run, tiny_evaluator_run, monkeypatch
):
    """The grid's pure-retrieval point (w1 = w2 = 0) is exact ground truth only with the leak."""
    _copy_the_retrieved_motion(monkeypatch, tiny_trained_run[0])
    honest = _search(tiny_trained_run[0], tiny_evaluator_run).grid_point(0.0, 0.0).fid

    def leaky(database, sentence, lengths, motion_ids=None):
        return database.query(sentence, lengths, exclude="none")[0]

    monkeypatch.setattr(pipeline_generator, "query_neighbours", leaky)
    leaked = _search(tiny_trained_run[0], tiny_evaluator_run).grid_point(0.0, 0.0).fid
    assert leaked == pytest.approx(0.0, abs=1e-6)
    assert honest > 100 * max(leaked, 1e-6)
