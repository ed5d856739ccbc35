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


def test_ordered_keys_key_the_database_and_every_splits_queries(tmp_path):
    from remodiffuse.data import TextMotionDataset
    from remodiffuse.data.synthetic import ensure_synthetic_dataset
    from remodiffuse.retrieval import RetrievalConfig, retrieval_keys
    from remodiffuse.stages.conditioning import build_conditioner
    from remodiffuse.text import build_text_encoder, cached_text_features

    root = ensure_synthetic_dataset(tmp_path / "synthetic", num_motions=30, seed=3)
    datasets = {split: TextMotionDataset(root, split) for split in ("train", "val")}
    encoder, config = build_text_encoder("minilm"), RetrievalConfig(key="ordered", key_parts=2)
    conditioner = build_conditioner(datasets, encoder, tmp_path / "cache", config, 196)
    database = conditioner.database
    train = cached_text_features(encoder, datasets["train"].captions, tmp_path / "cache")
    train_keys = retrieval_keys(config, train.sentence, train.tokens, train.mask)
    np.testing.assert_allclose(database.sentence_features, train_keys, atol=1e-6)  # renormalised
    val = cached_text_features(encoder, datasets["val"].captions, tmp_path / "cache")
    lengths = [entry["length"] for entry in datasets["val"].caption_entries()]
    keys = retrieval_keys(config, val.sentence, val.tokens, val.mask)  # (Q, 2 * Dt)
    expected, _ = database.query(keys, lengths, exclude="none")
    np.testing.assert_array_equal(conditioner.splits["val"].neighbours, expected)
