"""Motion representation: skeletons, HumanML3D/KIT features, mirroring and normalisation."""

from remodiffuse.motion.mirror import mirror_caption, mirror_features, mirror_joints
from remodiffuse.motion.normalization import denormalize, mean_std, normalize
from remodiffuse.motion.recovery import (
    joints_from_features,
    joints_from_rotations,
    root_from_features,
)
from remodiffuse.motion.representation import features_from_joints, process_motion
from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = [
    "Skeleton",
    "get_skeleton",
    "features_from_joints",
    "process_motion",
    "joints_from_features",
    "joints_from_rotations",
    "root_from_features",
    "mirror_joints",
    "mirror_features",
    "mirror_caption",
    "mean_std",
    "normalize",
    "denormalize",
]
