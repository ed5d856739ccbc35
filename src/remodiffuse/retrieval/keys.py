"""Retrieval keys: the vector of a caption that Eq. 4's cosine compares.

`sentence` is the text encoder's sentence feature (the paper's CLIP feature). `ordered` keeps
word order: the caption's valid token features are cut into `key_parts` contiguous chunks of
(nearly) equal length, each chunk's mean is L2-normalised, and the chunks are concatenated and
scaled by 1 / sqrt(key_parts). The key is a unit vector and the cosine of two keys is the mean
of their chunk cosines, so "walks, then jumps" and "jumps, then walks" no longer coincide.
"""

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.retrieval.config import RetrievalConfig

CHUNK_ROWS = 4096  # captions converted to float32 at a time (token features may be a memmap)


def retrieval_keys(
    config: RetrievalConfig,
    sentence: np.ndarray,
    tokens: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """(N, Dk) float32 keys of N captions from (N, Ds) sentence features, (N, L, Dt) token
    features and their (N, L) mask (tokens are needed for key='ordered' only)."""
    if config.key == "sentence":
        return np.asarray(sentence, dtype=np.float32)
    if tokens is None or mask is None:
        raise InputError("retrieval key 'ordered' needs the captions' token features")
    rows = [
        ordered_pooling(np.asarray(tokens[start : start + CHUNK_ROWS], np.float32),
                        np.asarray(mask[start : start + CHUNK_ROWS], bool), config.key_parts)
        for start in range(0, len(tokens), CHUNK_ROWS)
    ]  # fmt: skip
    width = tokens.shape[-1] * config.key_parts
    return np.concatenate(rows) if rows else np.zeros((0, width), np.float32)


def ordered_pooling(tokens: np.ndarray, mask: np.ndarray, parts: int) -> np.ndarray:
    """(N, parts * Dt) unit keys of (N, L, Dt) token features with (N, L) validity mask."""
    count = mask.sum(1, keepdims=True)  # (N, 1) valid tokens
    if (count < parts).any():
        raise InputError(f"ordered retrieval keys need at least key_parts={parts} tokens a caption")
    position = np.cumsum(mask, axis=1) - 1  # (N, L) rank of each valid token
    chunk = (position * parts) // count  # (N, L) in [0, parts) where mask
    keys = []
    for part in range(parts):
        inside = mask & (chunk == part)  # (N, L)
        total = np.einsum("nl,nld->nd", inside.astype(np.float32), tokens)  # (N, Dt)
        norm = np.linalg.norm(total, axis=1, keepdims=True)
        keys.append(total / np.maximum(norm, 1e-12))
    return (np.concatenate(keys, axis=1) / np.sqrt(parts)).astype(np.float32)
