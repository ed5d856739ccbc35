"""Generated BVH and FBX files in headless Blender land where the library's forward kinematics
of the BVH puts the joints (Blender: metres, Z up; the BVH: centimetres, Y up)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.export.fbx import BLENDER_SCRIPT
from remodiffuse.io import read_bvh

BLENDER = shutil.which("blender")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        BLENDER is None, reason="blender is not on PATH (Debian/Ubuntu: apt-get install blender)"
    ),
]
JOINTS_SCRIPT = Path(__file__).with_name("blender_joints.py")
FRAMES = 120
TOLERANCE = 1e-4  # metres; measured 2e-6 (BVH import) and 3e-6 (FBX re-import)


@pytest.fixture(scope="module")
def generated(tiny_trained_run, tmp_path_factory) -> tuple[Path, Path]:
    """(.bvh, .fbx) of one motion from `python -m remodiffuse.generate ... fbx=true`."""
    out = tmp_path_factory.mktemp("generated") / "out"
    command = [sys.executable, "-m", "remodiffuse.generate", f"ckpt={tiny_trained_run[0]}"]
    command += ["text=a person walks forward", f"length={FRAMES}", "steps=4", "render=false"]
    result = subprocess.run(
        [*command, "fbx=true", f"out_dir={out}"], capture_output=True, text=True, check=True
    )
    bvh, fbx = out / "0_a_person_walks_forward.bvh", out / "0_a_person_walks_forward.fbx"
    assert {str(bvh), str(fbx)} <= set(result.stdout.split())
    return bvh, fbx


def blender_joints(path: Path, tmp_path: Path) -> dict:
    """What blender_joints.py reports for a .bvh or .fbx file."""
    out = tmp_path / f"{path.suffix[1:]}_joints.json"
    command = [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1"]
    command += ["--python", str(JOINTS_SCRIPT), "--", str(BLENDER_SCRIPT), str(path), str(out)]
    subprocess.run(command, capture_output=True, check=True)
    return json.loads(out.read_text())


def max_error(dump: dict, bvh: Path) -> float:
    """Largest distance per axis (m) between Blender's joints and the library's FK of `bvh`,
    over every joint and end site of the BVH."""
    clip = read_bvh(bvh)  # centimetres, Y up
    metres = clip.positions * 0.01  # (T, J, 3)
    z_up = np.stack([metres[..., 0], -metres[..., 2], metres[..., 1]], axis=-1)  # forward -Z
    assert set(clip.joint_names) <= set(dump["joints"])
    blender = np.stack([dump["joints"][name] for name in clip.joint_names], axis=1)  # (T, J, 3)
    assert blender.shape == z_up.shape
    return float(np.abs(blender - z_up).max())


def test_blender_imports_a_generated_bvh_where_the_library_puts_the_joints(generated, tmp_path):
    bvh, _ = generated
    dump = blender_joints(bvh, tmp_path)
    assert dump["frame_range"] == [1, FRAMES] and dump["fps"] == 20.0
    error = max_error(dump, bvh)
    assert error < TOLERANCE, f"Blender's BVH import differs by {error:.2e} m"


def test_fbx_of_a_generated_motion_reimports_where_the_bvh_lands(generated, tmp_path):
    bvh, fbx = generated
    dump = blender_joints(fbx, tmp_path)
    assert dump["frame_range"] == [1, FRAMES] and dump["fps"] == 20.0
    error = max_error(dump, bvh)
    assert error < TOLERANCE, f"the FBX re-import differs by {error:.2e} m"


def test_export_fbx_cli_writes_relative_paths_in_cwd(generated, tmp_path):
    bvh, _ = generated
    shutil.copy(bvh, tmp_path / "motion.bvh")
    result = subprocess.run(
        [sys.executable, "-m", "remodiffuse.export_fbx", "bvh=motion.bvh", "out=fbx/motion.fbx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "fbx" / "motion.fbx"
    assert written.is_file() and written.stat().st_size > 0
    assert str(written) in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fbx", "motion.bvh"]
