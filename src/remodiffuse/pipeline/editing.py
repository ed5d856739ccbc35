"""What `generate` keeps of given motions: a prefix, keyframes or a body part, as a KnownMotion.

Motion files are `.npy` features in the dataset's layout (T, D), `.npy` joints (T, J, 3) of the
dataset's skeleton (turned into T - 1 feature frames by the representation pipeline; HumanML3D
layout only) or `.bvh` (through the mocap importer, at the dataset's frame rate). Which
channels are pinned:

- prefix: every channel of its frames (root velocities included, so the motion goes on from
  where the prefix ends);
- keyframes: the pose channels of the chosen frames (`pose_channels`: root height, positions
  and rotations; not the root's velocities, so the path between keyframes stays free);
- edit=upper_body|lower_body: every channel of the joints not edited, on every frame.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from remodiffuse.errors import InputError, MissingFileError
from remodiffuse.io.importer import import_motion
from remodiffuse.motion import features_from_joints
from remodiffuse.motion.channels import BODY_PARTS, body_part_joints, joint_channels, pose_channels
from remodiffuse.motion.skeleton import Skeleton
from remodiffuse.options import whole_number
from remodiffuse.pipeline.generator import KnownMotion

MOTION_SUFFIXES = (".npy", ".bvh")


def read_motion_features(path: str | Path, skeleton: Skeleton, fps: float) -> np.ndarray:
    """(T, D) features of a motion file (see the module doc); InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such motion file")
    if path.suffix not in MOTION_SUFFIXES:
        raise InputError(f"{path}: expected a .npy (features or joints) or .bvh motion file")
    if path.suffix == ".bvh":
        if skeleton.name != "humanml3d":
            raise InputError(f"{path}: BVH input needs the HumanML3D layout, not {skeleton.name}")
        joints = import_motion(path, fps=fps).joints  # (T, 22, 3)
        return _features_of_joints(path, joints, skeleton)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise InputError(f"{path}: not a readable .npy array ({error})") from None
    if array.dtype.kind not in "fiu":
        raise InputError(f"{path}: expected numbers, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[1:] == (skeleton.num_joints, 3):
        return _features_of_joints(path, array.astype(np.float64), skeleton)
    if array.ndim != 2 or array.shape[1] != skeleton.feature_dim:
        raise InputError(
            f"{path}: shape {array.shape} is neither ({skeleton.name}) features (T, "
            f"{skeleton.feature_dim}) nor joints (T, {skeleton.num_joints}, 3): another skeleton "
            "or feature layout?"
        )
    if not np.isfinite(array).all():
        raise InputError(f"{path}: non-finite values in frame {_first_bad_frame(array)}")
    return array.astype(np.float32)


def _features_of_joints(path: Path, joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    if skeleton.name != "humanml3d":
        raise InputError(f"{path}: joints input needs the HumanML3D layout, give features .npy")
    if not np.isfinite(joints).all():
        raise InputError(f"{path}: non-finite joint positions in frame {_first_bad_frame(joints)}")
    if joints.shape[0] < 2:
        raise InputError(f"{path}: {joints.shape[0]} frame of joints, need at least 2")
    try:
        return features_from_joints(joints, skeleton)
    except ValueError as error:
        raise InputError(f"{path}: {error}") from None


def _first_bad_frame(array: np.ndarray) -> int:
    return int(np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))[0])


def known_motion(
    length: int,
    skeleton: Skeleton,
    fps: float,
    prefix: str | Path | None = None,
    keyframes: str | Path | None = None,
    keyframe_frames: Sequence[int] | None = None,
    edit: str | None = None,
    source: str | Path | None = None,
) -> KnownMotion | None:
    """The KnownMotion of `generate`'s editing options for a motion of `length` frames (None
    when none is given); they combine, a later one winning where two pin the same entry."""
    width = skeleton.feature_dim
    values, weight = np.zeros((length, width), np.float32), np.zeros((length, width), np.float32)
    if prefix is not None:
        features = read_motion_features(prefix, skeleton, fps)
        if len(features) >= length:
            raise InputError(
                f"prefix={prefix}: {len(features)} frames, not shorter than length={length} "
                "(length is the total: prefix plus continuation)"
            )
        values[: len(features)], weight[: len(features)] = features, 1.0
    if (keyframes is None) != (keyframe_frames is None):
        raise InputError("keyframes=FILE and keyframe_frames=[...] go together")
    if keyframes is not None:
        features = read_motion_features(keyframes, skeleton, fps)
        frames = _keyframe_indices(keyframes, keyframe_frames, len(features), length)
        pose = pose_channels(skeleton)
        values[np.ix_(frames, pose)] = features[np.ix_(frames, pose)]
        weight[np.ix_(frames, pose)] = 1.0
    if (edit is None) != (source is None):
        raise InputError("edit=upper_body|lower_body and source=FILE go together")
    if edit is not None:
        if edit not in BODY_PARTS:
            raise InputError(f"edit={edit!r}: allowed {', '.join(BODY_PARTS)}")
        features = read_motion_features(source, skeleton, fps)
        if len(features) != length:
            raise InputError(
                f"source={source}: {len(features)} frames but length={length}: set "
                f"length={len(features)} to edit the whole motion"
            )
        edited = set(body_part_joints(skeleton, edit))
        channels = joint_channels(skeleton, set(range(skeleton.num_joints)) - edited)
        values[:, channels], weight[:, channels] = features[:, channels], 1.0
    if not weight.any():
        return None
    return KnownMotion(values, weight)


def _keyframe_indices(
    path: str | Path, frames: Sequence[int], available: int, length: int
) -> list[int]:
    indices = [whole_number(f"keyframe_frames[{n}]", f) for n, f in enumerate(frames)]
    if not indices:
        raise InputError("keyframe_frames is empty: name at least one frame")
    for frame in indices:
        if frame >= min(available, length):
            raise InputError(
                f"keyframes={path}: frame {frame} is outside the motion (the file has "
                f"{available} frames, length={length})"
            )
    return indices
