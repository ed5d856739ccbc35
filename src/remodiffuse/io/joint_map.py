"""Joint maps {humanml3d_joint: source_joint(s)}: built-in maps, YAML maps, automatic choice.

A source entry is one joint name, a list of names whose mean position is used (e.g. a collar
halfway between the chest and the shoulder when the source skeleton has no collar joint), or a
mapping {name: weight} with weights summing to 1: an affine combination, which moves rigidly with
its joints (e.g. a spine joint above the pelvis from the pelvis and both hips).
Names are matched exactly first, then ignoring case, "_"/"-"/spaces and a "namespace:" prefix.

The built-in maps keep HumanML3D's branching groups rigid where the source skeleton is: the
pelvis with both hips and spine1, and spine3 with the neck and both collars, are each placed by
source points that move as one body (tests/io/test_joint_map.py checks this on the CMU takes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

from remodiffuse.errors import InputError
from remodiffuse.io.mocap_clip import MocapClip
from remodiffuse.motion import get_skeleton

__all__ = [
    "BUILTIN_JOINT_MAPS",
    "HUMANML3D_JOINTS",
    "JointMap",
    "JointMapError",
    "load_joint_map",
    "resolve_joint_map",
    "select_joint_map",
    "apply_joint_map",
]

HUMANML3D_JOINTS: tuple[str, ...] = get_skeleton("humanml3d").joint_names
JointMap = Mapping[str, str | Sequence[str] | Mapping[str, float]]
Weights = dict[str, float]  # one entry: source joint name -> weight (the weights sum to 1)


class JointMapError(InputError):
    """A joint map that does not fit a file, or that does not cover the 22 HumanML3D joints."""


Entry = str | list[str] | dict[str, float]


def _sided(centre: dict[str, Entry], left: dict[str, Entry]) -> dict[str, Entry]:
    """Full map from the centre joints and the left side; right = left with a Left/L/l prefix
    turned into Right/R/r (names without such a prefix are shared)."""

    def mirror(name: str) -> str:
        for a, b in (("Left", "Right"), ("L_", "R_"), ("l", "r")):
            if name.startswith(a):
                return b + name[len(a) :]
        return name

    full = dict(centre)
    for joint, source in left.items():
        full[joint] = source
        other = joint.replace("left_", "right_")
        full[other] = mirror(source) if isinstance(source, str) else [mirror(s) for s in source]
    return {name: full[name] for name in HUMANML3D_JOINTS}


def _above(pelvis: str, left_hip: str, right_hip: str) -> dict[str, float]:
    """A point half as far above the pelvis as the hips' midpoint is below it, fixed to the
    pelvis and hips (spine1 for skeletons whose lower back turns at the pelvis)."""
    return {pelvis: 1.5, left_hip: -0.25, right_hip: -0.25}


_LIMBS = ("collar", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "foot")

BUILTIN_JOINT_MAPS: dict[str, dict[str, str | list[str]]] = {
    # SMPL / HumanML3D names, as written by remodiffuse.export.bvh.
    "smpl": {name: name for name in HUMANML3D_JOINTS},
    "smpl_capitalised": _sided(
        {"pelvis": "Pelvis", "spine1": "Spine1", "spine2": "Spine2", "spine3": "Spine3",
         "neck": "Neck", "head": "Head"},
        {f"left_{limb}": f"L_{limb.capitalize()}" for limb in _LIMBS},
    ),
    # CMU Acclaim skeleton: ASF joints are bone END points, so a HumanML3D joint is the end of
    # the bone before it (hip = lhipjoint end = lfemur start, knee = lfemur end, ...). The lower
    # back and the lower neck turn at the root and the thorax, so spine1 is a point fixed to the
    # pelvis and hips, and the neck the midpoint of the clavicle ends (fixed to the thorax).
    "cmu_asf": _sided(
        {"pelvis": "root", "spine1": _above("root", "lhipjoint", "rhipjoint"),
         "spine2": "upperback", "spine3": "thorax", "neck": ["lclavicle", "rclavicle"],
         "head": "upperneck"},
        {"left_hip": "lhipjoint", "left_knee": "lfemur", "left_ankle": "ltibia",
         "left_foot": "lfoot", "left_collar": ["thorax", "lclavicle"],
         "left_shoulder": "lclavicle", "left_elbow": "lhumerus", "left_wrist": "lradius"},
    ),
    # CMU takes converted to BVH (Hips, LHipJoint, LeftHip, ..., Chest, Chest2, LeftCollar):
    # BVH joints are bone START points; the thorax is merged into Chest2. As in the ASF map,
    # spine1 is fixed to the pelvis and hips and the neck is the shoulders' midpoint.
    "cmu_bvh": _sided(
        {"pelvis": "Hips", "spine1": _above("Hips", "LeftHip", "RightHip"), "spine2": "Chest",
         "spine3": "Chest2", "neck": ["LeftShoulder", "RightShoulder"], "head": "Head"},
        {"left_hip": "LeftHip", "left_knee": "LeftKnee", "left_ankle": "LeftAnkle",
         "left_foot": "LeftToe", "left_collar": ["LeftCollar", "LeftShoulder"],
         "left_shoulder": "LeftShoulder", "left_elbow": "LeftElbow", "left_wrist": "LeftWrist"},
    ),
    # Mixamo rigs (mixamorig:Hips, ...); the namespace prefix is ignored when matching.
    "mixamo": _sided(
        {"pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2",
         "neck": "Neck", "head": "Head"},
        {"left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
         "left_foot": "LeftToeBase", "left_collar": "LeftShoulder", "left_shoulder": "LeftArm",
         "left_elbow": "LeftForeArm", "left_wrist": "LeftHand"},
    ),
}  # fmt: skip


def _normalise(name: str) -> str:
    """Name key for loose matching: no namespace prefix, case, spaces, "_" or "-"."""
    return re.sub(r"[\s_\-.]", "", name.rsplit(":", 1)[-1]).lower()


def _weights(entry: object) -> Weights | None:
    """{source name: weight} of one map entry (a name, a list of names: equal weights, or a
    mapping of weights summing to 1); None when the entry has none of these forms."""
    if isinstance(entry, str):
        return {entry: 1.0}
    if isinstance(entry, list | tuple) and entry and all(isinstance(s, str) for s in entry):
        weights: Weights = {}
        for source in entry:
            weights[source] = weights.get(source, 0.0) + 1.0 / len(entry)
        return weights
    if isinstance(entry, Mapping) and entry and all(isinstance(s, str) for s in entry):
        values = list(entry.values())
        numbers = all(isinstance(w, int | float) and not isinstance(w, bool) for w in values)
        if numbers and np.isfinite(values).all() and abs(sum(values) - 1.0) < 1e-6:
            return {source: float(weight) for source, weight in entry.items()}
    return None


def _check_joint_map(joint_map: JointMap, origin: str) -> dict[str, Weights]:
    """Validate the keys (exactly the 22 HumanML3D joints) and the entries; {joint: weights}."""
    unknown = sorted(set(joint_map) - set(HUMANML3D_JOINTS))
    missing = [name for name in HUMANML3D_JOINTS if name not in joint_map]
    problems = []
    if missing:
        problems.append(f"no source joint for {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown HumanML3D joints {', '.join(unknown)}")
    out = {}
    for name in HUMANML3D_JOINTS:
        weights = _weights(joint_map.get(name))
        if name in joint_map and weights is None:
            problems.append(
                f"{name}: expected a joint name, a list of names or a mapping of names to "
                f"weights summing to 1, got {joint_map[name]!r}"
            )
        out[name] = weights or {}
    if problems:
        raise JointMapError(f"joint map {origin}: {'; '.join(problems)}")
    return out


def load_joint_map(path: str | Path) -> dict[str, Weights]:
    """Read and validate a YAML joint map {humanml3d_joint: name | [names] | {name: weight}}."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise JointMapError(f"cannot read joint map {path}: {exc}") from None
    if not isinstance(data, dict):
        raise JointMapError(f"joint map {path}: expected a mapping, got {type(data).__name__}")
    return _check_joint_map(data, str(path))


def _lookup(names: Sequence[str]) -> dict[str, int]:
    """Exact names and unambiguous normalised names -> joint index."""
    table: dict[str, int] = {}
    counts: dict[str, int] = {}
    for index, name in enumerate(names):
        key = _normalise(name)
        counts[key] = counts.get(key, 0) + 1
        table.setdefault(key, index)
    table = {key: index for key, index in table.items() if counts[key] == 1}
    table.update({name: index for index, name in enumerate(names)})
    return table


def _resolve(
    joint_map: Mapping[str, Weights], names: Sequence[str]
) -> tuple[dict[str, dict[int, float]], list[str]]:
    """{source index: weight} per HumanML3D joint, and the entries whose sources are absent."""
    table = _lookup(names)
    indices, unmapped = {}, []
    for joint in HUMANML3D_JOINTS:
        found = {s: table.get(s, table.get(_normalise(s))) for s in joint_map[joint]}
        absent = [source for source, index in found.items() if index is None]
        if absent:
            unmapped.append(f"{joint} <- {'/'.join(absent)}")
            continue
        weights: dict[int, float] = {}
        for source, index in found.items():
            weights[index] = weights.get(index, 0.0) + joint_map[joint][source]
        indices[joint] = weights
    return indices, unmapped


def resolve_joint_map(
    joint_map: JointMap | str | Path, clip: MocapClip
) -> dict[str, dict[int, float]]:
    """{source joint index: weight} per HumanML3D joint, from a map, a built-in name or a YAML
    path."""
    if isinstance(joint_map, str) and joint_map in BUILTIN_JOINT_MAPS:
        entries = _check_joint_map(BUILTIN_JOINT_MAPS[joint_map], joint_map)
        origin = f"built-in map {joint_map!r}"
    elif isinstance(joint_map, str | Path):
        entries, origin = load_joint_map(joint_map), str(joint_map)
    else:
        entries, origin = _check_joint_map(joint_map, "given"), "the given joint map"
    indices, unmapped = _resolve(entries, clip.joint_names)
    if unmapped:
        raise JointMapError(
            f"{clip.source}: {origin} names joints that are not in the file: {', '.join(unmapped)}"
        )
    return indices


def select_joint_map(clip: MocapClip) -> tuple[str, dict[str, dict[int, float]]]:
    """The first built-in map whose joints all exist in the clip: (name, {index: weight} per
    joint)."""
    best: tuple[int, str, list[str]] | None = None
    for name, joint_map in BUILTIN_JOINT_MAPS.items():
        indices, unmapped = _resolve(_check_joint_map(joint_map, name), clip.joint_names)
        if not unmapped:
            return name, indices
        if best is None or len(unmapped) < best[0]:
            best = (len(unmapped), name, unmapped)
    assert best is not None
    _, name, unmapped = best
    raise JointMapError(
        f"{clip.source}: no built-in joint map fits its joints; closest is {name!r}, which "
        f"leaves unmapped: {', '.join(unmapped)}. Pass a YAML joint map "
        "{humanml3d_joint: source_joint} over the 22 HumanML3D joints."
    )


def apply_joint_map(clip: MocapClip, indices: Mapping[str, Mapping[int, float]]) -> np.ndarray:
    """The 22 HumanML3D joints (T, 22, 3) in file units: weighted sums of their source joints."""
    joints = []
    for joint in HUMANML3D_JOINTS:
        sources, weights = list(indices[joint]), np.array(list(indices[joint].values()))
        joints.append(np.einsum("tsc,s->tc", clip.positions[:, sources], weights))
    return np.stack(joints, axis=1)
