"""Convert a BVH to FBX with headless Blender: `python -m remodiffuse.export_fbx bvh=.. out=..`."""

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.export.fbx import bvh_to_fbx


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="export_fbx")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Convert `bvh` to `out` (default: beside it) and print the path written."""
    out = None if cfg.out is None else to_absolute_path(cfg.out)
    print(bvh_to_fbx(to_absolute_path(cfg.bvh), out))


if __name__ == "__main__":
    main()
