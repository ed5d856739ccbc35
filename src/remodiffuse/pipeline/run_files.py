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
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from remodiffuse.configs import plain_dict
from remodiffuse.errors import InputError
from remodiffuse.files import atomic_directory, atomic_path, output_lock, save_array, write_text
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
    """Write the weights and config.yaml = {model: config, **extra} into `directory`, each
    atomically, config.yaml last."""
    directory = Path(directory)
    tensors = {name: value.detach().cpu().contiguous() for name, value in state_dict.items()}
    with atomic_path(directory / WEIGHTS_FILE) as temporary:
        save_file(tensors, str(temporary))
    content = {"model": config.to_dict(), **(extra or {})}
    write_text(directory / CONFIG_FILE, OmegaConf.to_yaml(OmegaConf.create(content)))


def save_statistics(directory: str | Path, mean: np.ndarray, std: np.ndarray) -> None:
    """Write the (D,) normalisation of a run or database as mean.npy and std.npy."""
    for name, values in zip(STATISTICS_FILES, (mean, std), strict=True):
        save_array(Path(directory) / name, np.asarray(values, dtype=np.float32))


def load_statistics(directory: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, std) saved by `save_statistics`, or None when the directory has none; InputError
    unless both are finite (D,) vectors and std is positive."""
    paths = [Path(directory) / name for name in STATISTICS_FILES]
    if not all(path.is_file() for path in paths):
        return None
    mean, std = (read_statistic(path) for path in paths)
    check_statistics(mean, std, paths[1])
    return mean, std


def read_statistic(path: Path) -> np.ndarray:
    """A (D,) float vector from a .npy file; InputError naming the file otherwise."""
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise InputError(f"{path}: not a readable .npy array ({error})") from None
    if values.ndim != 1 or values.dtype.kind != "f" or not np.isfinite(values).all():
        raise InputError(
            f"{path}: expected a finite float vector (D,), got {values.dtype}{list(values.shape)}"
            + ("" if values.dtype.kind != "f" else " with non-finite values")
        )
    return values


def check_statistics(mean: np.ndarray, std: np.ndarray, std_path: str | Path) -> None:
    """InputError unless mean and std have one shape and every std is positive."""
    if mean.shape != std.shape:
        raise InputError(f"{std_path}: std has shape {std.shape} but mean has {mean.shape}")
    bad = np.flatnonzero(~(std > 0))
    if bad.size:
        raise InputError(
            f"{std_path}: std must be positive in every channel, got {std[bad[0]]} in channel "
            f"{bad[0]} ({bad.size} channels not positive); normalising would divide by zero"
        )


def save_database(
    database: RetrievalDatabase, directory: str | Path, mean: np.ndarray, std: np.ndarray
) -> None:
    """Save a database with the (D,) normalisation its motions are stored in: built beside
    `directory` (statistics first, manifest last) and swapped in whole, under a lock."""
    with output_lock(directory), atomic_directory(directory) as staging:
        save_statistics(staging, mean, std)
        database.write_files(staging)


def load_run(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[SemanticsModulatedTransformer, dict[str, Any], Path]:
    """(model in eval mode, inference config, run directory) from a run dir or a Lightning .ckpt.

    A run directory holds model.safetensors + config.yaml (written when training ends) or
    checkpoints/last.ckpt; a .ckpt inside <run>/checkpoints/ takes mean/std/database from <run>.
    """
    path = Path(path).expanduser()
    if path.is_dir() and (path / WEIGHTS_FILE).is_file():
        config = _read_config(path / CONFIG_FILE)
        state = _read_weights(path / WEIGHTS_FILE)
        run_dir = path
    else:
        checkpoint_path = path / LAST_CHECKPOINT if path.is_dir() else path
        if not checkpoint_path.is_file():
            raise InputError(
                f"no trained model at {path}: expected a run directory with {WEIGHTS_FILE} and "
                f"{CONFIG_FILE} (or {LAST_CHECKPOINT}), or a Lightning .ckpt file"
            )
        config, state = _read_lightning_checkpoint(checkpoint_path)
        parent = checkpoint_path.parent
        run_dir = parent.parent if parent.name == "checkpoints" else parent
    model = _model_of(config, path)
    _check_state(model, state, path)
    model.load_state_dict(state)
    return model.to(device).eval(), config, run_dir


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path} is missing: a run directory needs it beside {WEIGHTS_FILE}")
    try:
        config = plain_dict(OmegaConf.load(path))
    except Exception as error:  # noqa: BLE001 -- any parse failure is a bad file
        raise InputError(f"{path}: not a readable YAML run config ({error})") from None
    if not isinstance(config, dict) or "model" not in config:
        raise InputError(f"{path}: not a remodiffuse run config (it has no 'model' section)")
    return config


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise InputError(
            f"{path}: unreadable safetensors file, truncated or corrupt ({error}); "
            "retrain or copy the run again"
        ) from None


def _model_of(config: Mapping[str, Any], path: Path) -> SemanticsModulatedTransformer:
    try:
        return SemanticsModulatedTransformer(ModelConfig.from_dict(config["model"]))
    except (TypeError, ValueError, KeyError) as error:
        raise InputError(f"{path}: the stored model config is not usable ({error})") from None


def _check_state(
    model: SemanticsModulatedTransformer, state: Mapping[str, torch.Tensor], path: Path
) -> None:
    """InputError naming the missing, unexpected and differently sized tensors, if any."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    resized = [
        f"{name} {tuple(state[name].shape)} vs {tuple(expected[name].shape)} in the config"
        for name in sorted(set(state) & set(expected))
        if state[name].shape != expected[name].shape
    ]
    problems = [
        f"{label}: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
        for label, names in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("sizes differ", resized),
        )
        if names
    ]
    if problems:
        raise InputError(
            f"{path}: the weights do not fit the stored model config ({'; '.join(problems)})"
        )


def _read_lightning_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Inference config and model weights of a DiffusionStage checkpoint (loaded weights-only)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        hparams = checkpoint["hyper_parameters"]
        config = {key: hparams[key] for key in ("model", "diffusion", "text_encoder", "retrieval")}
    except (KeyError, TypeError, RuntimeError, EOFError, OSError, pickle.UnpicklingError) as error:
        raise InputError(
            f"{path} is not a remodiffuse diffusion checkpoint: expected a run directory or a "
            f"Lightning .ckpt of one ({type(error).__name__}: {error})"
        ) from None
    data = checkpoint.get("datamodule_hyper_parameters", {})
    config["dataset"] = {
        key: data.get(key) for key in ("name", "skeleton", "fps", "min_length", "max_length")
    }
    prefix = "model."
    state = {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }
    return config, state
