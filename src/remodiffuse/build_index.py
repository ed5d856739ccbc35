"""Build a retrieval database: `python -m remodiffuse.build_index dataset=... out_dir=DIR`."""

import time

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.pipeline import save_database
from remodiffuse.stages.conditioning import build_database


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="build_index")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Encode the train split's captions (cached), index them, save, and show example queries."""
    datamodule = hydra.utils.instantiate(cfg.dataset)
    datamodule.prepare_data()
    datamodule.setup("fit")
    started = time.perf_counter()
    database = build_database(
        datamodule.datasets["train"],
        hydra.utils.instantiate(cfg.text_encoder),
        cfg.paths.cache_dir,
        hydra.utils.instantiate(cfg.retrieval),
    )
    out_dir = to_absolute_path(cfg.out_dir)
    save_database(database, out_dir, datamodule.mean, datamodule.std)
    print(
        f"retrieval database: {len(database)} captions, "
        f"{len(set(database.ids.tolist()))} motions, built in "
        f"{time.perf_counter() - started:.1f} s, saved to {out_dir}"
    )
    for entry in range(min(cfg.examples, len(database))):
        neighbours = database.neighbours_of([entry])[0]
        print(f"\n{str(database.captions[entry])!r} ({database.lengths[entry]} frames) retrieves:")
        for index in neighbours:
            print(f"  {str(database.captions[index])!r} ({database.lengths[index]} frames)")


if __name__ == "__main__":
    main()
