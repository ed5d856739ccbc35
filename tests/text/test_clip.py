"""open_clip ViT-B/32 text encoder: real architecture at seeded random weights; weight lookup."""

import time

import hydra
import open_clip
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from remodiffuse.text import ClipTextEncoder, MissingWeightsError, resolve_clip_weights
from remodiffuse.text.clip_weights import _read_state_dict
from remodiffuse.text.identity import file_sha256

CAPTIONS = ["a person walks forward", "a man jumps twice and then sits down", "waving"]


@pytest.fixture(scope="module")
def clip():
    """ViT-B/32 with random weights, built once for the module."""
    return ClipTextEncoder(pretrained="openai", cache_dir="/nonexistent", allow_random_init=True)


def test_shapes_mask_and_unit_sentence(clip):
    features = clip.encode(CAPTIONS)
    assert features.tokens.shape == (3, 77, 512) and features.tokens.dtype == torch.float32
    assert features.mask.shape == (3, 77) and features.mask.all()
    assert features.sentence.shape == (3, 512)
    torch.testing.assert_close(features.sentence.norm(dim=-1), torch.ones(3))
    assert (clip.token_dim, clip.sentence_dim, clip.max_tokens) == (512, 512, 77)


def test_captions_longer_than_the_context_are_reported(clip):
    words = ["walk"] * 75  # 75 word tokens + start + end = 77: still fits
    assert clip.token_count(" ".join(words)) == 77
    assert clip.truncated([" ".join(words), " ".join([*words, "fast"])]) == [1]


def test_tokens_are_ln_final_output_and_sentence_is_encode_text(clip):
    captured = []
    hook = clip.clip.ln_final.register_forward_hook(lambda m, i, out: captured.append(out))
    try:
        features = clip.encode(CAPTIONS)
        ids = open_clip.tokenize(CAPTIONS)
        with torch.no_grad():
            projected = clip.clip.encode_text(ids)  # (B, 512)
    finally:
        hook.remove()
    torch.testing.assert_close(features.tokens, captured[0])
    torch.testing.assert_close(features.sentence, F.normalize(projected, dim=-1))


def test_frozen_fp32_without_image_tower(clip):
    assert not hasattr(clip.clip, "visual")
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in clip.parameters())
    assert clip.clip.transformer.resblocks[0].mlp.gelu.__class__.__name__ == "QuickGELU"


def test_random_init_is_seeded_and_named(clip, compose_train):
    cfg = compose_train(
        "text_encoder=clip",
        "text_encoder.allow_random_init=true",
        "text_encoder.cache_dir=/nonexistent",
    )
    again = hydra.utils.instantiate(cfg.text_encoder)
    assert again.identity == clip.identity
    assert clip.identity["weights"] == "random-init:seed=0"
    torch.testing.assert_close(again.encode(CAPTIONS).sentence, clip.encode(CAPTIONS).sentence)


def test_uncached_tag_fails_fast_with_instructions(tmp_path, no_network):
    start = time.monotonic()
    with pytest.raises(MissingWeightsError) as error:
        ClipTextEncoder(pretrained="openai", cache_dir=str(tmp_path))
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert "not cached on this machine" in message
    assert "open_clip.create_model('ViT-B-32', pretrained='openai'" in message
    assert "text_encoder.pretrained=/path/to/ViT-B-32.pt" in message
    assert str(tmp_path) in message


def test_missing_file_fails_with_instructions(tmp_path, no_network):
    missing = tmp_path / "ViT-B-32.pt"
    with pytest.raises(MissingWeightsError, match="does not exist") as error:
        ClipTextEncoder(pretrained=str(missing))
    assert str(missing) in str(error.value)
    assert "text_encoder.pretrained=" in str(error.value)


def test_unknown_tag_lists_known_tags(tmp_path):
    with pytest.raises(MissingWeightsError, match="known tags: openai"):
        resolve_clip_weights("ViT-B-32", "opneai", cache_dir=str(tmp_path))


def test_tag_found_in_hub_cache_then_url_cache(tmp_path):
    url_file = tmp_path / "ViT-B-32.pt"
    url_file.touch()
    assert resolve_clip_weights("ViT-B-32", "openai", cache_dir=str(tmp_path)) == url_file
    repo = tmp_path / "models--timm--vit_base_patch32_clip_224.openai"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    hub_file = repo / "snapshots" / "abc123" / "open_clip_model.safetensors"
    hub_file.parent.mkdir(parents=True)
    hub_file.touch()
    assert resolve_clip_weights("ViT-B-32", "openai", cache_dir=str(tmp_path)) == hub_file


def test_loads_text_weights_from_local_file(clip, tmp_path):
    state = {k: v.clone() for k, v in clip.clip.state_dict().items() if k != "logit_scale"}
    state["ln_final.weight"] *= 2  # ln_final bias is zero at init: tokens double
    path = tmp_path / "text.safetensors"
    save_file(state, str(path))
    loaded = ClipTextEncoder(pretrained=str(path))
    assert loaded.identity["weights"] == f"sha256:{file_sha256(path)}"
    assert loaded.quick_gelu
    torch.testing.assert_close(loaded.encode(CAPTIONS).tokens, 2 * clip.encode(CAPTIONS).tokens)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="not a checkpoint of this CLIP architecture"):
        ClipTextEncoder(pretrained=str(path))


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_archive_is_read_like_openai_checkpoints(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(path))
    assert set(_read_state_dict(path)) == {"weight", "bias"}
    with pytest.raises(ValueError, match="not a checkpoint of this CLIP architecture"):
        ClipTextEncoder(pretrained=str(path))
