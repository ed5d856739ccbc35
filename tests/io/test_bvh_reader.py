"""BVH reader: hierarchy, channel and rotation orders, end sites, frame time, FK, bad input."""

import time

import numpy as np
import pytest
from mocap_samples import TINY_BVH as TINY
from mocap_samples import write_text

from remodiffuse.io import MocapFormatError, mocap_clip, read_bvh


def _one_joint(channels: str, values: str, end: str = "0 0 1") -> str:
    """A root with 6 channels and one joint of three rotation channels ending in an End Site."""
    return f"""HIERARCHY
ROOT Root
{{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT Arm
  {{
    OFFSET 1 0 0
    CHANNELS 3 {channels}
    End Site
    {{
      OFFSET {end}
    }}
  }}
}}
MOTION
Frames: 1
Frame Time: 0.05
0 0 0 0 0 0 {values}
"""


def test_tiny_file_structure(tmp_path):
    clip = read_bvh(write_text(tmp_path, "tiny.bvh", TINY))
    assert clip.joint_names == ("Hips", "Chest", "Chest_end", "Leg", "Leg_end")
    assert clip.parents == (-1, 0, 1, 0, 3)
    assert clip.positions.shape == (3, 5, 3)
    assert clip.positions.dtype == np.float64
    assert clip.fps == 30.0
    assert clip.source.name == "tiny.bvh"


def test_exact_forward_kinematics(tmp_path):
    positions = read_bvh(write_text(tmp_path, "tiny.bvh", TINY)).positions
    rest = [[0, 0, 0], [0, 10, 0], [0, 15, 0], [2, 0, 0], [2, -8, 0]]
    np.testing.assert_allclose(positions[0], rest, atol=1e-12)
    # Root moved to (1, 2, 3) and turned 90 degrees about Z: +Y -> -X, +X -> +Y.
    turned = [[1, 2, 3], [-9, 2, 3], [-14, 2, 3], [1, 4, 3], [9, 4, 3]]
    np.testing.assert_allclose(positions[1], turned, atol=1e-12)
    # Chest channels X Y Z: the Zrotation (third value) turns the chest end to -X.
    np.testing.assert_allclose(positions[2, 2], [-5, 10, 0], atol=1e-12)


@pytest.mark.parametrize(
    ("channels", "values", "expected"),
    [
        # Rx(90) @ Ry(90) @ z: Ry takes z to x, Rx keeps x.
        ("Xrotation Yrotation Zrotation", "90 90 0", [1, 0, 0]),
        # Ry(90) @ Rx(90) @ z: Rx takes z to -y, Ry keeps -y.
        ("Yrotation Xrotation Zrotation", "90 90 0", [0, -1, 0]),
        # Rz(90) @ Ry(90) @ Rx(0) @ z = Rz(90) @ x = y.
        ("Zrotation Yrotation Xrotation", "90 90 0", [0, 1, 0]),
        # Rz(90) @ Rx(90) @ Ry(0) @ z = Rz(90) @ -y = x.
        ("Zrotation Xrotation Yrotation", "90 90 0", [1, 0, 0]),
        # Values are matched to channels by position, not by axis.
        ("Yrotation Zrotation Xrotation", "0 0 -90", [0, 1, 0]),
        ("Xrotation Zrotation Yrotation", "-90 0 0", [0, 1, 0]),
    ],
)
def test_rotation_orders(tmp_path, channels, values, expected):
    clip = read_bvh(write_text(tmp_path, "order.bvh", _one_joint(channels, values)))
    end = clip.positions[0, clip.index("Arm_end")] - clip.positions[0, clip.index("Arm")]
    np.testing.assert_allclose(end, expected, atol=1e-12)


def test_position_channels_on_a_joint_replace_its_offset(tmp_path):
    text = _one_joint("Xposition Zrotation Yposition", "5 90 7", end="1 0 0")
    clip = read_bvh(write_text(tmp_path, "positions.bvh", text))
    np.testing.assert_allclose(clip.positions[0, clip.index("Arm")], [5, 7, 0], atol=1e-12)
    np.testing.assert_allclose(clip.positions[0, clip.index("Arm_end")], [5, 8, 0], atol=1e-12)


def test_layout_freedom_names_with_spaces_and_crlf(tmp_path):
    text = TINY.replace("JOINT Leg\n\t{", "JOINT Left Leg {").replace("\n", "\r\n")
    clip = read_bvh(write_text(tmp_path, "layout.bvh", text))
    assert "Left Leg" in clip.joint_names and "Left Leg_end" in clip.joint_names


@pytest.mark.parametrize(("frame_time", "fps"), [("0.0083333", 120.0), ("0.04", 25.0)])
def test_frame_time_gives_fps(tmp_path, frame_time, fps):
    clip = read_bvh(write_text(tmp_path, "fps.bvh", TINY.replace("0.0333333", frame_time)))
    assert clip.fps == fps


def test_max_frames(tmp_path):
    assert read_bvh(write_text(tmp_path, "tiny.bvh", TINY), max_frames=2).num_frames == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (TINY[: TINY.index("MOTION")], "no MOTION section"),
        (TINY[:200] + "\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n", "hierarchy ends early"),
        (TINY.rsplit("\n", 2)[0] + "\n", "3 frames declared but 2 found"),
        (TINY.replace("1 2 3 90 0 0 0 0 0 0 0 0", "1 2 3 90 0 0 0 0 0 0 0"), "has 11 values"),
        (TINY.replace("1 2 3 90", "1 nan 3 90"), "non-finite channel value in frame 1"),
        (TINY.replace("1 2 3 90", "1 abc 3 90"), "non-numeric"),
        (TINY.replace("Frames: 3", "Frames: 0").rsplit("\n", 4)[0] + "\n", "zero frames"),
        (TINY.replace("0.0333333", "0"), r"frame time 0 s is outside 0.001 \.\. 1 s"),
        (TINY.replace("0.0333333", "1000"), "frame time 1000 s is outside"),
        (TINY.replace("0.0333333", "1e-05"), "frame time 1e-05 s is outside"),
        (TINY.replace("0.0333333", "nan"), "frame time nan s is outside"),
        (TINY.replace("Frames: 3", "Frames: -3"), "negative frame count"),
        (TINY.replace("Frames: 3", "Frames: 2"), "2 frames declared but line 30 holds one more"),
        (TINY.replace("Frames: 3", "Frames: 5000000"), "5000000 frames, more than the 1000000"),
        (
            TINY.replace("CHANNELS 3 Zrotation Yrotation", "CHANNELS 9 Zrotation Yrotation"),
            "bad channel count '9'",
        ),  # fmt: skip
        (
            TINY.replace("CHANNELS 3 Zrotation Yrotation", "CHANNELS \xb2 Zrotation Yrotation"),
            "bad channel count",
        ),  # fmt: skip
        (TINY.replace("CHANNELS 3 Zrotation Yrotation", "CHANNELS " + "9" * 5000), "bad channel"),
        (
            TINY.replace("Zrotation Yrotation Xrotation", "Zrotation Yrotation Zrotation"),
            "repeated channels in joint 'Leg'",
        ),  # fmt: skip
        (TINY.replace("0 0 0 0 0 0 0 0 90 0 0 0", "0 " * 600_000), "line 30 is longer than"),
        (TINY.replace("Zrotation Xrotation", "Zrotation Wrotation"), "unknown channel"),
        (TINY.replace("HIERARCHY", "HIERARCHIE"), "does not start with HIERARCHY"),
        (TINY.replace("JOINT Leg", "JOINT Chest"), "duplicate joint name"),
        ("", "no MOTION section"),
    ],
)
def test_bad_input_names_file_and_problem(tmp_path, text, reason):
    path = write_text(tmp_path, "bad.bvh", text)
    with pytest.raises(MocapFormatError, match=reason) as error:
        read_bvh(path)
    assert str(path) in str(error.value) and error.value.path == path


def _chain(joints: int, frames: int) -> str:
    """A BVH of a chain of `joints` joints (one rotation channel each) and `frames` zero frames."""
    opening = "".join(f"{'ROOT' if n == 0 else 'JOINT'} j{n}\n{{\nOFFSET 0 1 0\n"
                      "CHANNELS 1 Zrotation\n" for n in range(joints))  # fmt: skip
    closing = "}\n" * joints
    rows = (" ".join(["0"] * joints) + "\n") * frames
    return f"HIERARCHY\n{opening}{closing}MOTION\nFrames: {frames}\nFrame Time: 0.05\n{rows}"


def test_size_limits(tmp_path, monkeypatch):
    assert read_bvh(write_text(tmp_path, "ok.bvh", _chain(500, 2))).positions.shape == (2, 500, 3)
    with pytest.raises(MocapFormatError, match="more than the 500 joints allowed"):
        read_bvh(write_text(tmp_path, "joints.bvh", _chain(501, 2)))
    monkeypatch.setattr(mocap_clip, "MAX_JOINT_FRAMES", 100)
    with pytest.raises(MocapFormatError, match="11 frames x 10 joints is more than the 100"):
        read_bvh(write_text(tmp_path, "frames.bvh", _chain(10, 11)))
    monkeypatch.setattr(mocap_clip, "MAX_FILE_BYTES", 100)
    with pytest.raises(MocapFormatError, match="larger than the 100 bytes allowed"):
        read_bvh(write_text(tmp_path, "tiny.bvh", TINY))


def test_blank_lines_cost_no_time(tmp_path):
    """Millions of blank lines (before and after MOTION) are scanned in linear time."""
    text = TINY.replace("MOTION", "\n" * 2_000_000 + "MOTION").replace(
        "\n0 0 0", "\n \n" * 500_000 + "0 0 0", 1
    )
    start = time.perf_counter()
    assert read_bvh(write_text(tmp_path, "blank.bvh", text)).num_frames == 3
    assert time.perf_counter() - start < 5.0


def test_missing_file(tmp_path):
    with pytest.raises(MocapFormatError, match="cannot read file"):
        read_bvh(tmp_path / "absent.bvh")


def test_real_cmu_bvh(require_fixture):
    cmu_dir = require_fixture("data", "cmu-mini")
    clip = read_bvh(cmu_dir / "bvh" / "131_01.bvh")
    assert clip.fps == 120.0 and clip.num_frames == 994
    assert {"Hips", "LeftHip", "LeftShoulder", "LThumb", "Head_end"} <= set(clip.joint_names)
    parents = np.array(clip.parents[1:])
    bones = np.linalg.norm(clip.positions[:, 1:] - clip.positions[:, parents], axis=-1)
    assert np.ptp(bones, axis=0).max() < 1e-9  # rigid bones over time
    height = clip.positions[:, clip.index("Head_end"), 1] - clip.positions[..., 1].min(axis=1)
    assert 20 < np.median(height) < 35  # CMU units: inches / 0.45
