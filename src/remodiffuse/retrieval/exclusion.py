"""Which entries a query may not retrieve: its own motion (by id, mirrored twin included) or,
as the released code does, every entry of the query's exact length."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NO_KEY = -1
MIRROR_PREFIX = "M"


@dataclass(frozen=True)
class EntryKeys:
    """One non-negative integer key per entry, with its distinct values and their counts."""

    keys: np.ndarray  # (N,) int64
    values: np.ndarray  # (V,) sorted distinct keys
    sizes: np.ndarray  # (V,) entries per key

    @classmethod
    def of(cls, keys: np.ndarray) -> "EntryKeys":
        keys = np.asarray(keys, dtype=np.int64)
        values, sizes = np.unique(keys, return_counts=True)
        return cls(keys, values, sizes)

    def count(self, query_keys: np.ndarray) -> np.ndarray:
        """(Q, J) distinct keys per query -> (Q,) number of entries holding one of them."""
        position = np.minimum(np.searchsorted(self.values, query_keys), self.values.size - 1)
        return np.where(self.values[position] == query_keys, self.sizes[position], 0).sum(-1)


@dataclass(frozen=True)
class MotionIds:
    """Entry motion ids as integer codes, for excluding a query's own motion."""

    codes: dict[str, int]
    entries: EntryKeys

    @classmethod
    def of(cls, entry_ids: Sequence[str]) -> "MotionIds":
        codes: dict[str, int] = {}
        keys = np.array([codes.setdefault(i, len(codes)) for i in entry_ids], np.int64)
        return cls(codes, EntryKeys.of(keys))

    def twin_codes(self, motion_id: str) -> list[int]:
        """Codes of the id, its mirrored twin `"M" + id` and, for `"M" + x`, of x (or NO_KEY)."""
        twins = [motion_id, MIRROR_PREFIX + motion_id]
        if motion_id.startswith(MIRROR_PREFIX):
            twins.append(motion_id[len(MIRROR_PREFIX) :])
        return [self.codes.get(twin, NO_KEY) for twin in twins] + [NO_KEY] * (3 - len(twins))


@dataclass(frozen=True)
class Exclusion:
    """Entry j is excluded for query q iff its key is one of query_keys[q] (NO_KEY: none)."""

    entries: EntryKeys
    query_keys: np.ndarray  # (Q, J) int64, distinct per row apart from NO_KEY

    def mask(self, queries: np.ndarray, entries: np.ndarray) -> np.ndarray:
        """(P,) query rows x (P, M) entry indices -> (P, M) True where excluded."""
        keys = self.entries.keys[entries][..., None]  # (P, M, 1)
        return (keys == self.query_keys[queries][:, None, :]).any(-1)

    def counts(self) -> np.ndarray:
        """(Q,) number of entries each query excludes."""
        return self.entries.count(self.query_keys)


def no_exclusion(entries: EntryKeys, num_queries: int) -> Exclusion:
    """Nothing is excluded (no key matches NO_KEY)."""
    return Exclusion(entries, np.full((num_queries, 1), NO_KEY, np.int64))


def exclude_same_length(lengths: EntryKeys, query_lengths: np.ndarray) -> Exclusion:
    """The released rule: skip every entry whose length equals the query's length."""
    return Exclusion(lengths, np.asarray(query_lengths, np.int64)[:, None])


def exclude_motion(motion_ids: MotionIds, query_ids: Sequence[str]) -> Exclusion:
    """Skip the query's own motion: entries with its motion id or its mirrored twin's.

    Ids `x` and `"M" + x` name a motion and its left-right mirrored copy (HumanML3D, KIT-ML).
    """
    query_keys = np.array([motion_ids.twin_codes(i) for i in query_ids], np.int64)
    return Exclusion(motion_ids.entries, query_keys.reshape(len(query_ids), 3))
