"""Stick-figure rendering to gif/mp4 and loading of joints or feature files."""

import logging
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from remodiffuse.export import animation
from remodiffuse.export.animation import chain_colours, load_motion_file, render_motion
from remodiffuse.motion import get_skeleton


def stick_motion(skeleton: str = "humanml3d", frames: int = 12) -> np.ndarray:
    """A rest pose built from the raw offsets that walks along +x and raises one arm; (T, J, 3)."""
    skel = get_skeleton(skeleton)
    bone = 0.25 if skel.unit == "m" else 250.0
    rest = np.zeros((skel.num_joints, 3))
    for joint, parent in enumerate(skel.parents):
        if parent >= 0:
            rest[joint] = rest[parent] + bone * skel.raw_offsets[joint]
    rest[:, 1] -= rest[:, 1].min()
    t = np.linspace(0.0, 1.0, frames)[:, None]  # (T, 1)
    motion = np.repeat(rest[None], frames, axis=0)  # (T, J, 3)
    motion[..., 0] += 2 * bone * t
    wrist = skel.kinematic_chain[-1][-1]
    motion[:, wrist, 1] += 2 * bone * t[:, 0]
    return motion


def read_frames(path: Path) -> np.ndarray:
    """All frames of a gif or mp4 as (N, H, W, C) uint8."""
    plugin = "FFMPEG" if path.suffix == ".mp4" else "pillow"
    return iio.imread(path, index=None, plugin=plugin)


def assert_animated(frames: np.ndarray, count: int) -> None:
    """The expected number of frames, none blank, and the picture changes over time."""
    assert len(frames) == count
    assert all(frame.astype(float).var() > 0 for frame in frames)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.1


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_render_writes_animated_video(tmp_path, suffix):
    path = render_motion(stick_motion(), tmp_path / f"walk{suffix}", title="a person walks")
    assert path == tmp_path / f"walk{suffix}"
    frames = read_frames(path)
    assert_animated(frames, 12)
    assert frames.shape[1:3] == (480, 480)


def test_render_kit_in_millimetres_from_torch(tmp_path):
    joints = torch.as_tensor(stick_motion("kit", frames=6), dtype=torch.float32)
    path = render_motion(joints, tmp_path / "kit.gif", skeleton="kit", size=160)
    assert_animated(read_frames(path), 6)


def test_mp4_frame_size_is_made_even(tmp_path):
    path = render_motion(stick_motion(frames=4), tmp_path / "odd.mp4", size=(161, 121))
    assert read_frames(path).shape[1:3] == (120, 160)


def test_mp4_falls_back_to_gif_without_ffmpeg(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(animation, "_ffmpeg_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        path = render_motion(stick_motion(frames=3), tmp_path / "walk.mp4", size=120)
    assert path == tmp_path / "walk.gif" and path.is_file()
    assert not (tmp_path / "walk.mp4").exists()
    assert "ffmpeg" in caplog.text


@pytest.mark.parametrize(
    "shape,skeleton",
    [
        ((12, 21, 3), "humanml3d"),
        ((12, 22), "humanml3d"),
        ((12, 22, 3), "kit"),
        ((0, 22, 3), "humanml3d"),
        ((12, 22, 2), "humanml3d"),
    ],
)
def test_bad_shapes_raise(tmp_path, shape, skeleton):
    with pytest.raises(ValueError, match=r"shape \(T, 2[12], 3\)"):
        render_motion(np.zeros(shape), tmp_path / "bad.gif", skeleton=skeleton)


def test_non_finite_joints_and_unknown_format_raise(tmp_path):
    joints = stick_motion(frames=2)
    with pytest.raises(ValueError, match="format"):
        render_motion(joints, tmp_path / "walk.avi")
    joints[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        render_motion(joints, tmp_path / "walk.gif")


def test_chain_colours_separate_left_and_right():
    for name in ("humanml3d", "kit"):
        skel = get_skeleton(name)
        colours = chain_colours(skel)
        r_hip, l_hip, r_shoulder, l_shoulder = skel.face_joints
        side = {j: colours[i] for i, chain in enumerate(skel.kinematic_chain) for j in chain[1:]}
        assert len({side[l_hip], side[r_hip], side[l_shoulder], side[r_shoulder]}) == 4


def test_load_joints_detects_skeleton(tmp_path):
    for name in ("humanml3d", "kit"):
        np.save(tmp_path / f"{name}.npy", stick_motion(name).astype(np.float32))
        joints, skeleton = load_motion_file(tmp_path / f"{name}.npy")
        assert skeleton == name and joints.shape == (12, get_skeleton(name).num_joints, 3)


def test_load_features_converts_to_joints(tmp_path):
    rng = np.random.default_rng(0)
    for name, dim, joints_count in (("humanml3d", 263, 22), ("kit", 251, 21)):
        np.save(tmp_path / "f.npy", rng.normal(size=(1, 9, dim)).astype(np.float32))
        joints, skeleton = load_motion_file(tmp_path / "f.npy")
        assert skeleton == name and joints.shape == (9, joints_count, 3)


def test_load_real_features_matches_joints_after_denormalising(tmp_path, require_fixture):
    real = require_fixture("fixtures", "humanml3d-representation", "real_sample")
    features = np.load(real / "000000_new_joint_vecs.npy")  # (116, 263)
    mean, std = (
        np.load(real / "humanml3d_dataset_Mean.npy"),
        np.load(real / "humanml3d_dataset_Std.npy"),
    )
    np.save(tmp_path / "norm.npy", (features - mean) / std)
    joints, skeleton = load_motion_file(
        tmp_path / "norm.npy",
        mean=real / "humanml3d_dataset_Mean.npy",
        std=real / "humanml3d_dataset_Std.npy",
    )
    assert skeleton == "humanml3d"
    np.testing.assert_allclose(joints, np.load(real / "000000_new_joints.npy"), atol=1e-4)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        load_motion_file(tmp_path / "missing.npy")
    (tmp_path / "garbage.npy").write_text("not numpy")
    with pytest.raises(ValueError, match="garbage.npy"):
        load_motion_file(tmp_path / "garbage.npy")
    np.save(tmp_path / "odd.npy", np.zeros((12, 100)))
    with pytest.raises(ValueError, match="odd.npy"):
        load_motion_file(tmp_path / "odd.npy")
    np.save(tmp_path / "joints.npy", stick_motion())
    with pytest.raises(ValueError, match="joints.npy"):
        load_motion_file(tmp_path / "joints.npy", skeleton="kit")
    with pytest.raises(ValueError, match="mean/std"):
        load_motion_file(tmp_path / "joints.npy", mean=np.zeros(263), std=np.ones(263))
