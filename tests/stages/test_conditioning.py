"""Retrieved motions reach the model as stored, or re-normalised into the model's statistics."""

import numpy as np
import torch

from remodiffuse.motion import denormalize, normalize
from remodiffuse.pipeline import encode_retrieved, load_statistics, save_statistics
from remodiffuse.retrieval import RetrievalDatabase


class RecordingModel:
    """Stands in for the network: returns what encode_conditions received."""

    def encode_conditions(self, tokens, mask, motions, lengths, retrieved_tokens, retrieved_mask):
        return motions, lengths


def tiny_database() -> RetrievalDatabase:
    rng = np.random.default_rng(0)
    motions = [rng.normal(size=(n, 5)).astype(np.float32) for n in (6, 4, 8)]
    features = rng.normal(size=(3, 8)).astype(np.float32)
    return RetrievalDatabase.build(
        ["a", "b", "c"],
        ["x", "y", "z"],
        features,
        [6, 4, 8],
        "test-encoder",
        motions=motions,
        token_features=np.zeros((3, 2, 4), np.float16),
        token_mask=np.ones((3, 2), bool),
    )


def test_retrieved_motions_are_renormalised_and_padding_stays_zero():
    database = tiny_database()
    neighbours = np.array([[0, 1], [2, 0]])
    tokens, mask = torch.zeros(2, 2, 4), torch.ones(2, 2, dtype=torch.bool)
    stored, lengths = encode_retrieved(RecordingModel(), database, neighbours, tokens, mask, 8)
    rng = np.random.default_rng(1)
    statistics = (
        rng.normal(size=5),
        rng.uniform(0.5, 2, 5),
        rng.normal(size=5),
        rng.uniform(1, 3, 5),
    )
    moved, _ = encode_retrieved(RecordingModel(), database, neighbours, tokens, mask, 8, statistics)
    expected = normalize(denormalize(stored.numpy(), *statistics[:2]), *statistics[2:])
    valid = (np.arange(8) < lengths.numpy()[..., None])[..., None]  # (B, k, T, 1)
    np.testing.assert_allclose(moved.numpy(), np.where(valid, expected, 0.0), atol=1e-5)
    assert moved.numpy()[0, 1, 4:].sum() == 0 and stored.numpy()[0, 1, 4:].sum() == 0


def test_statistics_round_trip(tmp_path):
    assert load_statistics(tmp_path) is None
    save_statistics(tmp_path, np.arange(3.0), np.ones(3))
    mean, std = load_statistics(tmp_path)
    np.testing.assert_array_equal(mean, [0, 1, 2])
    np.testing.assert_array_equal(std, 1)
