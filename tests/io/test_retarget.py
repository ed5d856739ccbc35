"""Retargeting to the 22 HumanML3D joints: unseen hierarchies, units, up axis, T-pose, fps."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from mocap_samples import rest_pose, walking, write_text

from remodiffuse.io import (
    JointMapError,
    MocapClip,
    MocapFormatError,
    detect_metres_per_unit,
    detect_up_axis,
    is_tpose_first_frame,
    read_asf_amc,
    read_bvh,
    resample,
    retarget_clip,
    select_joint_map,
    to_humanml3d_joints,
)
from remodiffuse.io.retarget import LENGTH_UNITS, body_height
from remodiffuse.io.rotations import rotation_between
from remodiffuse.motion import features_from_joints, get_skeleton

SKELETON = get_skeleton("humanml3d")
NAMES = SKELETON.joint_names
FRENCH_NAMES = (
    "Bassin HancheG HancheD Lombaires GenouG GenouD Dorsales ChevilleG ChevilleD Thorax PiedG "
    "PiedD Cou ClaviculeG ClaviculeD Tete EpauleG EpauleD CoudeG CoudeD PoignetG PoignetD"
)
FRENCH = dict(zip(NAMES, FRENCH_NAMES.split(), strict=True))


def _z_up(points: np.ndarray) -> np.ndarray:
    """(..., 3) Y-up points -> the same points in a Z-up frame where the body faces -Y."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _y_up(points: np.ndarray) -> np.ndarray:
    """Inverse of `_z_up`."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def _french_bvh(rest: np.ndarray, yaw_degrees: np.ndarray, shift_cm: np.ndarray) -> str:
    """Z-up centimetre BVH of the rest pose (22, 3) with unseen names, an extra spine joint and
    an extra leaf; the root turns by yaw_degrees (T,) about Z and moves by shift_cm (T, 3)."""
    points = _z_up(rest * 100.0)  # (22, 3)
    lines: list[str] = []

    def write(name: str, offset: np.ndarray, kids: list, depth: int) -> None:
        pad = "  " * depth
        lines.extend([f"{pad}{'JOINT' if depth else 'ROOT'} {name}", pad + "{"])
        lines.append(f"{pad}  OFFSET {offset[0]:.9f} {offset[1]:.9f} {offset[2]:.9f}")
        position = "6 Xposition Yposition Zposition" if depth == 0 else "3"
        lines.append(f"{pad}  CHANNELS {position} Zrotation Xrotation Yrotation")
        for kid in kids:
            write(*kid, depth + 1)
        if not kids:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0 0 3", pad + "  }"])
        lines.append(pad + "}")

    def subtree(joint: int) -> tuple[str, np.ndarray, list]:
        parent = SKELETON.parents[joint]
        offset = points[joint] - points[parent] if parent >= 0 else np.zeros(3)
        kids = [subtree(kid) for kid, up in enumerate(SKELETON.parents) if up == joint]
        if NAMES[joint] == "spine1":  # an extra joint halfway along the bone
            return ("Ventre", offset / 2, [(FRENCH["spine1"], offset / 2, kids)])
        if NAMES[joint] == "pelvis":
            kids.append(("Queue", np.array([0.0, 10.0, -5.0]), []))
        return (FRENCH[NAMES[joint]], offset, kids)

    write(*subtree(0), depth=0)
    rotated = sum("CHANNELS 3" in line for line in lines)
    rows = [
        " ".join(f"{v:.9f}" for v in [*(points[0] + shift), yaw, 0, 0] + [0] * (3 * rotated))
        for yaw, shift in zip(yaw_degrees, shift_cm, strict=True)
    ]
    motion = f"MOTION\nFrames: {len(rows)}\nFrame Time: 0.0083333\n" + "\n".join(rows)
    return "HIERARCHY\n" + "\n".join(lines) + "\n" + motion + "\n"


def _clip(joints: np.ndarray, fps: float = 20.0, names: tuple[str, ...] = NAMES) -> MocapClip:
    """A clip with the HumanML3D joints and names."""
    return MocapClip(names, SKELETON.parents, joints, fps, Path("motion.bvh"))


def test_unseen_hierarchy_with_a_yaml_map(tmp_path):
    rest = rest_pose()
    frames = 5
    yaw = np.linspace(0.0, 60.0, frames)
    shift = np.zeros((frames, 3))
    shift[:, 0] = np.linspace(0.0, 20.0, frames)
    clip = read_bvh(write_text(tmp_path, "francais.bvh", _french_bvh(rest, yaw, shift)))
    with pytest.raises(JointMapError, match="no built-in joint map fits"):
        select_joint_map(clip)
    map_path = tmp_path / "francais.yaml"
    map_path.write_text(yaml.safe_dump(FRENCH))

    result = retarget_clip(clip, map_path)

    assert result.metres_per_unit == 0.01 and result.up_axis == "+z"
    assert not result.dropped_first_frame and result.fps == 120.0 and result.joint_map == "custom"
    theta = np.radians(yaw)[:, None]  # a yaw about Z-up is a yaw about Y-up
    relative = rest - rest[0]  # (22, 3)
    expected = (
        np.stack(
            [
                np.cos(theta) * relative[:, 0] + np.sin(theta) * relative[:, 2],
                np.broadcast_to(relative[:, 1], (frames, 22)),
                -np.sin(theta) * relative[:, 0] + np.cos(theta) * relative[:, 2],
            ],
            axis=-1,
        )
        + (rest[0] + _y_up(shift) / 100.0)[:, None]
    )
    expected[..., 1] -= expected[..., 1].min()
    np.testing.assert_allclose(result.joints, expected, atol=1e-9)


@pytest.mark.parametrize("unit", list(LENGTH_UNITS))
def test_units_detected_from_body_size(unit):
    joints = walking(10) / LENGTH_UNITS[unit]
    assert detect_metres_per_unit(joints) == LENGTH_UNITS[unit]


def test_unit_hint_used_only_when_plausible():
    cmu = LENGTH_UNITS["cmu"]
    assert detect_metres_per_unit(walking(10) / cmu, hint=cmu) == cmu
    assert detect_metres_per_unit(walking(10) * 1000, hint=0.0254) == 0.001
    assert 1.4 < body_height(walking(10)) < 1.7


@pytest.mark.parametrize("axis", ["+x", "-x", "+y", "-y", "+z", "-z"])
def test_up_axis_detected_and_turned_to_y(axis):
    walk = walking(20)
    direction = np.zeros(3)
    direction["xyz".index(axis[1])] = 1.0 if axis[0] == "+" else -1.0
    turned = walk @ rotation_between(np.array([0.0, 1.0, 0.0]), direction).T
    assert detect_up_axis(turned) == axis
    result = retarget_clip(_clip(turned), metres_per_unit=1.0)
    assert result.up_axis == axis
    np.testing.assert_allclose(result.joints[..., 1], walk[..., 1] - walk[..., 1].min(), atol=1e-9)


def test_given_up_axis():
    walk = walking(10)
    joints = to_humanml3d_joints(_clip(_z_up(walk)), up_axis="z", metres_per_unit=1.0)
    np.testing.assert_allclose(joints, walk - [0, walk[..., 1].min(), 0], atol=1e-12)
    with pytest.raises(ValueError, match="up_axis"):
        to_humanml3d_joints(_clip(walk), up_axis="w")


def test_mirrored_file_is_refused():
    mirrored = walking(10) * [-1.0, 1.0, 1.0]  # one axis flipped: left and right swap sides
    with pytest.raises(MocapFormatError, match="looks mirrored"):
        to_humanml3d_joints(_clip(mirrored))


def _t_pose(pose: np.ndarray) -> np.ndarray:
    """The pose (22, 3) with both arms stretched out horizontally from the collars."""
    out = pose.copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        previous = NAMES.index(f"{side}_collar")
        for name in ("shoulder", "elbow", "wrist"):
            joint = NAMES.index(f"{side}_{name}")
            length = np.linalg.norm(pose[joint] - pose[SKELETON.parents[joint]])
            out[joint] = out[previous] + [sign * length, 0.0, 0.0]
            previous = joint
    return out


def test_t_pose_first_frame_detection():
    walk = walking(30, fps=120.0)
    assert not is_tpose_first_frame(walk)
    with_t_pose = walk.copy()
    with_t_pose[0] = _t_pose(walk[0]) + [0.0, 0.0, -0.3]
    assert is_tpose_first_frame(with_t_pose)
    steady_t_pose = np.repeat(_t_pose(walk[0])[None], 30, axis=0)  # T-pose held: no jump
    assert not is_tpose_first_frame(steady_t_pose)
    assert not is_tpose_first_frame(with_t_pose[:1])

    clip = _clip(with_t_pose, fps=120.0)
    assert retarget_clip(clip).dropped_first_frame
    assert to_humanml3d_joints(clip).shape[0] == 29
    assert to_humanml3d_joints(clip, drop_first_frame=False).shape[0] == 30
    assert to_humanml3d_joints(_clip(walk), drop_first_frame=True).shape[0] == 29


def test_resample_120_to_20_fps():
    ramp = np.arange(121, dtype=np.float64)[:, None, None] * np.ones((1, 2, 3))  # (121, 2, 3)
    out = resample(ramp, 120.0, 20.0)
    assert out.shape == (21, 2, 3)
    np.testing.assert_allclose(out[:, 0, 0], np.arange(0, 121, 6))
    assert resample(ramp[:120], 120.0).shape[0] == 20  # the last partial step is not padded


def test_resample_interpolates_linearly():
    frames = np.array([0.0, 1.0, 4.0, 9.0])[:, None]  # 30 fps
    np.testing.assert_allclose(resample(frames, 30.0, 20.0)[:, 0], [0.0, 2.5, 9.0])
    np.testing.assert_allclose(resample(frames, 30.0, 60.0)[:, 0], [0, 0.5, 1, 2.5, 4, 6.5, 9])
    with pytest.raises(ValueError, match="positive"):
        resample(frames, 0.0)


def _check_human(joints: np.ndarray) -> None:
    """Y-up metres, a plausible body and feet on the floor most of the time."""
    assert 1.2 < body_height(joints) < 1.9
    assert 1.2 < np.median(joints[:, NAMES.index("head"), 1]) < 1.9
    feet = [NAMES.index(name) for name in ("left_foot", "right_foot", "left_ankle", "right_ankle")]
    assert np.median(joints[:, feet, 1].min(axis=1)) < 0.05


def _forward_distance(joints: np.ndarray) -> float:
    """Root displacement along the facing direction of the first frame."""
    left = joints[0, NAMES.index("left_hip")] - joints[0, NAMES.index("right_hip")]
    facing = np.cross(left, [0.0, 1.0, 0.0])
    return float((joints[-1, 0] - joints[0, 0]) @ facing / np.linalg.norm(facing))


def test_real_cmu_asf_walk(require_fixture):
    cmu_dir = require_fixture("data", "cmu-mini")
    clip = read_asf_amc(cmu_dir / "asfamc" / "02.asf", cmu_dir / "asfamc" / "02_01.amc")
    result = retarget_clip(clip)
    assert result.joint_map == "cmu_asf" and result.up_axis == "+y"
    assert result.metres_per_unit == pytest.approx(0.0254 / 0.45)
    assert not result.dropped_first_frame
    _check_human(result.joints)
    assert _forward_distance(result.joints) > 2.5  # "walk": about 3.4 m straight ahead
    joints = resample(result.joints, clip.fps)  # 343 frames at 120 fps -> 58 at 20 fps
    assert joints.shape == (58, 22, 3)
    assert np.isfinite(features_from_joints(joints)).all()


def test_real_cmu_bvh_walk(require_fixture):
    cmu_dir = require_fixture("data", "cmu-mini")
    clip = read_bvh(cmu_dir / "bvh" / "131_01.bvh")
    result = retarget_clip(clip)
    assert result.joint_map == "cmu_bvh" and result.up_axis == "+y"
    assert result.metres_per_unit == LENGTH_UNITS["cmu"]
    assert not result.dropped_first_frame
    _check_human(result.joints)
    walk = result.joints[540:780]  # the straight walk after the start
    assert _forward_distance(walk) > 1.0
    joints = resample(result.joints, clip.fps)
    assert joints.shape == (166, 22, 3)
    assert np.isfinite(features_from_joints(joints)).all()
