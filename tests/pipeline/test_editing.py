"""Editing options of generate: motion files read in every format, what each option pins."""

import json
import subprocess
import sys

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.export.bvh import write_bvh
from remodiffuse.motion import features_from_joints, get_skeleton
from remodiffuse.motion.channels import body_part_joints, joint_channels, pose_channels
from remodiffuse.pipeline import MotionGenerator
from remodiffuse.pipeline.editing import known_motion, read_motion_features

SKELETON = get_skeleton("humanml3d")


@pytest.fixture(scope="module")
def generator(tiny_trained_run) -> MotionGenerator:
    return MotionGenerator(tiny_trained_run[0])


@pytest.fixture(scope="module")
def source(generator):
    """A generated 60-frame motion: its features and joints."""
    return generator.generate(["a person runs"], [60], seed=9, steps=4)[0]


def test_features_joints_and_bvh_files_are_read_as_features(source, tmp_path):
    np.save(tmp_path / "f.npy", source.features)
    np.save(tmp_path / "j.npy", source.joints)
    write_bvh(source.joints, tmp_path / "m.bvh", fps=20.0, skeleton="humanml3d")
    np.testing.assert_array_equal(
        read_motion_features(tmp_path / "f.npy", SKELETON, 20.0), source.features
    )
    from_joints = read_motion_features(tmp_path / "j.npy", SKELETON, 20.0)
    np.testing.assert_allclose(from_joints, features_from_joints(source.joints), atol=1e-6)
    from_bvh = read_motion_features(tmp_path / "m.bvh", SKELETON, 20.0)
    assert from_bvh.shape[1] == 263 and abs(len(from_bvh) - 59) <= 1 and np.isfinite(from_bvh).all()


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((30, 251)), r"shape \(30, 251\) is neither"),
        (np.zeros((30, 21, 3)), r"shape \(30, 21, 3\) is neither"),
        (np.full((5, 263), np.nan), "non-finite values in frame 0"),
        (np.array(["a"]), "expected numbers"),
    ],
)
def test_bad_motion_files_are_named(tmp_path, array, match):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(InputError, match=f"bad.npy: {match}"):
        read_motion_features(tmp_path / "bad.npy", SKELETON, 20.0)
    with pytest.raises(InputError, match="no such motion file"):
        read_motion_features(tmp_path / "absent.npy", SKELETON, 20.0)


def test_each_option_pins_its_channels(source, tmp_path):
    np.save(tmp_path / "m.npy", source.features)
    path = tmp_path / "m.npy"
    prefix = known_motion(80, SKELETON, 20.0, prefix=path)
    assert (prefix.weight[:60] == 1).all() and (prefix.weight[60:] == 0).all()
    keys = known_motion(60, SKELETON, 20.0, keyframes=path, keyframe_frames=[0, 30, 59])
    assert (keys.weight[[0, 30, 59]] == pose_channels(SKELETON)).all()
    assert keys.weight.sum() == 3 * pose_channels(SKELETON).sum()
    edit = known_motion(60, SKELETON, 20.0, edit="upper_body", source=path)
    lower = joint_channels(SKELETON, body_part_joints(SKELETON, "lower_body"))
    assert (edit.weight == lower).all()
    np.testing.assert_array_equal(edit.features[:, lower], source.features[:, lower])
    assert known_motion(60, SKELETON, 20.0) is None


@pytest.mark.parametrize(
    "options, match",
    [
        ({"prefix": "m.npy"}, "m.npy: 60 frames, not shorter than length=60"),
        ({"keyframes": "m.npy", "keyframe_frames": [0, 60]}, "frame 60 is outside the motion"),
        ({"keyframes": "m.npy"}, "go together"),
        ({"keyframes": "m.npy", "keyframe_frames": []}, "keyframe_frames is empty"),
        ({"edit": "arms", "source": "m.npy"}, "edit='arms'"),
        ({"edit": "upper_body"}, "go together"),
    ],
)
def test_bad_editing_options_say_what_is_wrong(source, tmp_path, options, match):
    np.save(tmp_path / "m.npy", source.features)
    options = {k: tmp_path / v if k in ("prefix", "keyframes") else v for k, v in options.items()}
    with pytest.raises(InputError, match=match):
        known_motion(60, SKELETON, 20.0, **options)
    with pytest.raises(InputError, match="source=.*: 60 frames but length=50"):
        known_motion(50, SKELETON, 20.0, edit="lower_body", source=tmp_path / "m.npy")


def _generate(run_dir, cwd, *options):
    """Run generate in `cwd` (created) into cwd/out."""
    cwd.mkdir()
    out = cwd / "out"
    command = [sys.executable, "-m", "remodiffuse.generate", f"ckpt={run_dir}", "steps=4"]
    command += ["render=false", f"out_dir={out}", *options]
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return out


@pytest.mark.slow
def test_generate_cli_continues_a_prefix_edits_a_body_part_and_follows_a_timeline(
    tiny_trained_run, source, tmp_path
):
    run_dir = tiny_trained_run[0]
    np.save(tmp_path / "prefix.npy", source.features[:20])
    np.save(tmp_path / "m.npy", source.features)
    out = _generate(
        run_dir, tmp_path / "a", "text=a person jumps", "length=60", "prefix=../prefix.npy"
    )
    continued = np.load(next(out.glob("0_*.features.npy")))
    assert continued.shape == (60, 263)
    np.testing.assert_array_equal(continued[:20], source.features[:20])
    out = _generate(
        run_dir,
        tmp_path / "b",
        "text=someone waves",
        "length=60",
        "edit=upper_body",
        "source=../m.npy",
    )
    edited = np.load(next(out.glob("0_*.features.npy")))
    lower = joint_channels(SKELETON, body_part_joints(SKELETON, "lower_body"))
    np.testing.assert_array_equal(edited[:, lower], source.features[:, lower])
    assert not np.array_equal(edited[:, ~lower], source.features[:, ~lower])
    (tmp_path / "t.txt").write_text("a person walks forward#0#3\na person jumps#3#12.5\n")
    out = _generate(run_dir, tmp_path / "c", "timeline=../t.txt")
    assert np.load(next(out.glob("0_*.joints.npy"))).shape == (250, 22, 3)
    (entry,) = json.loads((out / "retrieved.json").read_text())
    assert [s["text"] for s in entry["segments"]] == ["a person walks forward", "a person jumps"]
    assert len(entry["segments"][1]["windows"]) == 2 and next(out.glob("0_*.bvh"))
