"""Generated files the demo serves: a temporary folder the server owns, newest results kept.

Each result gets a random id and, per sample i, `<i>.bvh`, `<i>.features.npy` and
`<i>.joints.npy`; clients name a file only by (id, i, kind), never by a path.
"""

import base64
import io
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.export.bvh import write_bvh
from remodiffuse.pipeline import GeneratedMotion

FILE_KINDS = {  # file kind -> content type
    "bvh": "text/plain; charset=utf-8",
    "features.npy": "application/octet-stream",
    "joints.npy": "application/octet-stream",
}
FILE_NAME = re.compile(r"(\d{1,3})\.(bvh|features\.npy|joints\.npy)")
RESULT_ID = re.compile(r"[0-9a-f]{16}")
DEFAULT_CAPACITY = 16  # results kept; older ones are deleted


def npy_bytes(array: np.ndarray) -> bytes:
    """The .npy file of `array`."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class ResultStore:
    """Writes each result's files into its own folder and finds them again by (id, name)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="remodiffuse-serve-"))
        self.capacity = capacity
        self._folders: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, motions: Sequence[GeneratedMotion], skeleton: str, fps: float) -> dict[str, Any]:
        """Store the motions' files; the JSON answer: id, fps, skeleton and per sample its text,
        length, retrieved captions (timeline segments), BVH text, base64 .npy files and links."""
        result_id = secrets.token_hex(8)
        folder = self.root / result_id
        folder.mkdir()
        samples = [
            self._sample(folder, result_id, i, m, skeleton, fps) for i, m in enumerate(motions)
        ]
        with self._lock:
            self._folders[result_id] = folder
            while len(self._folders) > self.capacity:
                shutil.rmtree(self._folders.popitem(last=False)[1], ignore_errors=True)
        return {"id": result_id, "fps": fps, "skeleton": skeleton, "samples": samples}

    def file(self, result_id: str, name: str) -> tuple[Path, str] | None:
        """(path, content type) of a stored file, or None for an unknown id or name."""
        match = FILE_NAME.fullmatch(name)
        if match is None or not RESULT_ID.fullmatch(result_id):
            return None
        with self._lock:
            folder = self._folders.get(result_id)
        if folder is None or not (folder / name).is_file():
            return None
        return folder / name, FILE_KINDS[match.group(2)]

    def close(self) -> None:
        """Delete every stored file."""
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _sample(
        folder: Path, result_id: str, index: int, motion: GeneratedMotion, skeleton: str, fps: float
    ) -> dict[str, Any]:
        bvh = write_bvh(motion.joints, folder / f"{index}.bvh", fps=fps, skeleton=skeleton)
        sample: dict[str, Any] = {
            "index": index,
            "text": motion.text,
            "length": motion.length,
            "retrieved": motion.retrieved,
            "bvh": bvh.read_text(),
        }
        if motion.segments:
            sample["segments"] = motion.segments
        for kind, array in (("features", motion.features), ("joints", motion.joints)):
            content = npy_bytes(array)
            (folder / f"{index}.{kind}.npy").write_bytes(content)
            sample[f"{kind}_npy"] = base64.b64encode(content).decode("ascii")
        sample["files"] = {kind: f"/result/{result_id}/{index}.{kind}" for kind in FILE_KINDS}
        return sample
