"""The Hydra configs: where they live (the installed wheel or the repository's top-level conf/),
plain-dict copies of composed config nodes, and components built from `_target_` configs."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra.utils import instantiate as hydra_instantiate
from omegaconf import DictConfig, OmegaConf

from remodiffuse.errors import MissingFileError

_PACKAGE_DIR = Path(__file__).resolve().parent


def config_dir() -> str:
    """Absolute path of the Hydra config directory (wheel copy first, then the source tree's)."""
    for candidate in (_PACKAGE_DIR / "conf", _PACKAGE_DIR.parents[1] / "conf"):
        if (candidate / "train.yaml").is_file():
            return str(candidate)
    raise MissingFileError(
        f"remodiffuse configs not found: looked for train.yaml in {_PACKAGE_DIR / 'conf'} "
        f"(installed wheel) and {_PACKAGE_DIR.parents[1] / 'conf'} (source checkout)"
    )


def plain_dict(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A resolved plain-dict copy of a mapping or `DictConfig` (what checkpoints store); None
    stays None."""
    if config is None:
        return None
    if isinstance(config, DictConfig):
        return OmegaConf.to_container(config, resolve=True)
    return dict(config)


def instantiate(config: Mapping[str, Any], **kwargs: Any) -> Any:
    """The component a `_target_` config (a stored one, too) describes."""
    return hydra_instantiate(config, **kwargs)
