"""Eq. 4 hybrid score s = cos(f_i, f_p) * exp(-lam * |l_i - L| / max(l_i, L)) and its top-k.

Scores are computed in float64 from the stored float32 unit vectors, with one elementwise product
and one sum per row, so equal inputs give bit-equal scores wherever they sit; ties are broken by
the lower entry index.
"""

import numpy as np

NORMALISE_ROWS = 1 << 16


def unit_rows(features: np.ndarray) -> np.ndarray:
    """(N, D) rows scaled to unit L2 norm in float64, returned as float32."""
    out = np.empty(features.shape, np.float32)  # (N, D)
    for start in range(0, features.shape[0], NORMALISE_ROWS):
        rows = np.asarray(features[start : start + NORMALISE_ROWS], dtype=np.float64)
        out[start : start + NORMALISE_ROWS] = rows / np.linalg.norm(rows, axis=-1, keepdims=True)
    return out


def cosines(entries: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Inner products of unit float32 rows in float64: (..., D) x (..., D) -> (...)."""
    return np.multiply(entries, queries, dtype=np.float64).sum(-1)


def length_factor(entry_lengths: np.ndarray, query_lengths: np.ndarray, lam: float) -> np.ndarray:
    """exp(-lam * |l - L| / max(l, L)) in float64, broadcast over both length arrays."""
    entry_lengths = np.asarray(entry_lengths, dtype=np.int64)
    query_lengths = np.asarray(query_lengths, dtype=np.int64)
    gap = np.abs(entry_lengths - query_lengths) / np.maximum(entry_lengths, query_lengths)
    return np.exp(-lam * gap)


def hybrid_scores(
    cosine: np.ndarray, entry_lengths: np.ndarray, query_lengths: np.ndarray, lam: float
) -> np.ndarray:
    """Eq. 4: cosine times the length factor (float64, broadcast)."""
    return cosine * length_factor(entry_lengths, query_lengths, lam)


def score_upper_bound(cosine: np.ndarray, lam: float) -> np.ndarray:
    """Largest Eq. 4 score of any entry whose cosine is at most `cosine`.

    The length factor lies in (exp(-lam), 1]: it can only lower a positive cosine, but it raises a
    negative one towards 0, up to cosine * exp(-lam). The bound is non-decreasing in `cosine`.
    """
    cosine = np.asarray(cosine, dtype=np.float64)
    return np.where(cosine >= 0, cosine, cosine * np.exp(-lam))


def repeated_keys(scores: np.ndarray, entries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(P, M) True where the row holds a better entry of the same key (higher score, or an equal
    score at a lower entry index): masking these leaves one entry per key, its best."""
    rows = np.broadcast_to(np.arange(scores.shape[0])[:, None], scores.shape).ravel()
    flat_keys = keys.ravel()
    order = np.lexsort((entries.ravel(), -scores.ravel(), flat_keys, rows))  # row, key, best first
    first = np.ones(order.size, bool)
    first[1:] = (rows[order][1:] != rows[order][:-1]) | (
        flat_keys[order][1:] != flat_keys[order][:-1]
    )
    repeated = np.empty(order.size, bool)
    repeated[order] = ~first
    return repeated.reshape(scores.shape)


def top_k(scores: np.ndarray, entries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k best (entry, score) pairs by score, ties to the lower entry index.

    scores, entries: (P, M) with M >= k; returns (P, k) entries and (P, k) scores.
    """
    order = np.lexsort((entries, -scores), axis=-1)[:, :k]  # (P, k)
    return np.take_along_axis(entries, order, -1), np.take_along_axis(scores, order, -1)


def top_k_all(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best entries of one query scored against every entry: (N,) -> (k,), (k,)."""
    kth = np.partition(scores, scores.size - k)[scores.size - k]
    keep = np.flatnonzero(scores >= kth)  # every tie of the k-th score
    best, best_scores = top_k(scores[keep][None], keep[None], k)
    return best[0], best_scores[0]
