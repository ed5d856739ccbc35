"""Building a text encoder from its Hydra group (conf/text_encoder/*.yaml)."""

from typing import Any

from remodiffuse.errors import InputError
from remodiffuse.text.clip import ClipTextEncoder
from remodiffuse.text.encoder import TextEncoder
from remodiffuse.text.minilm import MiniLMTextEncoder

TEXT_ENCODERS: dict[str, type[TextEncoder]] = {
    "clip": ClipTextEncoder,
    "minilm": MiniLMTextEncoder,
}


def build_text_encoder(
    name: str, token_dim: int | None = None, sentence_dim: int | None = None, **kwargs: Any
) -> TextEncoder:
    """Build the encoder registered as `name` and check the widths the config promises."""
    if name not in TEXT_ENCODERS:
        raise InputError(f"unknown text encoder {name!r}; choose one of {sorted(TEXT_ENCODERS)}")
    encoder = TEXT_ENCODERS[name](**kwargs)
    for key, declared, actual in (
        ("token_dim", token_dim, encoder.token_dim),
        ("sentence_dim", sentence_dim, encoder.sentence_dim),
    ):
        if declared is not None and declared != actual:
            raise InputError(f"text_encoder.{key}={declared} but the {name} encoder gives {actual}")
    return encoder
