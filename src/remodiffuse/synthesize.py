"""Generate the synthetic dataset: `python -m remodiffuse.synthesize out_dir=.. num_motions=..`."""

import time

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.data.synthetic import (
    ensure_synthetic_dataset,
    generate_synthetic_dataset,
    read_metadata,
)
from remodiffuse.options import MAX_SEED, whole_number


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="synthesize")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Write (or reuse) the dataset at `out_dir`; print its path and a short summary."""
    start = time.perf_counter()
    root = to_absolute_path(cfg.out_dir)
    num_motions = whole_number("num_motions", cfg.num_motions, 1)
    seed = whole_number("seed", cfg.seed, 0, MAX_SEED)
    before = read_metadata(root)
    if cfg.force:
        path = generate_synthetic_dataset(root, num_motions, seed)
    else:
        path = ensure_synthetic_dataset(root, num_motions, seed)
    metadata = read_metadata(path) or {}
    sizes = metadata.get("splits", {})
    splits = ", ".join(f"{name} {sizes.get(name, 0)}" for name in ("train", "val", "test"))
    action = "reused" if before == metadata and not cfg.force else "generated"
    print(path)
    print(
        f"{action} {metadata.get('num_motions')} motions (seed {metadata.get('seed')}): {splits}; "
        f"motions rejected by the physical checks and redrawn: {metadata.get('rejected')}; "
        f"{time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
