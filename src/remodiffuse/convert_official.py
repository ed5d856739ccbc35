"""Convert a released ReMoDiffuse checkpoint (+ database): `python -m remodiffuse.convert_official
checkpoint=t2m.pth database=t2m_text_train.npz out_dir=converted/t2m`.
"""

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir, plain_dict
from remodiffuse.errors import InputError
from remodiffuse.models import (
    SemanticsModulatedTransformer,
    convert_official_state_dict,
    load_official_checkpoint,
    official_model_config,
)
from remodiffuse.models.official_database import load_official_database
from remodiffuse.pipeline import save_pretrained
from remodiffuse.retrieval import RetrievalConfig

log = logging.getLogger(__name__)
DATABASE_DIR = "database"


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="convert_official")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Write model.safetensors, config.yaml and (with `database=`) database/ into out_dir."""
    official = cfg.official
    weights = load_official_checkpoint(cfg.checkpoint)
    config = official_model_config(
        weights,
        num_heads=official.num_heads,
        text_num_heads=official.text_num_heads,
        retrieval_num_heads=official.retrieval_num_heads,
        num_retrieval=official.num_retrieval,
        stride=official.stride,
        text_pooling=official.text_pooling,
    )
    model = SemanticsModulatedTransformer(config)
    model.load_state_dict(convert_official_state_dict(weights, config))
    out_dir = Path(cfg.out_dir)
    extra = {
        "text_encoder": plain_dict(cfg.text_encoder),
        "retrieval": {
            "num_retrieval": official.num_retrieval,
            "stride": official.stride,
            "lam": official.kinematic_coef,
        },
        "database": DATABASE_DIR if cfg.database is not None else None,
    }
    save_pretrained(model.state_dict(), config, out_dir, extra)
    log.info("wrote %s (%d parameters)", out_dir, sum(p.numel() for p in model.parameters()))
    if cfg.database is not None:
        database = load_official_database(
            cfg.database,
            RetrievalConfig(num_retrieval=official.num_retrieval, lam=official.kinematic_coef),
            _encoder_identity(cfg),
        )
        database.save(out_dir / DATABASE_DIR)
        log.info("wrote %s (%d entries)", out_dir / DATABASE_DIR, len(database))


def _encoder_identity(cfg: DictConfig) -> dict | None:
    """The configured text encoder's identity when asked for (needs its weights), else None."""
    if cfg.database_identity == "official":
        return None
    if cfg.database_identity == "text_encoder":
        return hydra.utils.instantiate(cfg.text_encoder).identity
    raise InputError(
        f"database_identity must be 'official' or 'text_encoder', got {cfg.database_identity!r}"
    )


if __name__ == "__main__":
    main()
