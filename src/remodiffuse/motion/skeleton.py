"""Skeleton definitions of HumanML3D (SMPL, 22 joints) and KIT-ML (MMM, 21 joints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from remodiffuse.errors import InputError

__all__ = ["Skeleton", "get_skeleton", "HUMANML3D", "KIT", "SKELETON_NAMES"]


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Static description of a skeleton and of its motion-feature layout (reference paramUtil).

    Equality and hashing are by identity because some fields are numpy arrays.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    raw_offsets: np.ndarray  # (J, 3) unit axis-aligned rest directions
    kinematic_chain: tuple[tuple[int, ...], ...]
    face_joints: tuple[int, int, int, int]  # (r_hip, l_hip, r_shoulder, l_shoulder)
    foot_left: tuple[int, int]
    foot_right: tuple[int, int]
    left_right_pairs: tuple[tuple[int, int], ...]
    leg_bones: tuple[int, int]  # joints whose bone lengths define the uniform scale
    feet_threshold: float  # on the squared per-frame displacement
    fps: float
    unit: str
    default_target_offsets: np.ndarray | None  # (J, 3) float32

    @property
    def num_joints(self) -> int:
        """Number of joints J."""
        return len(self.joint_names)

    @property
    def feature_dim(self) -> int:
        """Feature size 1 + 2 + 1 + 3(J-1) + 6(J-1) + 3J + 4 (263 / 251)."""
        return 12 * self.num_joints - 1

    @property
    def feature_slices(self) -> dict[str, slice]:
        """Named blocks of a feature row, in order."""
        j = self.num_joints
        sizes = {
            "root_rot_velocity": 1,
            "root_linear_velocity": 2,
            "root_height": 1,
            "ric": 3 * (j - 1),
            "rotations_6d": 6 * (j - 1),
            "local_velocity": 3 * j,
            "foot_contacts": 4,
        }
        slices, start = {}, 0
        for key, size in sizes.items():
            slices[key] = slice(start, start + size)
            start += size
        return slices


def _parents_from_chains(chains: tuple[tuple[int, ...], ...], num_joints: int) -> tuple[int, ...]:
    """Parent index of every joint (-1 for the root) implied by the kinematic chains."""
    parents = [-1] * num_joints
    for chain in chains:
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            parents[child] = parent
    return tuple(parents)


_T2M_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)  # fmt: skip
_T2M_CHAINS = ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15),
               (9, 14, 17, 19, 21), (9, 13, 16, 18, 20))  # fmt: skip
_T2M_RAW_OFFSETS = np.array(
    [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0],
     [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0],
     [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
     [0, -1, 0]],
    dtype=np.float64,
)  # fmt: skip
# Reference target skeleton: raw_offsets[c] * |p[c] - p[parent]| on frame 0 of raw example 000021.
_T2M_TARGET_OFFSETS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.10307393223047256, 0.0, 0.0),
        (-0.10988342016935349, 0.0, 0.0),
        (0.0, 0.13156823813915253, 0.0),
        (0.0, -0.3936232626438141, 0.0),
        (0.0, -0.3901881277561188, 0.0),
        (0.0, 0.14319021999835968, 0.0),
        (0.0, -0.4324330985546112, 0.0),
        (0.0, -0.42564353346824646, 0.0),
        (0.0, 0.05736473575234413, 0.0),
        (0.0, 0.0, 0.14338184893131256),
        (0.0, 0.0, 0.14941902458667755),
        (0.0, 0.21936005353927612, 0.0),
        (0.13748674094676971, 0.0, 0.0),
        (-0.14338286221027374, 0.0, 0.0),
        (0.0, 0.0, 0.1030392199754715),
        (0.0, -0.13161404430866241, 0.0),
        (0.0, -0.12298443913459778, 0.0),
        (0.0, -0.25683990120887756, 0.0),
        (0.0, -0.26309171319007874, 0.0),
        (0.0, -0.26601195335388184, 0.0),
        (0.0, -0.2698764503002167, 0.0),
    ],
    dtype=np.float32,
)

# MMM marker names. Note: the reference code (face joints, foot indices) treats joints 11-15 and
# 5-7 as the *right* side although MMM labels them left; indices follow the reference.
_KIT_NAMES = (
    "root", "BP", "BT", "BLN", "BUN", "LS", "LE", "LW", "RS", "RE", "RW",
    "LH", "LK", "LA", "LMrot", "LF", "RH", "RK", "RA", "RMrot", "RF",
)  # fmt: skip
_KIT_CHAINS = ((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4),
               (3, 5, 6, 7), (3, 8, 9, 10))  # fmt: skip
_KIT_RAW_OFFSETS = np.array(
    [[0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [0, -1, 0],
     [0, -1, 0], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0],
     [0, 0, 1], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [0, 0, 1], [0, 0, 1]],
    dtype=np.float64,
)  # fmt: skip

for _array in (_T2M_RAW_OFFSETS, _T2M_TARGET_OFFSETS, _KIT_RAW_OFFSETS):
    _array.setflags(write=False)

HUMANML3D = Skeleton(
    name="humanml3d",
    joint_names=_T2M_NAMES,
    parents=_parents_from_chains(_T2M_CHAINS, 22),
    raw_offsets=_T2M_RAW_OFFSETS,
    kinematic_chain=_T2M_CHAINS,
    face_joints=(2, 1, 17, 16),
    foot_left=(7, 10),
    foot_right=(8, 11),
    left_right_pairs=((1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21)),
    leg_bones=(5, 8),
    feet_threshold=0.002,
    fps=20.0,
    unit="m",
    default_target_offsets=_T2M_TARGET_OFFSETS,
)

# The reference KIT target skeleton (example 03950_gt) is not public: no default target offsets.
KIT = Skeleton(
    name="kit",
    joint_names=_KIT_NAMES,
    parents=_parents_from_chains(_KIT_CHAINS, 21),
    raw_offsets=_KIT_RAW_OFFSETS,
    kinematic_chain=_KIT_CHAINS,
    face_joints=(11, 16, 5, 8),
    foot_left=(19, 20),
    foot_right=(14, 15),
    left_right_pairs=((11, 16), (12, 17), (13, 18), (14, 19), (15, 20), (5, 8), (6, 9), (7, 10)),
    leg_bones=(17, 18),
    feet_threshold=0.05,
    fps=12.5,
    unit="mm",
    default_target_offsets=None,
)

_REGISTRY = {"humanml3d": HUMANML3D, "t2m": HUMANML3D, "kit": KIT}
SKELETON_NAMES = tuple(_REGISTRY)


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Return the skeleton named "humanml3d" (alias "t2m") or "kit"; Skeletons pass through."""
    if isinstance(name, Skeleton):
        return name
    key = name.lower() if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise InputError(f"unknown skeleton {name!r}; valid names: {', '.join(SKELETON_NAMES)}")
    return _REGISTRY[key]
