"""Stable hashes for cache keys: of files, of encoder identities and of caption lists."""

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def identity_sha256(identity: dict[str, Any]) -> str:
    """Hex SHA-256 of an encoder identity, independent of key order."""
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def captions_sha256(captions: Sequence[str]) -> str:
    """Hex SHA-256 of an ordered caption list (JSON-encoded, so no two lists collide by joining)."""
    text = json.dumps(list(captions), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
