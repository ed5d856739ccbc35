"""Writes that a killed process cannot leave half done, and locks for shared outputs.

A file is written to a temporary name in its own folder and renamed over the target, so a reader
sees the previous version or the new one, never a mix; a folder is built beside its target and
swapped in the same way. Two processes producing the same output take `output_lock` first.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from filelock import FileLock

from remodiffuse.errors import InputError, MissingFileError

TEMPORARY_MARK = ".tmp-"  # in the names of unfinished files and folders
RETIRED_MARK = ".old-"  # in the name of the folder a replaced folder waits in until removed


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix, so writers that infer the format from it
    work) to write to; renamed to `path` when the block succeeds, removed when it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(
        prefix=f".{path.name}{TEMPORARY_MARK}", suffix=path.suffix, dir=path.parent
    )
    os.close(descriptor)
    temporary = Path(name)
    os.chmod(temporary, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
    try:
        yield temporary
        _flush_to_disk(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read_option_text(option: str, path: str | Path, max_bytes: int) -> str:
    """The UTF-8 text of the file an option names; MissingFileError / InputError naming
    `option=path` when it is missing, larger than max_bytes or not UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{option}={path}: no such file")
    if path.stat().st_size > max_bytes:
        raise InputError(f"{option}={path}: larger than {max_bytes >> 20} MiB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{option}={path}: not UTF-8 text (byte {error.start}: {error.reason})"
        ) from None


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def save_array(path: str | Path, array: np.ndarray) -> None:
    """np.save `array` to `path` (which ends in .npy) atomically."""
    with atomic_path(path) as temporary, temporary.open("wb") as stream:
        np.save(stream, array, allow_pickle=False)


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """A fresh staging folder beside `path`; it replaces `path` when the block succeeds (the old
    folder is moved aside, put back if the swap fails, and removed only after the new one is in
    place) and is removed when the block fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}{TEMPORARY_MARK}", dir=path.parent))
    os.chmod(staging, 0o777 & ~_umask())  # as mkdir would create it, not mkdtemp's 0700
    try:
        yield staging
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"cannot replace {path} with a folder: it is a file")
        if not path.exists():
            os.replace(staging, path)
            return
        retired = Path(tempfile.mkdtemp(prefix=f".{path.name}{RETIRED_MARK}", dir=path.parent))
        os.replace(path, retired / path.name)
        try:
            os.replace(staging, path)
        except BaseException:
            os.replace(retired / path.name, path)
            raise
        finally:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def output_lock(path: str | Path, timeout: float = -1) -> Iterator[None]:
    """Hold `<path>.lock` (beside `path`) while producing `path`; waits for another holder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(f".{path.name}.lock")), timeout=timeout):
        yield


def file_digest(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _flush_to_disk(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())
