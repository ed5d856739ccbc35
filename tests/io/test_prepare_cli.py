"""`python -m remodiffuse.prepare` imports a folder, prints a summary and reports bad settings."""

import json
import subprocess
import sys

import numpy as np
from mocap_samples import write_text

from remodiffuse.data import TextMotionDataset
from remodiffuse.data.synthetic import sample_motion
from remodiffuse.export.bvh import write_bvh
from remodiffuse.motion import features_from_joints, joints_from_features


def _prepare(cwd, *overrides: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "remodiffuse.prepare", *overrides]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_cli_imports_exported_bvh_files(tmp_path):
    source = tmp_path / "takes"
    motions = {f"take{n}": sample_motion(np.random.default_rng(n)).joints for n in range(3)}
    for name, joints in motions.items():
        write_bvh(joints, source / f"{name}.bvh", fps=20)
    write_text(source, "broken.bvh", "HIERARCHY\nROOT pelvis\n{\n")
    write_text(tmp_path, "captions.csv", "id,caption\n" + "".join(
        f"{name},a person moves\n" for name in motions))  # fmt: skip

    result = _prepare(tmp_path, "input=takes", "out_dir=data", "captions=captions.csv")

    assert result.returncode == 0, result.stderr
    assert "3 motions imported (0 without a caption), 1 files skipped" in result.stdout
    assert "broken.bvh: no MOTION section" in result.stdout
    report = json.loads((tmp_path / "data" / "report.json").read_text())
    assert report["splits"] == {"train": 2, "val": 0, "test": 1}
    for name, joints in motions.items():  # round trip through the BVH export, within 1 cm
        expected = joints_from_features(features_from_joints(joints))
        imported = np.load(tmp_path / "data" / "new_joints" / f"{name}.npy")
        assert np.abs(imported - expected).max() < 0.01
    assert len(TextMotionDataset(tmp_path / "data", "train", min_length=10)) == 2


def test_cli_reports_bad_settings_without_a_traceback(tmp_path):
    result = _prepare(tmp_path, "input=missing", "out_dir=data")
    assert result.returncode != 0
    assert f"input {tmp_path / 'missing'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
