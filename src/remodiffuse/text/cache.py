"""On-disk text-feature cache: every caption encoded once, stored as npy files and a JSON manifest.

A cache directory is named by the encoder identity and the ordered caption list, so changing either
selects a new directory. It is written under a temporary name and renamed into place when complete;
its manifest holds each array file's SHA-256, checked whenever the cache is opened.
"""

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import MofNCompleteColumn, Progress

from remodiffuse.errors import InputError
from remodiffuse.files import file_digest
from remodiffuse.text.encoder import TextEncoder, check_captions
from remodiffuse.text.identity import captions_sha256, identity_sha256

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CHECKSUMS = "sha256"  # manifest key: {array name: SHA-256 of its .npy file}


@dataclass(frozen=True)
class CachedTextFeatures:
    """Memory-mapped features of N captions, in caption order."""

    path: Path
    tokens: np.ndarray  # (N, L, D) float16, zero where mask is False
    mask: np.ndarray  # (N, L) bool
    sentence: np.ndarray  # (N, Ds) float32, unit norm

    def __len__(self) -> int:
        return self.sentence.shape[0]


def cache_path(encoder: TextEncoder, captions: Sequence[str], cache_dir: str | os.PathLike) -> Path:
    """Directory holding (or about to hold) the features of `captions` under `encoder`."""
    encoder_key = identity_sha256(encoder.identity)[:16]
    return Path(cache_dir) / f"{encoder.name}-{encoder_key}-{captions_sha256(captions)[:16]}"


def cached_text_features(
    encoder: TextEncoder,
    captions: Sequence[str],
    cache_dir: str | os.PathLike,
    batch_size: int = 256,
    progress: bool = True,
) -> CachedTextFeatures:
    """Features of `captions` from the cache, encoding and storing them first if needed."""
    check_captions(captions)
    path = cache_path(encoder, captions, cache_dir)
    manifest = _manifest(encoder, captions)
    if path.exists():
        try:
            features = _open(path, manifest)
        except (OSError, ValueError) as error:
            log.warning("text feature cache %s is unreadable (%s); rebuilding it", path, error)
            _discard(path)
        else:
            log.info("text feature cache hit: %s", path)
            return features
    log.info("building text feature cache for %d captions: %s", len(captions), path)
    staging = _write(encoder, captions, path.parent, manifest, batch_size, progress)
    _publish(staging, path)
    return _open(path, manifest)


def _manifest(encoder: TextEncoder, captions: Sequence[str]) -> dict[str, Any]:
    """What the manifest of this cache entry must say, as read back from JSON."""
    n, length = len(captions), encoder.max_tokens
    manifest = {
        "format": FORMAT_VERSION,
        "encoder": encoder.identity,
        "captions_sha256": captions_sha256(captions),
        "num_captions": n,
        "arrays": {
            "tokens": {"dtype": "float16", "shape": [n, length, encoder.token_dim]},
            "mask": {"dtype": "bool", "shape": [n, length]},
            "sentence": {"dtype": "float32", "shape": [n, encoder.sentence_dim]},
        },
    }
    return json.loads(json.dumps(manifest))


def _open(path: Path, manifest: dict[str, Any]) -> CachedTextFeatures:
    """Memory-map a cache entry, raising ValueError/OSError if it is incomplete or inconsistent."""
    stored = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    checksums = stored.pop(CHECKSUMS, {})
    if stored != manifest:
        raise InputError("manifest does not describe these captions and encoder")
    arrays = {}
    for name, spec in manifest["arrays"].items():
        file = path / f"{name}.npy"
        if checksums.get(name) != file_digest(file):
            raise InputError(f"{file.name} does not match its checksum in {MANIFEST}")
        array = np.load(file, mmap_mode="r", allow_pickle=False)
        if array.dtype != np.dtype(spec["dtype"]) or list(array.shape) != spec["shape"]:
            raise InputError(f"{name}.npy is {array.dtype}{list(array.shape)}, expected {spec}")
        arrays[name] = array
    return CachedTextFeatures(path=path, **arrays)


def _write(
    encoder: TextEncoder,
    captions: Sequence[str],
    parent: Path,
    manifest: dict[str, Any],
    batch_size: int,
    progress: bool,
) -> Path:
    """Encode captions chunk by chunk into a fresh staging directory under `parent`.

    Chunks group captions of similar length (less padding); rows are written at their own index.
    """
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
    try:
        arrays = {
            name: np.lib.format.open_memmap(
                staging / f"{name}.npy", mode="w+", dtype=spec["dtype"], shape=tuple(spec["shape"])
            )
            for name, spec in manifest["arrays"].items()
        }
        columns = (*Progress.get_default_columns(), MofNCompleteColumn())
        with Progress(*columns, disable=not progress) as bar:
            task = bar.add_task(f"encoding captions ({encoder.name})", total=len(captions))
            by_length = np.argsort([len(caption) for caption in captions], kind="stable")
            for start in range(0, len(captions), batch_size):
                rows = np.sort(by_length[start : start + batch_size])
                _store(encoder, [captions[row] for row in rows], arrays, rows)
                bar.advance(task, len(rows))
        for array in arrays.values():
            array.flush()
        del arrays
        checksums = {name: file_digest(staging / f"{name}.npy") for name in manifest["arrays"]}
        content = {**manifest, CHECKSUMS: checksums}
        (staging / MANIFEST).write_text(json.dumps(content, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _store(
    encoder: TextEncoder, chunk: list[str], arrays: dict[str, np.ndarray], rows: np.ndarray
) -> None:
    """Encode one chunk and write it at `rows` of the memory-mapped arrays."""
    features = encoder.encode(chunk, batch_size=len(chunk))
    length = features.tokens.shape[1]
    tokens = features.tokens.float().cpu().numpy().astype(np.float16)  # (b, l, D)
    finite = np.isfinite(tokens).all(axis=(1, 2))  # (b,)
    if not finite.all():
        raise InputError(f"token features of captions {rows[~finite].tolist()} overflow float16")
    arrays["tokens"][rows, :length] = tokens
    arrays["mask"][rows, :length] = features.mask.cpu().numpy()
    arrays["sentence"][rows] = features.sentence.float().cpu().numpy()


def _publish(staging: Path, path: Path) -> None:
    """Rename a complete staging directory into place; if another process won, keep its copy."""
    try:
        os.rename(staging, path)
    except OSError:
        if not (path / MANIFEST).is_file():
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging)


def _discard(path: Path) -> None:
    """Remove a broken cache entry (renamed aside first, so no reader sees it half-deleted)."""
    trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=path.parent))
    try:
        os.rename(path, trash / path.name)
    except FileNotFoundError:
        pass  # another process discarded it first
    shutil.rmtree(trash)
