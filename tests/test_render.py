"""The `python -m remodiffuse.render` entry point writes a video relative to the caller's cwd."""

import subprocess
import sys

import numpy as np

from remodiffuse.motion import get_skeleton


def test_cli_renders_relative_paths_in_cwd(tmp_path):
    skel = get_skeleton("humanml3d")
    frames = np.linspace(0.0, 1.0, 8)[:, None, None]  # (T, 1, 1)
    rest = np.abs(skel.raw_offsets) * 0.3 + np.arange(skel.num_joints)[:, None] * [0, 0.05, 0]
    np.save(tmp_path / "motion.npy", rest[None] + frames * [0.5, 0.0, 0.0])  # (T, 22, 3)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remodiffuse.render",
            "input=motion.npy",
            "out=videos/motion.mp4",
            "title='a person slides sideways'",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "videos" / "motion.mp4"
    assert written.is_file() and written.stat().st_size > 0
    assert str(written) in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npy", "videos"]
