"""The TextEncoder contract: caption checks, frozen eval mode, batching, Hydra construction."""

import hydra
import pytest
import torch

from remodiffuse.text import MiniLMTextEncoder, build_text_encoder, check_captions


@pytest.mark.parametrize("bad", ["", "   ", "\t\n"])
def test_blank_caption_is_rejected_by_index(minilm, bad):
    with pytest.raises(ValueError, match="caption 2 is empty or whitespace-only"):
        minilm.encode(["a person walks", "a person runs", bad])


def test_no_captions_is_rejected():
    with pytest.raises(ValueError, match="no captions"):
        check_captions([])


def test_encoder_is_frozen_and_stays_in_eval_mode(minilm):
    minilm.train()
    assert not minilm.training and not minilm.model.training
    assert not any(p.requires_grad for p in minilm.parameters())


def test_batching_does_not_change_features(minilm):
    captions = ["a man walks forward slowly and then turns around", "jump", "a person waves"]
    whole = minilm.encode(captions)
    batched = minilm.encode(captions, batch_size=1)
    assert whole.tokens.shape == batched.tokens.shape
    assert torch.equal(whole.mask, batched.mask)
    torch.testing.assert_close(batched.tokens, whole.tokens, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(batched.sentence, whole.sentence, atol=1e-5, rtol=1e-4)


def test_hydra_group_builds_the_encoder(compose_train):
    cfg = compose_train("text_encoder=minilm")
    encoder = hydra.utils.instantiate(cfg.text_encoder)
    assert isinstance(encoder, MiniLMTextEncoder)
    assert (encoder.token_dim, encoder.sentence_dim) == (384, 384)
    assert encoder.max_tokens == cfg.text_encoder.max_tokens == 77


def test_declared_width_must_match():
    with pytest.raises(ValueError, match="token_dim=512 but the minilm encoder gives 384"):
        build_text_encoder("minilm", token_dim=512, sentence_dim=384)


def test_unknown_encoder_name():
    with pytest.raises(ValueError, match="unknown text encoder 'bert'"):
        build_text_encoder("bert")
