"""Fixtures of the diffusion tests: the official ReMoDiffuse numerics (skipped when absent)."""

import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def _official_dir() -> Path:
    root = Path(os.environ.get("REMODIFFUSE_FIXTURES", SHARED / "fixtures"))
    path = root / "official-remodiffuse"
    if not (path / "outputs.npz").is_file():
        pytest.skip(f"official fixtures not found in {path} (set REMODIFFUSE_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def official_outputs() -> dict[str, np.ndarray]:
    """outputs.npz of the official model run."""
    with np.load(_official_dir() / "outputs.npz") as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="session")
def official_inputs() -> dict[str, np.ndarray]:
    """inputs.npz of the official model run."""
    with np.load(_official_dir() / "inputs.npz") as data:
        return {name: data[name] for name in data.files}
