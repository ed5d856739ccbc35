"""Motion-capture file I/O: BVH and ASF/AMC readers, joint maps, retargeting to HumanML3D."""

from remodiffuse.io.asf_amc import read_asf_amc
from remodiffuse.io.bvh import read_bvh
from remodiffuse.io.joint_map import (
    BUILTIN_JOINT_MAPS,
    JointMapError,
    load_joint_map,
    select_joint_map,
)
from remodiffuse.io.mocap_clip import MocapClip, MocapFormatError
from remodiffuse.io.retarget import (
    Retargeted,
    detect_metres_per_unit,
    detect_up_axis,
    is_tpose_first_frame,
    resample,
    retarget_clip,
    to_humanml3d_joints,
)

__all__ = [
    "MocapClip",
    "MocapFormatError",
    "read_bvh",
    "read_asf_amc",
    "BUILTIN_JOINT_MAPS",
    "JointMapError",
    "load_joint_map",
    "select_joint_map",
    "Retargeted",
    "retarget_clip",
    "to_humanml3d_joints",
    "resample",
    "detect_metres_per_unit",
    "detect_up_axis",
    "is_tpose_first_frame",
]
