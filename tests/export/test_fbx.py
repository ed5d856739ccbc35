"""FBX export without Blender, or with a bad BVH, is a clear error before anything runs."""

import subprocess
import sys

import pytest

from remodiffuse.errors import InputError
from remodiffuse.export.fbx import blender_executable, bvh_to_fbx

MISSING_BLENDER = r"no `blender` is on PATH.*apt-get install blender"


def test_missing_blender_names_it_and_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match=MISSING_BLENDER):
        blender_executable()
    (tmp_path / "motion.bvh").write_text(
        "HIERARCHY\nROOT pelvis\n{\n\tOFFSET 0 0 0\n\tCHANNELS 3 Xposition Yposition Zposition\n"
        "}\nMOTION\nFrames: 1\nFrame Time: 0.05\n0 90 0\n"
    )
    with pytest.raises(InputError, match=MISSING_BLENDER):
        bvh_to_fbx(tmp_path / "motion.bvh")
    assert not list(tmp_path.glob("*.fbx*"))


def test_a_missing_or_malformed_bvh_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        bvh_to_fbx(tmp_path / "missing.bvh", blender="blender")
    (tmp_path / "bad.bvh").write_text("HIERARCHY\n")
    with pytest.raises(InputError, match="bad.bvh: no MOTION section"):
        bvh_to_fbx(tmp_path / "bad.bvh", blender="blender")


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
