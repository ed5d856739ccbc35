"""Shared test fixtures: composed Hydra configs and the location of ../shared."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from remodiffuse.configs import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ROOT = REPO_ROOT.parent / "shared"


def fixtures_root() -> Path:
    """Reference fixtures: $REMODIFFUSE_FIXTURES, else ../shared/fixtures beside the repository."""
    return Path(os.environ.get("REMODIFFUSE_FIXTURES", SHARED_ROOT / "fixtures"))


def shared_data_root() -> Path:
    """Real data shipped beside the repository (never copied into it)."""
    return SHARED_ROOT / "data"


def compose_train_config(directory: Path, *overrides: str) -> DictConfig:
    """The training config as Hydra composes it at run time, writing under `directory`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(directory / "run")
        cfg.paths.data_dir = str(directory / "data")
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def compose_train(tmp_path):
    """Compose the training config with overrides, writing under tmp_path."""
    yield lambda *overrides: compose_train_config(tmp_path, *overrides)
    GlobalHydra.instance().clear()


@pytest.fixture(scope="module")
def compose_train_module():
    """`compose_train_config` for module-scoped fixtures (the caller passes the directory)."""
    yield compose_train_config
    GlobalHydra.instance().clear()
