"""Released retrieval databases (`*_text_train.npz`) -> `RetrievalDatabase` directories."""

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.errors import InputError, MissingFileError
from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase

OFFICIAL_ARRAYS = ("text_features", "captions", "motions", "m_lengths", "clip_seq_features")
OFFICIAL_ENCODER_IDENTITY: dict[str, Any] = {
    "name": "clip",
    "architecture": "ViT-B-32",
    "pretrained": "openai",
    "tokens": "ln_final",
    "source": "official ReMoDiffuse retrieval database",
}


def load_official_database(
    path: str | Path,
    config: RetrievalConfig | None = None,
    encoder_identity: dict[str, Any] | None = None,
) -> RetrievalDatabase:
    """One entry per official caption; identical motions are stored once and share a motion id
    (`official-000123`), so exclusion by id skips every caption of the query's own motion.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"database={path}: no such file")
    with np.load(path, allow_pickle=False) as data:
        missing = [name for name in OFFICIAL_ARRAYS if name not in data.files]
        if missing:
            raise InputError(f"{path} is not an official retrieval database: no {missing}")
        arrays = {name: data[name] for name in OFFICIAL_ARRAYS}
    lengths = arrays["m_lengths"].astype(np.int64)  # (N,)
    motions = arrays["motions"]  # (N, T, D) zero-padded
    motion_index, unique = _deduplicate(motions, lengths)
    tokens = arrays["clip_seq_features"]  # (N, L, Dt)
    return RetrievalDatabase.build(
        ids=[f"official-{m:06d}" for m in motion_index],
        captions=[str(caption) for caption in arrays["captions"]],
        sentence_features=arrays["text_features"],
        lengths=lengths,
        encoder_identity=encoder_identity or OFFICIAL_ENCODER_IDENTITY,
        motions=[motions[i] for i in unique],
        motion_index=motion_index,
        token_features=tokens,
        token_mask=np.ones(tokens.shape[:2], dtype=bool),  # every CLIP slot is read
        config=config,
    )


def _deduplicate(motions: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Entry -> unique-motion index (N,), and the first entry of each unique motion."""
    seen: dict[tuple[int, bytes], int] = {}
    first: list[int] = []
    index = np.empty(lengths.shape[0], np.int64)  # (N,)
    for entry, length in enumerate(lengths):
        frames = np.ascontiguousarray(motions[entry, :length])  # (l, D)
        key = (int(length), hashlib.sha256(frames.tobytes()).digest())
        if key not in seen:
            seen[key] = len(first)
            first.append(entry)
        index[entry] = seen[key]
    return index, first
