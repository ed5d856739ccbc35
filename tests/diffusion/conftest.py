"""Fixtures of the diffusion tests: the official ReMoDiffuse numerics (../shared/fixtures)."""

import numpy as np
import pytest


def _arrays(path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="session")
def official_outputs(require_fixture) -> dict[str, np.ndarray]:
    """outputs.npz of the official model run."""
    return _arrays(require_fixture("fixtures", "official-remodiffuse", "outputs.npz"))


@pytest.fixture(scope="session")
def official_inputs(require_fixture) -> dict[str, np.ndarray]:
    """inputs.npz of the official model run."""
    return _arrays(require_fixture("fixtures", "official-remodiffuse", "inputs.npz"))
