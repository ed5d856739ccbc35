"""Inference checkpoints: `model.safetensors` + `config.yaml` (the model config under `model`)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

from remodiffuse.models.config import ModelConfig
from remodiffuse.models.transformer import SemanticsModulatedTransformer

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"


def save_pretrained(
    state_dict: Mapping[str, torch.Tensor],
    config: ModelConfig,
    directory: str | Path,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the weights and config.yaml = {model: config, **extra} into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.detach().cpu().contiguous() for name, value in state_dict.items()}
    save_file(tensors, str(directory / WEIGHTS_FILE))
    content = {"model": config.to_dict(), **(extra or {})}
    OmegaConf.save(OmegaConf.create(content), directory / CONFIG_FILE)


def load_pretrained(
    directory: str | Path, device: torch.device | str = "cpu"
) -> SemanticsModulatedTransformer:
    """The model saved by `save_pretrained`, in eval mode on `device`."""
    directory = Path(directory)
    content = OmegaConf.to_container(OmegaConf.load(directory / CONFIG_FILE), resolve=True)
    model = SemanticsModulatedTransformer(ModelConfig.from_dict(content["model"]))
    model.load_state_dict(load_file(str(directory / WEIGHTS_FILE), device=str(device)))
    return model.to(device).eval()
