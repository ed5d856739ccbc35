"""Retrieval keys: the sentence feature, or order-aware pooling of the token features."""

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.retrieval import RetrievalConfig, retrieval_keys
from remodiffuse.retrieval import keys as keys_module
from remodiffuse.retrieval.keys import ordered_pooling

ORDERED = RetrievalConfig(key="ordered", key_parts=2)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_sentence_keys_are_the_sentence_features():
    sentence = unit(np.random.default_rng(0).normal(size=(5, 8))).astype(np.float32)
    assert np.array_equal(retrieval_keys(RetrievalConfig(), sentence), sentence)


def test_ordered_keys_tell_word_order_apart_where_mean_pooling_cannot():
    walk, jump = np.eye(4, dtype=np.float32)[:2]
    tokens = np.stack([[walk, walk, jump, jump], [jump, jump, walk, walk]])  # (2, 4, 4)
    mask = np.ones((2, 4), bool)
    keys = retrieval_keys(ORDERED, np.zeros((2, 4)), tokens, mask)
    means = unit(tokens.mean(1))
    assert means[0] @ means[1] == pytest.approx(1.0)
    assert keys[0] @ keys[1] == pytest.approx(0.0)
    assert np.linalg.norm(keys, axis=1) == pytest.approx([1.0, 1.0])


def test_ordered_cosine_is_the_mean_of_chunk_cosines_and_ignores_padding():
    rng = np.random.default_rng(1)
    tokens = rng.normal(size=(2, 7, 5)).astype(np.float32)
    mask = np.array([[True] * 6 + [False], [True] * 4 + [False] * 3])
    padded = tokens.copy()
    padded[~mask] = 1e3  # padding is never read
    keys = ordered_pooling(padded, mask, 2)
    chunks = [(tokens[0, :3], tokens[0, 3:6]), (tokens[1, :2], tokens[1, 2:4])]
    first, second = ([unit(part.sum(0)) for part in row] for row in chunks)
    expected = np.mean([first[0] @ second[0], first[1] @ second[1]])
    assert keys[0] @ keys[1] == pytest.approx(expected, abs=1e-6)


def test_ordered_keys_are_computed_in_chunks_of_rows(monkeypatch):
    rng = np.random.default_rng(2)
    tokens = rng.normal(size=(10, 6, 3)).astype(np.float16)
    mask = np.arange(6)[None, :] < rng.integers(3, 7, size=(10, 1))
    whole = retrieval_keys(ORDERED, np.zeros((10, 3)), tokens, mask)
    monkeypatch.setattr(keys_module, "CHUNK_ROWS", 3)
    assert np.array_equal(retrieval_keys(ORDERED, np.zeros((10, 3)), tokens, mask), whole)
    assert whole.shape == (10, 6)


def test_bad_key_settings_are_clear_errors():
    with pytest.raises(InputError, match="key must be one of"):
        RetrievalConfig(key="mean")
    with pytest.raises(InputError, match="key_parts"):
        RetrievalConfig(key="ordered", key_parts=0)
    with pytest.raises(InputError, match="token features"):
        retrieval_keys(ORDERED, np.zeros((1, 3)))
    with pytest.raises(InputError, match="at least key_parts=2 tokens"):
        retrieval_keys(ORDERED, np.zeros((1, 3)), np.ones((1, 2, 3)), np.array([[True, False]]))
