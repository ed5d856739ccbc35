"""The bundled all-MiniLM-L6-v2 encoder, with its real weights, offline."""

import pytest
import torch

from remodiffuse.text.minilm import bundled_model_dir

CAPTIONS = [
    "a person walks forward slowly",
    "someone is walking ahead at a slow pace",
    "a man performs a cartwheel to the left",
    "the person raises both arms above the head and then lowers them",
]


def test_shapes_mask_and_padding(minilm):
    features = minilm.encode(CAPTIONS)
    batch, length, width = features.tokens.shape
    assert (batch, width) == (4, 384) and length <= minilm.max_tokens
    assert features.mask.dtype == torch.bool and features.mask.shape == (4, length)
    assert features.mask[:, 0].all()
    assert (features.tokens[~features.mask] == 0).all()
    assert features.tokens.dtype == features.sentence.dtype == torch.float32


def test_sentence_is_unit_norm_masked_mean(minilm):
    features = minilm.encode(CAPTIONS)
    norms = features.sentence.norm(dim=-1)
    torch.testing.assert_close(norms, torch.ones(4))
    for row in range(4):
        valid = features.tokens[row, features.mask[row]]  # (n, 384)
        mean = valid.sum(dim=0) / valid.shape[0]
        torch.testing.assert_close(features.sentence[row], mean / mean.norm())


def test_matches_sentence_transformers(minilm):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(bundled_model_dir()), device="cpu")
    expected = torch.from_numpy(reference.encode(CAPTIONS, convert_to_numpy=True))
    torch.testing.assert_close(minilm.encode(CAPTIONS).sentence, expected, atol=1e-5, rtol=0)


def test_similar_captions_are_closer(minilm):
    walk, walk_again, cartwheel, arms = minilm.encode(CAPTIONS).sentence
    assert walk @ walk_again > walk @ cartwheel + 0.2
    assert walk @ walk_again > walk @ arms + 0.2


def test_truncates_to_max_tokens(minilm):
    long_caption = " ".join(["walk"] * 200)
    features = minilm.encode([long_caption, "run"])
    assert features.tokens.shape[1] == minilm.max_tokens
    assert features.mask.sum(dim=1).tolist() == [minilm.max_tokens, 3]
    assert minilm.token_count("run") == 3 and minilm.truncated([long_caption, "run"]) == [0]


def test_identity_names_weights_and_length(minilm):
    identity = minilm.identity
    assert identity["name"] == "minilm" and identity["max_tokens"] == 77
    assert identity["weights"].startswith("sha256:") and len(identity["weights"]) == 7 + 64


def test_masked_mean_ignores_padding(minilm):
    alone = minilm.encode(["run"]).sentence
    padded = minilm.encode(["run", CAPTIONS[3]]).sentence[:1]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=0)
