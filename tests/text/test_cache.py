"""The on-disk text-feature cache: reuse, invalidation, corruption recovery, atomic writes."""

import json
import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from remodiffuse.text import TextEncoder, TextFeatures, cache_path, cached_text_features
from remodiffuse.text.cache import _publish

CAPTIONS = ["a person walks", "a person runs in a circle", "jump", "wave both hands", "sit down"]


class CountingEncoder(TextEncoder):
    """Deterministic toy encoder (one token per word) that counts the batches it encodes."""

    name = "counting"

    def __init__(self, version: str = "v1", fail_after: int | None = None) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.version = version
        self.fail_after = fail_after
        self.calls = 0
        self.freeze()

    token_dim = 3
    sentence_dim = 2
    max_tokens = 6

    @property
    def identity(self) -> dict:
        return {"name": self.name, "version": self.version}

    def forward(self, captions: list[str]) -> TextFeatures:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("encoder crashed")
        lengths = [min(len(c.split()), self.max_tokens) for c in captions]
        length = max(lengths)
        tokens = torch.zeros(len(captions), length, self.token_dim)  # (B, L, D)
        for row, caption in enumerate(captions):
            for col, word in enumerate(caption.split()[:length]):
                tokens[row, col] = torch.tensor([len(word), col, ord(word[0])]) * self.scale
        mask = torch.arange(length)[None] < torch.tensor(lengths)[:, None]  # (B, L)
        sentence = F.normalize(tokens.sum(dim=1)[:, :2] + 1, dim=-1)  # (B, 2)
        return TextFeatures(tokens=tokens, mask=mask, sentence=sentence)


@pytest.fixture
def cache_logs(caplog):
    caplog.set_level(logging.INFO, logger="remodiffuse.text.cache")
    return caplog


def test_build_then_reuse_without_encoding(tmp_path, cache_logs):
    built = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path)  # with a progress bar
    assert "building text feature cache for 5 captions" in cache_logs.text
    cache_logs.clear()
    encoder = CountingEncoder()
    reused = cached_text_features(encoder, CAPTIONS, tmp_path, progress=False)
    assert encoder.calls == 0
    assert f"text feature cache hit: {reused.path}" in cache_logs.text
    assert reused.path == built.path == cache_path(encoder, CAPTIONS, tmp_path)
    np.testing.assert_array_equal(reused.tokens, built.tokens)


def test_stored_arrays_match_the_encoder(tmp_path):
    encoder = CountingEncoder()
    cached = cached_text_features(encoder, CAPTIONS, tmp_path, batch_size=2, progress=False)
    direct = encoder.encode(CAPTIONS)
    length = direct.tokens.shape[1]
    assert len(cached) == 5
    assert cached.tokens.shape == (5, 6, 3) and cached.mask.shape == (5, 6)
    np.testing.assert_array_equal(cached.tokens[:, :length], direct.tokens.numpy())
    np.testing.assert_array_equal(cached.mask[:, :length], direct.mask.numpy())
    assert not cached.tokens[:, length:].any() and not cached.mask[:, length:].any()
    np.testing.assert_array_equal(cached.sentence, direct.sentence.numpy())


def test_read_back_as_float16_memmap(tmp_path):
    cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False)
    cached = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False)
    assert isinstance(cached.tokens, np.memmap) and cached.tokens.dtype == np.float16
    assert cached.sentence.dtype == np.float32 and cached.mask.dtype == np.bool_
    assert not cached.tokens.flags.writeable


def test_encodes_in_chunks(tmp_path):
    encoder = CountingEncoder()
    cached_text_features(encoder, CAPTIONS, tmp_path, batch_size=2, progress=False)
    assert encoder.calls == 3


@pytest.mark.parametrize(
    "changed",
    [CAPTIONS[:4] + ["sit down slowly"], CAPTIONS[::-1], CAPTIONS[:4]],
    ids=["edited", "reordered", "shorter"],
)
def test_changed_captions_select_a_new_entry(tmp_path, changed):
    first = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False)
    encoder = CountingEncoder()
    second = cached_text_features(encoder, changed, tmp_path, progress=False)
    assert encoder.calls > 0 and second.path != first.path and len(second) == len(changed)


def test_changed_encoder_identity_selects_a_new_entry(tmp_path):
    first = cached_text_features(CountingEncoder("v1"), CAPTIONS, tmp_path, progress=False)
    encoder = CountingEncoder("v2")
    second = cached_text_features(encoder, CAPTIONS, tmp_path, progress=False)
    assert encoder.calls > 0 and second.path != first.path


@pytest.mark.parametrize(
    "damage", ["truncate tokens", "bad manifest", "missing mask", "same-size garbage"]
)
def test_corrupt_entry_is_rebuilt_with_warning(tmp_path, cache_logs, damage):
    path = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False).path
    if damage == "truncate tokens":
        data = (path / "tokens.npy").read_bytes()
        (path / "tokens.npy").write_bytes(data[: len(data) // 2])
    elif damage == "bad manifest":
        (path / "manifest.json").write_text("{not json")
    elif damage == "same-size garbage":  # the header stays valid, only the values change
        data = bytearray((path / "sentence.npy").read_bytes())
        data[-8:] = bytes(b ^ 0xFF for b in data[-8:])
        (path / "sentence.npy").write_bytes(bytes(data))
    else:
        (path / "mask.npy").unlink()
    encoder = CountingEncoder()
    rebuilt = cached_text_features(encoder, CAPTIONS, tmp_path, progress=False)
    assert encoder.calls > 0
    assert any(
        r.levelno == logging.WARNING and "rebuilding" in r.message for r in cache_logs.records
    )
    assert rebuilt.tokens.shape == (5, 6, 3)
    assert json.loads((path / "manifest.json").read_text())["num_captions"] == 5


def test_no_temporary_files_left(tmp_path):
    path = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False).path
    (path / "manifest.json").write_text("")
    cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert sorted(p.name for p in path.iterdir()) == [
        "manifest.json",
        "mask.npy",
        "sentence.npy",
        "tokens.npy",
    ]


def test_failed_build_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError, match="encoder crashed"):
        cached_text_features(
            CountingEncoder(fail_after=1), CAPTIONS, tmp_path, batch_size=2, progress=False
        )
    assert list(tmp_path.iterdir()) == []
    assert len(cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False)) == 5


def test_entry_published_by_another_process_is_kept(tmp_path):
    path = cached_text_features(CountingEncoder(), CAPTIONS, tmp_path, progress=False).path
    staging = tmp_path / ".staging-other"
    staging.mkdir()
    (staging / "manifest.json").write_text("{}")
    _publish(staging, path)
    assert not staging.exists() and json.loads((path / "manifest.json").read_text())


def test_blank_caption_rejected_before_writing(tmp_path):
    with pytest.raises(ValueError, match="caption 1 is empty"):
        cached_text_features(CountingEncoder(), ["walk", " "], tmp_path, progress=False)
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_minilm_features_round_trip(minilm, tmp_path):
    cached = cached_text_features(minilm, CAPTIONS, tmp_path / "cache", progress=False)
    direct = minilm.encode(CAPTIONS)
    length = direct.tokens.shape[1]
    assert cached.tokens.shape == (5, 77, 384)
    np.testing.assert_allclose(
        cached.tokens[:, :length], direct.tokens.numpy(), atol=2e-3, rtol=1e-3
    )
    np.testing.assert_array_equal(cached.mask[:, :length], direct.mask.numpy())
    np.testing.assert_allclose(cached.sentence, direct.sentence.numpy(), atol=1e-6)
