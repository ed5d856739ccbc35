"""A run directory: the files training writes and inference reads, and `load_run`.

<run>/model.safetensors + config.yaml (written when training ends), mean.npy + std.npy (the
normalisation), database/ (the retrieval database with its own mean.npy + std.npy) and
checkpoints/*.ckpt (Lightning).
"""

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

from remodiffuse.configs import plain_dict
from remodiffuse.models import ModelConfig, SemanticsModulatedTransformer
from remodiffuse.retrieval import RetrievalDatabase

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"
DATABASE_DIR = "database"
STATISTICS_FILES = ("mean.npy", "std.npy")
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"


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


def save_statistics(directory: str | Path, mean: np.ndarray, std: np.ndarray) -> None:
    """Write the (D,) normalisation of a run or database as mean.npy and std.npy."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, values in zip(STATISTICS_FILES, (mean, std), strict=True):
        np.save(directory / name, np.asarray(values, dtype=np.float32))


def load_statistics(directory: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, std) saved by `save_statistics`, or None when the directory has none."""
    paths = [Path(directory) / name for name in STATISTICS_FILES]
    if not all(path.is_file() for path in paths):
        return None
    mean, std = (np.load(path) for path in paths)
    return mean, std


def save_database(
    database: RetrievalDatabase, directory: str | Path, mean: np.ndarray, std: np.ndarray
) -> None:
    """Save a database with the (D,) normalisation its motions are stored in."""
    database.save(directory)
    save_statistics(directory, mean, std)


def load_run(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[SemanticsModulatedTransformer, dict[str, Any], Path]:
    """(model in eval mode, inference config, run directory) from a run dir or a Lightning .ckpt.

    A run directory holds model.safetensors + config.yaml (written when training ends) or
    checkpoints/last.ckpt; a .ckpt inside <run>/checkpoints/ takes mean/std/database from <run>.
    """
    path = Path(path).expanduser()
    if path.is_dir() and (path / WEIGHTS_FILE).is_file():
        config = plain_dict(OmegaConf.load(path / CONFIG_FILE))
        state = load_file(str(path / WEIGHTS_FILE))
        run_dir = path
    else:
        checkpoint_path = path / LAST_CHECKPOINT if path.is_dir() else path
        if not checkpoint_path.is_file():
            raise FileNotFoundError(
                f"no trained model at {path}: expected a run directory with {WEIGHTS_FILE} and "
                f"{CONFIG_FILE} (or {LAST_CHECKPOINT}), or a Lightning .ckpt file"
            )
        config, state = _read_lightning_checkpoint(checkpoint_path)
        parent = checkpoint_path.parent
        run_dir = parent.parent if parent.name == "checkpoints" else parent
    model = SemanticsModulatedTransformer(ModelConfig.from_dict(config["model"]))
    model.load_state_dict(state)
    return model.to(device).eval(), config, run_dir


def _read_lightning_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Inference config and model weights of a DiffusionStage checkpoint (loaded weights-only)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        hparams = checkpoint["hyper_parameters"]
        config = {key: hparams[key] for key in ("model", "diffusion", "text_encoder", "retrieval")}
    except (KeyError, TypeError, RuntimeError, EOFError, OSError, pickle.UnpicklingError) as error:
        raise ValueError(f"{path} is not a remodiffuse diffusion checkpoint: {error}") from error
    data = checkpoint.get("datamodule_hyper_parameters", {})
    config["dataset"] = {
        key: data.get(key) for key in ("name", "skeleton", "fps", "min_length", "max_length")
    }
    prefix = "model."
    state = {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }
    return config, state
