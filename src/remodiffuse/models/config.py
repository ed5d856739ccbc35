"""Hyperparameters of the Semantics-Modulated Transformer (defaults: the released size)."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from remodiffuse.errors import InputError

TextPooling = Literal["last_slot", "masked_mean"]
TEXT_POOLINGS: tuple[str, ...] = ("last_slot", "masked_mean")


@dataclass(frozen=True)
class RetrievalEncoderConfig:
    """Encoders of the retrieved samples: R^m (motion encoder, strided) and R^t (caption encoder).

    text_pooling picks R^t from the caption encoder output: "last_slot" is position L-1 (released,
    for fixed-length CLIP tokens), "masked_mean" the mean over valid tokens (variable-length ones).
    """

    num_retrieval: int = 2
    stride: int = 4
    latent_dim: int = 512
    num_heads: int = 8
    motion_num_layers: int = 2
    motion_ff_size: int = 1024
    text_num_layers: int = 2
    text_ff_size: int = 1024
    text_token_dim: int = 512
    text_pooling: TextPooling = "last_slot"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "num_retrieval",
            "stride",
            "latent_dim",
            "num_heads",
            "motion_ff_size",
            "text_ff_size",
            "text_token_dim",
        ):
            _check_int(f"retrieval.{name}", getattr(self, name), minimum=1)
        for name in ("motion_num_layers", "text_num_layers"):
            _check_int(f"retrieval.{name}", getattr(self, name), minimum=0)
        _check_heads("retrieval.latent_dim", self.latent_dim, "retrieval.num_heads", self.num_heads)
        if self.text_pooling not in TEXT_POOLINGS:
            raise InputError(
                f"retrieval.text_pooling must be one of {TEXT_POOLINGS}, got {self.text_pooling!r}"
            )
        _check_dropout("retrieval.dropout", self.dropout)


@dataclass(frozen=True)
class ModelConfig:
    """Every hyperparameter of `SemanticsModulatedTransformer`; stored beside its weights."""

    input_feats: int = 263
    max_length: int = 196
    latent_dim: int = 512
    time_embed_dim: int = 2048
    ff_size: int = 1024
    num_layers: int = 4
    num_heads: int = 8
    dropout: float = 0.0
    text_token_dim: int = 512
    text_latent_dim: int = 256
    text_num_layers: int = 2
    text_num_heads: int = 4
    text_ff_size: int = 2048
    retrieval: RetrievalEncoderConfig = field(default_factory=RetrievalEncoderConfig)

    def __post_init__(self) -> None:
        for name in (
            "input_feats",
            "max_length",
            "latent_dim",
            "time_embed_dim",
            "ff_size",
            "num_heads",
            "text_token_dim",
            "text_latent_dim",
            "text_num_heads",
            "text_ff_size",
        ):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("num_layers", "text_num_layers"):
            _check_int(name, getattr(self, name), minimum=0)
        _check_heads("latent_dim", self.latent_dim, "num_heads", self.num_heads)
        _check_heads("text_latent_dim", self.text_latent_dim, "text_num_heads", self.text_num_heads)
        _check_dropout("dropout", self.dropout)
        if not isinstance(self.retrieval, RetrievalEncoderConfig):
            raise TypeError(
                f"retrieval must be a RetrievalEncoderConfig, got {type(self.retrieval).__name__}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelConfig":
        """Build from a plain mapping (config.yaml, a checkpoint); unknown keys are an error."""
        values = dict(values)
        retrieval = values.pop("retrieval", {})
        _check_keys("model", values, cls)
        if not isinstance(retrieval, RetrievalEncoderConfig):
            _check_keys("model.retrieval", retrieval, RetrievalEncoderConfig)
            retrieval = RetrievalEncoderConfig(**retrieval)
        return cls(**values, retrieval=retrieval)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/JSON ready); `from_dict(to_dict())` gives an equal config."""
        return dataclasses.asdict(self)


def _check_keys(where: str, values: Mapping[str, Any], cls: type) -> None:
    """Raise ValueError naming keys that are not fields of the dataclass `cls`."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"unknown {where} config keys {unknown}; known keys: {sorted(known)}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_heads(width_name: str, width: int, heads_name: str, heads: int) -> None:
    if width % heads:
        raise InputError(f"{width_name}={width} is not divisible by {heads_name}={heads}")


def _check_dropout(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise InputError(f"{name} must be a probability in [0, 1), got {value!r}")
