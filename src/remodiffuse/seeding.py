"""Random streams derived from integer keys, so a run's randomness depends only on where it is.

Training draws each step's randomness from (seed, global rank, global step) and each epoch's data
order, crops and captions from (seed, epoch): ranks differ, and a resumed run replays exactly.
"""

import numpy as np
import torch

# stream tags keep the derived streams of one seed apart
DATA_ORDER, DATA_ITEM, TRAINING_STEP = 0, 1, 2


def derived_seed(*keys: int) -> int:
    """A 63-bit seed that depends on every key (non-negative integers)."""
    low, high = np.random.SeedSequence([int(key) for key in keys]).generate_state(2)
    return (int(high) << 32 | int(low)) & (2**63 - 1)


def derived_generator(*keys: int) -> torch.Generator:
    """A CPU torch generator seeded with `derived_seed(*keys)`."""
    return torch.Generator().manual_seed(derived_seed(*keys))
