"""Import mocap takes into a HumanML3D-layout dataset:
`python -m remodiffuse.prepare input=PATH out_dir=DIR [captions=FILE] [joint_map=YAML]`."""

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.io.importer import format_summary, prepare_dataset
from remodiffuse.io.joint_map import BUILTIN_JOINT_MAPS


def _path(value: str | None) -> str | None:
    """A path option resolved against the launch directory (None stays None)."""
    return None if value is None else to_absolute_path(str(value))


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="prepare")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Import every .bvh / .amc take under `input`, write the dataset and report.json."""
    joint_map = cfg.joint_map
    if joint_map is not None and str(joint_map) not in BUILTIN_JOINT_MAPS:
        joint_map = _path(joint_map)
    stats = cfg.stats if str(cfg.stats) == "own" else _path(cfg.stats)
    out_dir = _path(cfg.out_dir)
    report = prepare_dataset(
        _path(cfg.input),
        out_dir,
        captions=_path(cfg.captions),
        joint_map=joint_map,
        fps=float(cfg.fps),
        amc_fps=float(cfg.amc_fps),
        up_axis=str(cfg.up_axis),
        drop_first_frame=cfg.drop_first_frame,
        stats=stats,
        seed=int(cfg.seed),
    )
    print(format_summary(report, out_dir))


if __name__ == "__main__":
    main()
