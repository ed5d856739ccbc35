"""Joint maps: built-in maps chosen by joint names, YAML maps, unmapped-joint errors."""

from pathlib import Path

import numpy as np
import pytest

from remodiffuse.io import BUILTIN_JOINT_MAPS, JointMapError, MocapClip, load_joint_map
from remodiffuse.io.joint_map import (
    HUMANML3D_JOINTS,
    apply_joint_map,
    resolve_joint_map,
    select_joint_map,
)

CMU_ASF = (
    "root lhipjoint lfemur ltibia lfoot ltoes rhipjoint rfemur rtibia rfoot rtoes lowerback "
    "upperback thorax lowerneck upperneck head lclavicle lhumerus lradius lwrist lhand lfingers "
    "lthumb rclavicle rhumerus rradius rwrist rhand rfingers rthumb"
).split()
CMU_BVH = (
    "Hips LHipJoint LeftHip LeftKnee LeftAnkle LeftToe LeftToe_end RHipJoint RightHip RightKnee "
    "RightAnkle RightToe RightToe_end lowerback Chest Chest2 lowerneck Neck Head Head_end "
    "LeftCollar LeftShoulder LeftElbow LeftWrist RightCollar RightShoulder RightElbow RightWrist"
).split()
MIXAMO = [
    f"mixamorig:{name}"
    for name in (
        "Hips Spine Spine1 Spine2 Neck Head HeadTop_End LeftShoulder LeftArm LeftForeArm LeftHand "
        "RightShoulder RightArm RightForeArm RightHand LeftUpLeg LeftLeg LeftFoot LeftToeBase "
        "RightUpLeg RightLeg RightFoot RightToeBase"
    ).split()
]
SMPL_CAPS = (
    "Pelvis L_Hip R_Hip Spine1 L_Knee R_Knee Spine2 L_Ankle R_Ankle Spine3 L_Foot R_Foot Neck "
    "L_Collar R_Collar Head L_Shoulder R_Shoulder L_Elbow R_Elbow L_Wrist R_Wrist"
).split()


def clip_of(names: list[str], frames: int = 2) -> MocapClip:
    """A clip with the given joint names (a flat hierarchy) and joint n at (n, frame, 0)."""
    positions = np.zeros((frames, len(names), 3))
    positions[..., 0] = np.arange(len(names))
    positions[..., 1] = np.arange(frames)[:, None]
    parents = (-1,) + (0,) * (len(names) - 1)
    return MocapClip(tuple(names), parents, positions, 30.0, Path("clip.bvh"))


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (list(HUMANML3D_JOINTS), "smpl"),
        (SMPL_CAPS, "smpl_capitalised"),
        (CMU_ASF, "cmu_asf"),
        (CMU_BVH, "cmu_bvh"),
        (MIXAMO, "mixamo"),
        ([name.split(":")[1] for name in MIXAMO], "mixamo"),
        ([name.replace("mixamorig:", "mixamorig1:") for name in MIXAMO], "mixamo"),
    ],
)
def test_builtin_map_chosen_by_names(names, expected):
    name, indices = select_joint_map(clip_of(names))
    assert name == expected
    assert list(indices) == list(HUMANML3D_JOINTS)


def test_every_builtin_map_covers_the_22_joints_and_sides_are_consistent():
    for joint_map in BUILTIN_JOINT_MAPS.values():
        assert list(joint_map) == list(HUMANML3D_JOINTS)
    assert BUILTIN_JOINT_MAPS["cmu_asf"]["right_knee"] == "rfemur"
    assert BUILTIN_JOINT_MAPS["cmu_asf"]["right_collar"] == ["thorax", "rclavicle"]
    assert BUILTIN_JOINT_MAPS["cmu_bvh"]["spine1"] == {"Hips": 1.5, "LeftHip": -0.25,
                                                       "RightHip": -0.25}  # fmt: skip
    assert BUILTIN_JOINT_MAPS["mixamo"]["right_wrist"] == "RightHand"
    assert BUILTIN_JOINT_MAPS["smpl_capitalised"]["right_foot"] == "R_Foot"


def test_cmu_asf_map_uses_bone_end_points():
    clip = clip_of(CMU_ASF)
    _, indices = select_joint_map(clip)
    joints = apply_joint_map(clip, indices)  # (T, 22, 3)
    at = {name: joints[0, n, 0] for n, name in enumerate(HUMANML3D_JOINTS)}
    assert at["left_knee"] == CMU_ASF.index("lfemur")  # knee = femur end = tibia start
    assert at["left_collar"] == (CMU_ASF.index("thorax") + CMU_ASF.index("lclavicle")) / 2


def test_unmapped_joints_error_lists_them():
    names = [name for name in MIXAMO if not name.endswith(("LeftHand", "RightToeBase"))]
    with pytest.raises(JointMapError) as error:
        select_joint_map(clip_of(names))
    message = str(error.value)
    assert "closest is 'mixamo'" in message
    assert "left_wrist <- LeftHand" in message and "right_foot <- RightToeBase" in message
    assert "clip.bvh" in message and "YAML joint map" in message


def test_yaml_map_with_a_list_entry(tmp_path):
    entries = {name: f"j_{name}" for name in HUMANML3D_JOINTS}
    entries["spine2"] = ["j_spine1", "j_spine3"]
    text = "\n".join(
        f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {value}"
        for key, value in entries.items()
    )
    path = tmp_path / "map.yaml"
    path.write_text(text)
    assert load_joint_map(path)["spine2"] == {"j_spine1": 0.5, "j_spine3": 0.5}
    clip = clip_of([f"j_{name}" for name in HUMANML3D_JOINTS])
    indices = resolve_joint_map(path, clip)
    assert indices["spine2"] == {3: 0.5, 9: 0.5} and indices["head"] == {15: 1.0}


def test_weighted_entry_is_an_affine_combination(tmp_path):
    text = "\n".join(f"{name}: j_{name}" for name in HUMANML3D_JOINTS if name != "spine1")
    path = tmp_path / "map.yaml"
    path.write_text(text + "\nspine1: {j_pelvis: 1.5, j_left_hip: -0.25, j_right_hip: -0.25}\n")
    clip = clip_of([f"j_{name}" for name in HUMANML3D_JOINTS])
    joints = apply_joint_map(clip, resolve_joint_map(path, clip))  # (T, 22, 3)
    # joint n sits at x = n: 1.5 * 0 - 0.25 * 1 - 0.25 * 2 = -0.75; y (the frame) is kept
    np.testing.assert_allclose(joints[:, 3], [[-0.75, 0.0, 0.0], [-0.75, 1.0, 0.0]])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("pelvis: Hips\n", "no source joint for left_hip"),
        ("- a\n- b\n", "expected a mapping"),
        ("pelvis: [Hips, [x]]\n", "pelvis: expected a joint name"),
        ("pelvis: {Hips: 1.5, LeftHip: -0.25}\n", "weights summing to 1"),
        ("pelvis: {Hips: one}\n", "pelvis: expected a joint name"),
        (": : :\n", "cannot read joint map"),
    ],
)
def test_bad_yaml_maps(tmp_path, text, reason):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(JointMapError, match=reason):
        load_joint_map(path)


def test_map_naming_absent_joints(tmp_path):
    joint_map = {name: name for name in HUMANML3D_JOINTS} | {"unknown_joint": "x"}
    with pytest.raises(JointMapError, match="unknown HumanML3D joints unknown_joint"):
        resolve_joint_map(joint_map, clip_of(list(HUMANML3D_JOINTS)))
    joint_map = {name: name for name in HUMANML3D_JOINTS} | {"head": "Kopf"}
    with pytest.raises(JointMapError, match="not in the file: head <- Kopf"):
        resolve_joint_map(joint_map, clip_of(list(HUMANML3D_JOINTS)))
