"""On-disk layout of a saved database: `.npy` arrays, JSON text and a JSON manifest (no pickle)."""

import json
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.errors import InputError

MANIFEST = "manifest.json"
FORMAT = "remodiffuse-retrieval-database"
VERSION = 1
COPY_BYTES = 1 << 26  # rows copied at once when writing large (possibly mapped) arrays


def write_array(path: Path, array: np.ndarray, dtype: np.dtype | type | None = None) -> None:
    """Write `array` as a new `.npy` file in chunks (so memmaps are streamed)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype or array.dtype, shape=array.shape)
    row_bytes = max(1, array[:1].nbytes)
    step = max(1, COPY_BYTES // row_bytes)
    for start in range(0, array.shape[0], step):
        out[start : start + step] = array[start : start + step]
    out.flush()
    del out


def read_array(path: Path, mapped: bool = False) -> np.ndarray:
    """Read a `.npy` array without pickle, memory-mapped read-only when `mapped`."""
    return np.load(path, mmap_mode="r" if mapped else None, allow_pickle=False)


def write_json(path: Path, content: Any) -> None:
    """Write JSON as UTF-8 text."""
    path.write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")


def read_json(path: Path) -> Any:
    """Read UTF-8 JSON text."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_manifest(directory: Path, content: dict[str, Any]) -> None:
    """Write the manifest (last, so a half-written database has none)."""
    write_json(directory / MANIFEST, {"format": FORMAT, "version": VERSION, **content})


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a saved database; ValueError when missing or of another format."""
    path = directory / MANIFEST
    if not path.is_file():
        raise InputError(f"{directory} holds no retrieval database ({MANIFEST} is missing)")
    manifest = read_json(path)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise InputError(
            f"{path} is not a version-{VERSION} {FORMAT} manifest "
            f"(format={manifest.get('format')!r}, version={manifest.get('version')!r})"
        )
    return manifest
