"""open_clip CLIP text tower, frozen fp32: ln_final token features, projected sentence features."""

import logging
from functools import cached_property
from typing import Any

import open_clip
import torch
import torch.nn.functional as F
from open_clip.transformer import text_global_pool

from remodiffuse.errors import InputError
from remodiffuse.text.clip_weights import (
    MissingWeightsError,
    load_clip_text_weights,
    resolve_clip_weights,
)
from remodiffuse.text.encoder import TextEncoder, TextFeatures
from remodiffuse.text.identity import file_sha256

log = logging.getLogger(__name__)

RANDOM_INIT_SEED = 0
_NON_CLASSIC_TEXT = {"hf_model_name", "hf_tokenizer_name", "proj_type", "proj_bias"}


class ClipTextEncoder(TextEncoder):
    """CLIP text encoder as the released ReMoDiffuse models consume it (all context positions)."""

    name = "clip"

    def __init__(
        self,
        architecture: str = "ViT-B-32",
        pretrained: str = "openai",
        cache_dir: str | None = None,
        quick_gelu: bool | None = None,
        allow_random_init: bool = False,
    ) -> None:
        """`pretrained` is an open_clip tag found in the local cache or a checkpoint file path.

        quick_gelu=None takes it from the tag (True for "openai"), and True for a file path.
        """
        super().__init__()
        model_cfg = _text_clip_config(architecture)
        try:
            self.weights_path = resolve_clip_weights(architecture, pretrained, cache_dir)
        except MissingWeightsError:
            if not allow_random_init:
                raise
            log.warning("CLIP %s built with RANDOM weights (allow_random_init=true)", architecture)
            self.weights_path = None
        if quick_gelu is None:
            tag = open_clip.get_pretrained_cfg(architecture, pretrained)
            quick_gelu = tag.get("quick_gelu", False) if tag else True
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_INIT_SEED)
            self.clip = open_clip.CLIP(**model_cfg, quick_gelu=quick_gelu)
        del self.clip.visual  # the image tower is never used
        if self.weights_path is not None:
            load_clip_text_weights(self.clip, self.weights_path)
        self.architecture = architecture
        self.quick_gelu = quick_gelu
        self.tokenizer = open_clip.SimpleTokenizer(context_length=self.clip.context_length)
        self.freeze()

    @property
    def token_dim(self) -> int:
        return self.clip.ln_final.normalized_shape[0]

    @property
    def sentence_dim(self) -> int:
        return self.clip.text_projection.shape[1]

    @property
    def max_tokens(self) -> int:
        return self.clip.context_length

    @cached_property
    def identity(self) -> dict[str, Any]:
        if self.weights_path is None:
            weights = f"random-init:seed={RANDOM_INIT_SEED}"
        else:
            weights = f"sha256:{file_sha256(self.weights_path)}"
        return {
            "name": self.name,
            "architecture": self.architecture,
            "weights": weights,
            "quick_gelu": self.quick_gelu,
            "max_tokens": self.max_tokens,
            "tokens": "ln_final",
            "open_clip": open_clip.__version__,
            "torch": torch.__version__,
        }

    def token_count(self, caption: str) -> int:
        return len(self.tokenizer.encode(caption)) + 2  # with the start and end tokens

    def forward(self, captions: list[str]) -> TextFeatures:
        clip = self.clip
        ids = self.tokenizer(captions).to(self.device)  # (B, L)
        x = clip.token_embedding(ids) + clip.positional_embedding  # (B, L, D)
        x = clip.transformer(x, attn_mask=clip.attn_mask)  # (B, L, D)
        tokens = clip.ln_final(x)  # (B, L, D)
        pooled = text_global_pool(tokens, ids, clip.text_pool_type, clip.text_eos_id)  # (B, D)
        sentence = pooled @ clip.text_projection  # (B, Ds)
        mask = torch.ones(ids.shape, dtype=torch.bool, device=ids.device)  # (B, L)
        return TextFeatures(tokens=tokens, mask=mask, sentence=F.normalize(sentence, dim=-1))


def _text_clip_config(architecture: str) -> dict[str, Any]:
    """open_clip's built-in config of a CLIP whose text tower is the classic transformer."""
    model_cfg = open_clip.get_model_config(architecture)
    classic = model_cfg is not None and not model_cfg.get("custom_text")
    if not classic or _NON_CLASSIC_TEXT & model_cfg["text_cfg"].keys():
        raise InputError(
            f"architecture {architecture!r} is not a built-in open_clip CLIP with the classic text "
            "transformer (e.g. ViT-B-32)"
        )
    return model_cfg
