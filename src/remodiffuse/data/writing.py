"""Helpers for writing datasets in the HumanML3D layout: seeded splits and atomic replacement."""

import os
import shutil
from pathlib import Path

import numpy as np

SPLIT_FRACTIONS = {"train": 0.8, "val": 0.05, "test": 0.15}


def split_ids(ids: list[str], rng: np.random.Generator) -> dict[str, list[str]]:
    """Seeded 80/5/15 train/val/test split of `ids` (one id goes to train); lists sorted."""
    order = [ids[i] for i in rng.permutation(len(ids))]
    n_train = round(SPLIT_FRACTIONS["train"] * len(ids))
    n_val = round(SPLIT_FRACTIONS["val"] * len(ids))
    parts = {
        "train": order[:n_train],
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }
    return {name: sorted(part) for name, part in parts.items()}


def replace_directory(source: Path, target: Path) -> None:
    """Move the finished `source` to `target`, replacing an existing `target` (two renames)."""
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(retired)
        source.rename(target)
        shutil.rmtree(retired)
    else:
        source.rename(target)
