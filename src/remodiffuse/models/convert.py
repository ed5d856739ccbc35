"""Released (official) ReMoDiffuse weights -> `SemanticsModulatedTransformer` state dicts."""

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from remodiffuse.errors import InputError, MissingFileError
from remodiffuse.models.config import ModelConfig, RetrievalEncoderConfig, TextPooling
from remodiffuse.models.transformer import SemanticsModulatedTransformer

OFFICIAL_PREFIX = "model."
IGNORED_PREFIXES = ("clip.",)

_SAME = {"": ""}
_STYLIZATION = {
    "proj_out.emb_layers.1": "stylization.emb_proj",
    "proj_out.norm": "stylization.norm",
    "proj_out.out_layers.2": "stylization.out_proj",
}
_SMA = {
    "norm": "motion_norm",
    "query": "query",
    "key_motion": "key_motion",
    "value_motion": "value_motion",
    "text_norm": "text_norm",
    "key_text": "key_text",
    "value_text": "value_text",
    "retr_norm1": "retrieval_key_norm",
    "key_retr": "key_retrieval",
    "retr_norm2": "retrieval_value_norm",
    "value_retr": "value_retrieval",
    **_STYLIZATION,
}
_FFN = {"linear1": "linear1", "linear2": "linear2", **_STYLIZATION}
_TORCH_LAYER = {
    name: name
    for name in ("self_attn", "self_attn.out_proj", "linear1", "linear2", "norm1", "norm2")
}
_SELF_ATTENTION = {name: name for name in ("norm", "query", "key", "value")}

OFFICIAL_PARAMETERS: dict[str, str] = {
    "sequence_embedding": "position_embedding",
    "database.motion_pos_embedding": "retrieval_encoder.motion_positions",
}
# (official module path, our module path, {official submodule: ours}); "" is the module itself.
OFFICIAL_MODULES: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    (r"joint_embed", "input_proj", _SAME),
    (r"time_embed", "time_embedding.mlp", {"0": "0", "2": "2"}),
    (r"text_pre_proj", "text_encoder.input_proj", _SAME),
    (r"textTransEncoder\.layers\.(\d+)", r"text_encoder.transformer.layers.\1", _TORCH_LAYER),
    (r"text_ln", "text_encoder.norm", _SAME),
    (r"temporal_decoder_blocks\.(\d+)\.ca_block", r"layers.\1.attention", _SMA),
    (r"temporal_decoder_blocks\.(\d+)\.ffn", r"layers.\1.ffn", _FFN),
    (r"out", "output_proj", _SAME),
    (r"database\.motion_proj", "retrieval_encoder.motion_proj", _SAME),
    (
        r"database\.motion_encoder_blocks\.(\d+)\.sa_block",
        r"retrieval_encoder.motion_layers.\1.attention",
        _SELF_ATTENTION,
    ),
    (
        r"database\.motion_encoder_blocks\.(\d+)\.ffn",
        r"retrieval_encoder.motion_layers.\1.ffn",
        {"linear1": "linear1", "linear2": "linear2"},
    ),
    (
        r"database\.text_encoder\.layers\.(\d+)",
        r"retrieval_encoder.text_transformer.layers.\1",
        _TORCH_LAYER,
    ),
)
_COMPILED_MODULES = tuple(
    (re.compile(rf"{pattern}(?:\.(?P<sub>.+))?"), ours, names)
    for pattern, ours, names in OFFICIAL_MODULES
)


def official_key_to_ours(key: str) -> str | None:
    """Our parameter name for an official key (without `model.`), None when no rule matches."""
    if key in OFFICIAL_PARAMETERS:
        return OFFICIAL_PARAMETERS[key]
    module, _, parameter = key.rpartition(".")
    for pattern, ours, names in _COMPILED_MODULES:
        match = pattern.fullmatch(module)
        if match is None or (match.group("sub") or "") not in names:
            continue
        sub = names[match.group("sub") or ""]
        return ".".join(part for part in (match.expand(ours), sub, parameter) if part)
    return None


def strip_official_prefix(
    state_dict: Mapping[str, torch.Tensor | np.ndarray],
) -> dict[str, torch.Tensor]:
    """Keys without the `model.` prefix, CLIP keys dropped, values as float tensors."""
    out = {}
    for key, value in state_dict.items():
        name = key.removeprefix(OFFICIAL_PREFIX)
        if name.startswith(IGNORED_PREFIXES):
            continue
        out[name] = torch.as_tensor(np.asarray(value) if isinstance(value, np.ndarray) else value)
    return out


def convert_official_state_dict(
    state_dict: Mapping[str, torch.Tensor | np.ndarray], config: ModelConfig
) -> dict[str, torch.Tensor]:
    """Rename official keys (with or without `model.`; `clip.*` ignored) to ours and check that
    every parameter of a model built from `config` is present with the right shape.
    """
    official = strip_official_prefix(state_dict)
    expected = SemanticsModulatedTransformer(config).state_dict()
    converted: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for key, value in official.items():
        name = official_key_to_ours(key)
        if name is None or name not in expected:
            unexpected.append(key)
        else:
            converted[name] = value.to(expected[name].dtype).contiguous()
    missing = sorted(set(expected) - set(converted))
    if missing or unexpected:
        raise InputError(
            "official state dict does not match the model config: "
            f"missing {missing} (our names), unexpected {sorted(unexpected)} (official names)"
        )
    wrong = [
        f"{name}: {tuple(value.shape)} vs {tuple(expected[name].shape)}"
        for name, value in converted.items()
        if value.shape != expected[name].shape
    ]
    if wrong:
        raise InputError(
            "official weights have other shapes than the model config: " + "; ".join(wrong)
        )
    return converted


def official_model_config(
    state_dict: Mapping[str, torch.Tensor | np.ndarray],
    num_heads: int = 8,
    text_num_heads: int = 4,
    retrieval_num_heads: int = 8,
    num_retrieval: int = 2,
    stride: int = 4,
    text_pooling: TextPooling = "last_slot",
) -> ModelConfig:
    """The config of an official checkpoint: widths and depths read from the weights; heads,
    retrieval count, stride and pooling (not visible in the weights) given (released defaults).
    """
    weights = strip_official_prefix(state_dict)

    def shape(key: str) -> tuple[int, ...]:
        if key not in weights:
            raise InputError(f"official state dict has no {key!r} (is it a ReMoDiffuse model?)")
        return tuple(weights[key].shape)

    def depth(pattern: str) -> int:
        return len({m.group(1) for k in weights if (m := re.match(pattern, k))})

    latent_dim, input_feats = shape("joint_embed.weight")
    text_latent_dim, text_token_dim = shape("text_pre_proj.weight")
    retrieval_latent_dim = shape("database.motion_proj.weight")[0]
    return ModelConfig(
        input_feats=input_feats,
        max_length=shape("sequence_embedding")[0],
        latent_dim=latent_dim,
        time_embed_dim=shape("time_embed.0.weight")[0],
        ff_size=shape("temporal_decoder_blocks.0.ffn.linear1.weight")[0],
        num_layers=depth(r"temporal_decoder_blocks\.(\d+)\."),
        num_heads=num_heads,
        dropout=0.0,
        text_token_dim=text_token_dim,
        text_latent_dim=text_latent_dim,
        text_num_layers=depth(r"textTransEncoder\.layers\.(\d+)\."),
        text_num_heads=text_num_heads,
        text_ff_size=shape("textTransEncoder.layers.0.linear1.weight")[0],
        retrieval=RetrievalEncoderConfig(
            num_retrieval=num_retrieval,
            stride=stride,
            latent_dim=retrieval_latent_dim,
            num_heads=retrieval_num_heads,
            motion_num_layers=depth(r"database\.motion_encoder_blocks\.(\d+)\."),
            motion_ff_size=shape("database.motion_encoder_blocks.0.ffn.linear1.weight")[0],
            text_num_layers=depth(r"database\.text_encoder\.layers\.(\d+)\."),
            text_ff_size=shape("database.text_encoder.layers.0.linear1.weight")[0],
            text_token_dim=retrieval_latent_dim,
            text_pooling=text_pooling,
            dropout=0.0,
        ),
    )


def load_official_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Official weights from a released `.pth` (its `state_dict`, loaded with weights_only) or an
    `.npz` of arrays named by official keys.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"checkpoint={path}: no such file")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                return {key: torch.from_numpy(arrays[key]) for key in arrays.files}
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise InputError(
            f"{path}: not a readable checkpoint ({type(error).__name__}: {error})"
        ) from None
    state_dict = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state_dict, Mapping):
        raise InputError(f"{path} holds no state dict (found {type(state_dict).__name__})")
    return dict(state_dict)
