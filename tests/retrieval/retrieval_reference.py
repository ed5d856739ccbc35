"""Small retrieval databases with many ties, and a straightforward brute-force reference."""

from dataclasses import dataclass

import numpy as np

from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase
from remodiffuse.retrieval.scoring import unit_rows


@dataclass
class TiedData:
    """Entries with duplicated features, few distinct lengths and mirrored-twin motion ids."""

    ids: list[str]
    captions: list[str]
    features: np.ndarray  # (N, D)
    lengths: np.ndarray  # (N,)
    motions: list[np.ndarray]  # M x (T, 3)
    motion_index: np.ndarray  # (N,)
    queries: np.ndarray  # (Q, D)
    query_lengths: np.ndarray  # (Q,)
    query_ids: list[str]

    def build(self, **config) -> RetrievalDatabase:
        return RetrievalDatabase.build(
            self.ids,
            self.captions,
            self.features,
            self.lengths,
            {"name": "test-encoder", "dim": int(self.features.shape[1])},
            motions=self.motions,
            motion_index=self.motion_index,
            config=RetrievalConfig(**config),
        )


def make_tied_data(seed: int = 0, dim: int = 5) -> TiedData:
    """Motions with 1-3 captions each; captions reuse 9 distinct directions; mirrored twins."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((9, dim))
    ids, captions, features, lengths, motions, motion_index = [], [], [], [], [], []
    for m in range(24):
        base = f"{m // 2:03d}"
        motion_id = base if m % 2 == 0 else "M" + base  # even/odd motions are mirrored twins
        length = int(rng.choice([40, 44, 48]))
        motions.append(rng.standard_normal((length + 4, 3)).astype(np.float32))
        for c in range(int(rng.integers(1, 4))):
            ids.append(motion_id)
            captions.append(f"caption {m}.{c}")
            features.append(directions[rng.integers(9)] * rng.choice([1.0, 2.5]))
            lengths.append(length)
            motion_index.append(m)
    features = np.array(features)
    queries = np.concatenate(
        [
            features[rng.integers(len(ids), size=8)],  # exact ties with entries
            rng.standard_normal((8, dim)),
            -features[rng.integers(len(ids), size=4)],  # mostly negative cosines
        ]
    )
    picked = rng.integers(len(ids), size=queries.shape[0])
    return TiedData(
        ids=ids,
        captions=captions,
        features=features,
        lengths=np.array(lengths),
        motions=motions,
        motion_index=np.array(motion_index),
        queries=queries,
        query_lengths=rng.choice([40, 42, 44, 48, 60], size=queries.shape[0]),
        query_ids=[ids[i] for i in picked],
    )


def brute_force(
    database: RetrievalDatabase,
    query: np.ndarray,
    length: int,
    k: int,
    lam: float,
    excluded: set[int] = frozenset(),
    distinct: bool = False,
) -> tuple[list[int], list[float]]:
    """Score every entry by Eq. 4 and sort by (-score, index); with distinct, keep the first
    entry of each motion id in that order."""
    q = unit_rows(query[None])[0].astype(np.float64)
    scores = {}
    for i in range(len(database)):
        if i in excluded:
            continue
        cosine = np.sum(database.sentence_features[i].astype(np.float64) * q)
        entry_length = int(database.lengths[i])
        gap = abs(entry_length - length) / max(entry_length, length)
        scores[i] = cosine * np.exp(-lam * gap)
    ranked = sorted(scores, key=lambda i: (-scores[i], i))
    if distinct:
        seen: set[str] = set()
        ranked = [i for i in ranked if not (database.ids[i] in seen or seen.add(database.ids[i]))]
    best = ranked[:k]
    return best, [scores[i] for i in best]


def excluded_entries(database: RetrievalDatabase, mode: str, query_id: str, length: int) -> set:
    """Entries a query may not retrieve under each exclusion rule, written out directly."""
    if mode == "length":
        return {i for i in range(len(database)) if database.lengths[i] == length}
    if mode == "id":
        twins = {query_id, "M" + query_id} | ({query_id[1:]} if query_id[0] == "M" else set())
        return {i for i in range(len(database)) if database.ids[i] in twins}
    return set()
