"""Epoch-keyed sampling: each epoch's order depends on (seed, epoch) only, sharded by rank.

Items are requested as `(index, epoch)` keys, so the dataset draws an item's crop and caption from
(seed, epoch, index) as well; nothing depends on a generator's state, which checkpoints do not hold.
"""

from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from remodiffuse.seeding import DATA_ORDER, derived_generator


def _rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochSampler(Sampler[tuple[int, int]]):
    """(index, epoch) keys of this rank's share of a permutation (or of 0..N-1 unshuffled).

    Like `DistributedSampler`, the order is padded with its head to a multiple of the world size;
    Lightning calls `set_epoch` before every training epoch (use `use_distributed_sampler=False`).
    """

    def __init__(self, num_items: int, seed: int = 0, shuffle: bool = True) -> None:
        self.num_items = num_items
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.num_items))
        generator = derived_generator(self.seed, DATA_ORDER, self.epoch)
        return torch.randperm(self.num_items, generator=generator).tolist()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        rank, world = _rank_and_world()
        order = self._order()
        order += (order * world)[: -len(order) % world]  # pad to a multiple of world
        return iter([(index, self.epoch) for index in order[rank::world]])

    def __len__(self) -> int:
        _, world = _rank_and_world()
        return -(-self.num_items // world)
