"""Render a motion .npy as a stick-figure video: `python -m remodiffuse.render input=.. out=..`."""

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.export.animation import load_motion_file, render_motion


def _absolute(path: str | None) -> str | None:
    """Resolve a path from the command line against the user's working directory."""
    return None if path is None else to_absolute_path(path)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="render")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Load `input` (joints or features), render it to `out` and print the path written."""
    joints, skeleton = load_motion_file(
        _absolute(cfg.input),
        skeleton=cfg.skeleton,
        mean=_absolute(cfg.mean),
        std=_absolute(cfg.std),
    )
    written = render_motion(
        joints, _absolute(cfg.out), skeleton=skeleton, fps=cfg.fps, title=cfg.title
    )
    print(written)


if __name__ == "__main__":
    main()
