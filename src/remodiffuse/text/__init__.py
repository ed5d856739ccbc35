"""Frozen text encoders (CLIP, MiniLM) and the on-disk cache of their caption features."""

from remodiffuse.text.build import TEXT_ENCODERS, build_text_encoder
from remodiffuse.text.cache import CachedTextFeatures, cache_path, cached_text_features
from remodiffuse.text.clip import ClipTextEncoder
from remodiffuse.text.clip_weights import MissingWeightsError, resolve_clip_weights
from remodiffuse.text.encoder import TextEncoder, TextFeatures, check_captions
from remodiffuse.text.minilm import MiniLMTextEncoder

__all__ = [
    "TEXT_ENCODERS",
    "CachedTextFeatures",
    "ClipTextEncoder",
    "MiniLMTextEncoder",
    "MissingWeightsError",
    "TextEncoder",
    "TextFeatures",
    "build_text_encoder",
    "cache_path",
    "cached_text_features",
    "check_captions",
    "resolve_clip_weights",
]
