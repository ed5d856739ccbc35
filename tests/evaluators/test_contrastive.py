"""The contrastive evaluator's encoders, loss and saved bundle (without training)."""

import numpy as np
import pytest
import torch

from remodiffuse.evaluators import (
    ContrastiveConfig,
    ContrastiveEvaluator,
    ContrastiveModel,
    EvaluatorFileError,
    contrastive_loss,
    load_contrastive,
    load_evaluator,
    save_contrastive,
)
from remodiffuse.text import TextFeatures

TINY = ContrastiveConfig(
    feature_dim=12,
    text_token_dim=6,
    embed_dim=8,
    motion_latent_dim=16,
    motion_num_layers=2,
    motion_num_heads=2,
    motion_ff_size=32,
    text_latent_dim=16,
    text_num_layers=1,
    text_num_heads=2,
    text_ff_size=32,
    dropout=0.0,
)


class FakeTextEncoder(torch.nn.Module):
    """Deterministic (B, 5, 6) token features from the caption characters."""

    token_dim = 6

    def encode(self, captions: list[str]) -> TextFeatures:
        codes = torch.tensor([[ord(c) % 7 for c in (cap * 5)[:5]] for cap in captions]).float()
        tokens = codes[..., None] / 7.0 + torch.arange(6.0)  # (B, 5, 6)
        mask = torch.ones(len(captions), 5, dtype=torch.bool)
        return TextFeatures(tokens, mask, torch.zeros(len(captions), 6))


def test_embedding_shapes_and_padding_invariance() -> None:
    torch.manual_seed(0)
    model = ContrastiveModel(TINY).eval()
    motion = torch.randn(3, 10, 12)  # (B, T, D)
    mask = torch.arange(10) < torch.tensor([10, 6, 4])[:, None]  # (B, T)
    embedding = model.embed_motions(motion, mask)
    assert embedding.shape == (3, 8)
    truncated = model.embed_motions(motion[1:2, :6], mask[1:2, :6])
    torch.testing.assert_close(embedding[1:2], truncated, rtol=1e-5, atol=1e-5)
    tokens, token_mask = torch.randn(3, 5, 6), torch.ones(3, 5, dtype=torch.bool)
    assert model.embed_texts(tokens, token_mask).shape == (3, 8)


def test_loss_on_a_hand_computed_batch() -> None:
    text = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    motion = torch.zeros(2, 2)
    # d = [[0, 0], [5, 5]]: positives (0 + 25) / 2 = 12.5; negatives d_01 = 0, d_10 = 5.
    # margin 10: ((10 - 0)^2 + (10 - 5)^2) / 2 = 62.5 -> L = (12.5 + 62.5) / 2 = 37.5
    assert contrastive_loss(text, motion).item() == pytest.approx(37.5)
    # margin 4: (16 + 0) / 2 = 8 -> L = (12.5 + 8) / 2 = 10.25
    assert contrastive_loss(text, motion, margin=4.0).item() == pytest.approx(10.25)
    assert contrastive_loss(text[1:], motion[1:]).item() == pytest.approx(12.5)
    text.requires_grad_(True)
    contrastive_loss(text, motion).backward()
    assert torch.isfinite(text.grad).all()
    with pytest.raises(ValueError, match="both be"):
        contrastive_loss(text, motion[:1])


def test_bundle_round_trip_and_renormalisation(tmp_path) -> None:
    torch.manual_seed(0)
    model = ContrastiveModel(TINY)
    mean, std = np.linspace(-1, 1, 12).astype(np.float32), np.full(12, 0.5, np.float32)
    save_contrastive(model, mean, std, {"_target_": "unused"}, tmp_path)
    evaluator = load_contrastive(tmp_path, text_encoder=FakeTextEncoder())
    assert evaluator.feature_dim == 12 and evaluator.name == f"contrastive:{tmp_path}"
    direct = ContrastiveEvaluator(model, FakeTextEncoder(), mean, std, "direct")
    captions = ["a man walks", "someone jumps"]
    np.testing.assert_array_equal(
        evaluator.embed_texts(captions, [[], []]), direct.embed_texts(captions, [[], []])
    )
    raw = np.random.default_rng(0).normal(size=(2, 8, 12)).astype(np.float32)
    own = (raw - mean) / (std + 1e-9)
    other_mean, other_std = np.zeros(12, np.float32), np.ones(12, np.float32)
    embedded = evaluator.embed_motions(own, [8, 5], mean, std)
    assert embedded.shape == (2, 8) and embedded.dtype == np.float32
    np.testing.assert_allclose(
        evaluator.embed_motions(raw, [8, 5], other_mean, other_std - 1e-9), embedded, atol=1e-4
    )
    with pytest.raises(ValueError, match="feature dimensions"):
        evaluator.embed_motions(own, [8, 5], np.zeros(11), np.ones(11))
    with pytest.raises(ValueError, match="expects 12"):
        evaluator.embed_motions(own[..., :11], [8, 5], mean, std)
    with pytest.raises(ValueError, match="lengths"):
        evaluator.embed_motions(own, [9, 5], mean, std)


def test_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(EvaluatorFileError, match="evaluator.safetensors"):
        load_evaluator({"kind": "contrastive", "ckpt": str(tmp_path)})
    with pytest.raises(EvaluatorFileError, match="nothing.ckpt"):
        load_evaluator({"kind": "contrastive", "ckpt": str(tmp_path / "nothing.ckpt")})
    with pytest.raises(ValueError, match="kind must be one of"):
        load_evaluator({"kind": "clip"})
    with pytest.raises(ValueError, match="evaluator.ckpt"):
        load_evaluator({"kind": "contrastive", "ckpt": None})
