"""FBX export of a BVH by headless Blender (the script `blender_fbx.py` beside this module).

The FBX is in metres, Y up, forward -Z, animated on every frame of the BVH at its frame rate;
importing it lands where importing the BVH with scale 0.01, forward -Z and up Y does.
"""

import shutil
import subprocess
from pathlib import Path

from remodiffuse.errors import InputError, MissingFileError
from remodiffuse.files import atomic_path
from remodiffuse.io.bvh import read_bvh

__all__ = ["BLENDER_SCRIPT", "blender_executable", "bvh_to_fbx"]

BLENDER_SCRIPT = Path(__file__).with_name("blender_fbx.py")
_OUTPUT_TAIL = 2000  # characters of Blender's output quoted when it fails


def blender_executable() -> str:
    """The `blender` on PATH; InputError saying how to install it when there is none."""
    blender = shutil.which("blender")
    if blender is None:
        raise InputError(
            "FBX export runs Blender headless, but no `blender` is on PATH: install it "
            "(Debian/Ubuntu: apt-get install blender; or from blender.org, then put its folder "
            "on PATH)"
        )
    return blender


def bvh_to_fbx(bvh: str | Path, fbx: str | Path | None = None, blender: str | None = None) -> Path:
    """Convert a BVH written by `write_bvh` (centimetres) to `fbx` (default: beside it, suffix
    .fbx) with `blender` (default: the one on PATH); return the FBX path.

    The BVH is read by the library first, so a malformed file is an InputError, not Blender's.
    """
    bvh = Path(bvh)
    if not bvh.is_file():
        raise MissingFileError(f"bvh={bvh}: no such file")
    read_bvh(bvh, max_frames=1)
    fbx = bvh.with_suffix(".fbx") if fbx is None else Path(fbx)
    command = [blender or blender_executable(), "-b", "--factory-startup"]
    command += ["--python-exit-code", "1", "--python", str(BLENDER_SCRIPT), "--"]
    with atomic_path(fbx) as temporary:
        result = subprocess.run(
            [*command, str(bvh.resolve()), str(temporary.resolve())],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or temporary.stat().st_size == 0:
            output = (result.stdout + result.stderr)[-_OUTPUT_TAIL:]
            raise RuntimeError(f"Blender could not convert {bvh} to FBX:\n{output}")
    return fbx
