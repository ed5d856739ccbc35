"""Weights & Biases: the logger (offline unless an API key is configured) and a reader of an
offline run's history, for tests and plots where no W&B server is reachable."""

import json
import netrc
import os
import struct
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import WandbLogger

from remodiffuse.errors import InputError

WANDB_HOST = "api.wandb.ai"
_HEADER = b":W&B"  # then a 2-byte magic and a 1-byte version
_HEADER_SIZE, _BLOCK, _RECORD_HEADER = 7, 32768, 7  # LevelDB-style log blocks
_FULL, _LAST = 1, 4


def api_key_configured() -> bool:
    """Whether W&B can sync: WANDB_API_KEY is set, or `wandb login` stored a key in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators(WANDB_HOST) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_logger(offline: bool | None = None, **options: Any) -> WandbLogger:
    """Lightning's WandbLogger; offline=None means offline unless an API key is configured."""
    return WandbLogger(offline=not api_key_configured() if offline is None else offline, **options)


def offline_run_dir(save_dir: str | Path) -> Path:
    """The newest `wandb/offline-run-*` folder under a logger's save_dir."""
    runs = sorted((Path(save_dir) / "wandb").glob("offline-run-*"))
    if not runs:
        raise InputError(f"no offline W&B run under {Path(save_dir) / 'wandb'}")
    return runs[-1]


def read_history(run_dir: str | Path) -> list[dict[str, Any]]:
    """The logged rows ({metric: value}) of an offline run folder, in logging order."""
    from wandb.proto import wandb_internal_pb2  # imported here: wandb is slow to import

    files = sorted(Path(run_dir).glob("run-*.wandb"))
    if not files:
        raise InputError(f"{run_dir}: no run-*.wandb file (not an offline W&B run folder)")
    rows = []
    for data in _records(files[0]):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            rows.append(
                {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
            )
    return rows


def _records(path: Path) -> list[bytes]:
    """The records of a .wandb file: a header, then 32 KiB blocks of (crc32, length, type) +
    payload chunks, a record split over blocks as FIRST, MIDDLE..., LAST chunks."""
    data = path.read_bytes()
    if not data.startswith(_HEADER):
        raise InputError(f"{path}: not a W&B run file (no {_HEADER!r} header)")
    records, parts, position = [], [], _HEADER_SIZE
    while position + _RECORD_HEADER <= len(data):
        left = _BLOCK - position % _BLOCK
        if left < _RECORD_HEADER:  # a block's tail too short for a header is padding
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + _RECORD_HEADER])
        position += _RECORD_HEADER
        parts.append(data[position : position + length])
        position += length
        if kind in (_FULL, _LAST):
            records.append(b"".join(parts))
            parts = []
    return records
