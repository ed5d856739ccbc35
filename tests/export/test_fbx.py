"""FBX export without Blender, or with a bad BVH, is a clear error before anything runs; a
failing Blender leaves no file."""

import subprocess
import sys
from pathlib import Path

import pytest

from remodiffuse.errors import InputError
from remodiffuse.export.fbx import blender_executable, bvh_to_fbx

MISSING_BLENDER = r"no `blender` is on PATH.*apt-get install blender"


def one_frame_bvh(folder: Path) -> Path:
    """A valid one-joint, one-frame BVH."""
    path = folder / "motion.bvh"
    path.write_text(
        "HIERARCHY\nROOT pelvis\n{\n\tOFFSET 0 0 0\n\tCHANNELS 3 Xposition Yposition Zposition\n"
        "}\nMOTION\nFrames: 1\nFrame Time: 0.05\n0 90 0\n"
    )
    return path


def test_missing_blender_names_it_and_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match=MISSING_BLENDER):
        blender_executable()
    with pytest.raises(InputError, match=MISSING_BLENDER):
        bvh_to_fbx(one_frame_bvh(tmp_path))
    assert not list(tmp_path.glob("*.fbx*"))


def test_a_missing_or_malformed_bvh_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        bvh_to_fbx(tmp_path / "missing.bvh", blender="blender")
    (tmp_path / "bad.bvh").write_text("HIERARCHY\n")
    with pytest.raises(InputError, match="bad.bvh: no MOTION section"):
        bvh_to_fbx(tmp_path / "bad.bvh", blender="blender")


def test_a_failing_blender_is_an_error_quoting_it_and_leaves_no_file(tmp_path):
    blender = tmp_path / "blender"
    blender.write_text("#!/bin/sh\necho 'Error: no armature'\nexit 1\n")
    blender.chmod(0o755)
    with pytest.raises(RuntimeError, match="could not convert .*motion.bvh(.|\n)*no armature"):
        bvh_to_fbx(one_frame_bvh(tmp_path), blender=str(blender))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blender", "motion.bvh"]


@pytest.mark.slow
def test_generate_with_fbx_fails_before_loading_a_model_when_blender_is_missing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "remodiffuse.generate", "ckpt=no_such_run", "text=a person walks"]
        + ["fbx=true", f"out_dir={tmp_path / 'out'}"],
        env={"PATH": str(tmp_path), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "no `blender` is on PATH" in result.stderr and "apt-get install blender" in result.stderr
    assert not (tmp_path / "out").exists()
