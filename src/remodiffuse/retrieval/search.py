"""Hybrid top-k (Eq. 4) over FAISS cosine candidates, exact by widening or approximate.

Exactness: let c_M be the M-th largest FAISS cosine of a query and e a bound on FAISS's rounding.
Every entry outside the M candidates has an exact cosine c <= c_M + e, hence an Eq. 4 score
<= u(c_M + e), with u(c) = c for c >= 0 and c * exp(-lam) for c < 0 (the length factor lies in
(exp(-lam), 1] and raises negative scores). If the k-th best re-ranked candidate scores strictly
more than that bound, no other entry can reach or tie it, so the result equals brute force.
Otherwise M grows 4x; at M = N (or past the index's limit) all entries are scored directly.

With `distinct` keys (motion ids), only the best entry of each key counts among the candidates;
the k-th best distinct entry against the same bound keeps the result exact.
"""

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.retrieval.exclusion import Exclusion
from remodiffuse.retrieval.index import CandidateIndex
from remodiffuse.retrieval.scoring import (
    cosines,
    hybrid_scores,
    repeated_keys,
    score_upper_bound,
    top_k,
    top_k_all,
)

WIDENING = 4
BLOCK_ELEMENTS = 1 << 22  # float64 products held at once while scoring (32 MB)


def hybrid_search(
    index: CandidateIndex,
    features: np.ndarray,
    lengths: np.ndarray,
    queries: np.ndarray,
    query_lengths: np.ndarray,
    k: int,
    lam: float,
    exclusion: Exclusion,
    candidates: int,
    exact: bool,
    distinct: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k entries of Eq. 4 per query: (Q, k) int64 indices, (Q, k) float64 scores.

    features (N, D) and queries (Q, D) are float32 unit rows; every query must keep >= k entries
    (>= k distinct keys when `distinct`, (N,) int64, is given: at most one entry per key).
    """
    num_entries = features.shape[0]
    best = np.empty((queries.shape[0], k), np.int64)  # (Q, k)
    best_scores = np.empty((queries.shape[0], k), np.float64)  # (Q, k)
    pending = np.arange(queries.shape[0])
    m = int(min(max(candidates, k), num_entries, index.max_candidates))
    while pending.size and k <= m < num_entries and m <= index.max_candidates:
        cosine, entries = index.search(queries[pending], m)  # (P, m), (P, m)
        found, scores, valid = _rerank(
            features, lengths, queries, query_lengths, pending, entries, lam, k, exclusion, distinct
        )
        done = valid >= k
        if exact:
            bound = score_upper_bound(cosine[:, -1].astype(np.float64) + index.cosine_error, lam)
            done &= scores[:, -1] > bound
        best[pending[done]], best_scores[pending[done]] = found[done], scores[done]
        pending = pending[~done]
        m = min(m * WIDENING, num_entries)
    for query in pending:
        best[query], best_scores[query] = _score_all(
            features, lengths, queries, query_lengths, query, lam, k, exclusion, distinct
        )
    return best, best_scores


def _rerank(
    features: np.ndarray,
    lengths: np.ndarray,
    queries: np.ndarray,
    query_lengths: np.ndarray,
    rows: np.ndarray,
    entries: np.ndarray,
    lam: float,
    k: int,
    exclusion: Exclusion,
    distinct: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eq. 4 top-k among candidates (P, m) of query rows (P,): (P, k), (P, k), valid count (P,)."""
    missing = entries < 0  # FAISS pads with -1 when it finds fewer than m
    entries = np.where(missing, 0, entries)
    scores = np.empty(entries.shape, np.float64)  # (P, m)
    step = max(1, BLOCK_ELEMENTS // (entries.shape[1] * features.shape[1]))
    for start in range(0, rows.size, step):
        block = slice(start, start + step)
        cosine = cosines(features[entries[block]], queries[rows[block], None, :])  # (p, m)
        scores[block] = hybrid_scores(
            cosine, lengths[entries[block]], query_lengths[rows[block], None], lam
        )
    invalid = missing | exclusion.mask(rows, entries)
    scores[invalid] = -np.inf
    if distinct is not None:
        invalid |= repeated_keys(scores, entries, distinct[entries])
        scores[invalid] = -np.inf
    found, found_scores = top_k(scores, entries, k)
    return found, found_scores, (~invalid).sum(-1)


def _score_all(
    features: np.ndarray,
    lengths: np.ndarray,
    queries: np.ndarray,
    query_lengths: np.ndarray,
    query: int,
    lam: float,
    k: int,
    exclusion: Exclusion,
    distinct: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Brute force for one query: Eq. 4 against every entry, (k,) indices and (k,) scores."""
    scores = np.empty(features.shape[0], np.float64)  # (N,)
    step = max(1, BLOCK_ELEMENTS // features.shape[1])
    for start in range(0, features.shape[0], step):
        block = slice(start, start + step)
        cosine = cosines(features[block], queries[query])
        scores[block] = hybrid_scores(cosine, lengths[block], query_lengths[query], lam)
    every = np.arange(features.shape[0])[None]  # (1, N)
    scores[exclusion.mask(np.array([query]), every)[0]] = -np.inf
    if distinct is not None:
        scores[repeated_keys(scores[None], every, distinct[None])[0]] = -np.inf
    found, found_scores = top_k_all(scores, k)
    if not np.isfinite(found_scores).all():
        available = int(np.isfinite(scores).sum())
        raise InputError(f"k={k} but query {query} can retrieve only {available} distinct motions")
    return found, found_scores
