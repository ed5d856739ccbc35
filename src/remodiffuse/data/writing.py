"""Seeded train/val/test splits of the datasets the library writes in the HumanML3D layout."""

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
