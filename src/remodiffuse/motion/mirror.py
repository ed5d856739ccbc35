"""Left/right mirroring of joints, motion features and captions.

Joints: negate x and swap the skeleton's `left_right_pairs` (reference `swap_left_right`; for
KIT the pairs are the leg chains 11-15 <-> 16-20 and the arm chains 5-7 <-> 8-10).
"""

from __future__ import annotations

import functools
import re
from typing import TypeVar

import numpy as np
import torch

from remodiffuse.motion.skeleton import Skeleton, get_skeleton

__all__ = ["mirror_joints", "mirror_features", "mirror_caption"]

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def _joint_permutation(skeleton: Skeleton) -> np.ndarray:
    """(J,) index of the mirrored twin of every joint."""
    perm = np.arange(skeleton.num_joints)
    for a, b in skeleton.left_right_pairs:
        perm[a], perm[b] = b, a
    return perm


@functools.lru_cache(maxsize=8)
def _feature_gather_and_sign(skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(D,) source index and (D,) sign such that mirrored = features[..., index] * sign."""
    perm = _joint_permutation(skeleton)
    pairs = set(skeleton.left_right_pairs) | {(b, a) for a, b in skeleton.left_right_pairs}
    if not all(p in pairs for p in zip(skeleton.foot_left, skeleton.foot_right, strict=True)):
        raise ValueError(f"feet of skeleton {skeleton.name!r} are not left/right twins")
    flip_x = np.array([-1.0, 1.0, 1.0])
    # Reflection S = diag(-1, 1, 1) maps a local rotation R to S R S.
    flip_6d = np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0])
    joints = np.arange(skeleton.num_joints)
    ric = (perm[1:, None] - 1) * 3 + np.arange(3)  # (J-1, 3)
    rot = (perm[1:, None] - 1) * 6 + np.arange(6)  # (J-1, 6)
    vel = perm[joints, None] * 3 + np.arange(3)  # (J, 3)
    blocks = skeleton.feature_slices
    index = np.concatenate(
        [
            [0, 1, 2, 3],
            blocks["ric"].start + ric.ravel(),
            blocks["rotations_6d"].start + rot.ravel(),
            blocks["local_velocity"].start + vel.ravel(),
            blocks["foot_contacts"].start + np.array([2, 3, 0, 1]),
        ]
    )
    sign = np.concatenate(
        [
            [-1.0, -1.0, 1.0, 1.0],
            np.tile(flip_x, skeleton.num_joints - 1),
            np.tile(flip_6d, skeleton.num_joints - 1),
            np.tile(flip_x, skeleton.num_joints),
            np.ones(4),
        ]
    )
    return index, sign


def mirror_joints(joints: Array, skeleton: str | Skeleton = "humanml3d") -> Array:
    """Mirror (..., J, 3) positions: negate x and swap left/right joints (an involution)."""
    skel = get_skeleton(skeleton)
    if not isinstance(joints, torch.Tensor):
        joints = np.asarray(joints)
    if joints.ndim < 2 or tuple(joints.shape[-2:]) != (skel.num_joints, 3):
        raise ValueError(f"joints must have shape (..., {skel.num_joints}, 3), got {joints.shape}")
    perm = _joint_permutation(skel)
    if isinstance(joints, torch.Tensor):
        sign = torch.tensor([-1.0, 1.0, 1.0], dtype=joints.dtype, device=joints.device)
        return joints[..., torch.as_tensor(perm, device=joints.device), :] * sign
    return joints[..., perm, :] * np.array([-1.0, 1.0, 1.0], dtype=joints.dtype)


def mirror_features(features: Array, skeleton: str | Skeleton = "humanml3d") -> Array:
    """Mirror (..., T, D) features directly by negating/swapping channels (an involution).

    Yaw rate and lateral root velocity negate; ric and velocity negate x and swap joints; 6D
    rotations become S R S with S = diag(-1, 1, 1); contacts swap feet. This equals
    features_from_joints(mirror_joints(raw)) exactly when retargeting commutes with mirroring
    (left/right-symmetric target offsets, equal source leg lengths); otherwise it is approximate:
    on the HumanML3D reference fixtures the gap is at most ~0.016 m (ric), ~0.026 (6D),
    ~0.006 rad (yaw rate) and ~0.4 % of the contact labels.
    """
    skel = get_skeleton(skeleton)
    if not isinstance(features, torch.Tensor):
        features = np.asarray(features)
    if features.ndim < 1 or features.shape[-1] != skel.feature_dim:
        raise ValueError(
            f"features must have {skel.feature_dim} channels, got shape {tuple(features.shape)}"
        )
    index, sign = _feature_gather_and_sign(skel)
    if isinstance(features, torch.Tensor):
        device = features.device
        sign_t = torch.as_tensor(sign, dtype=features.dtype, device=device)
        return features[..., torch.as_tensor(index, device=device)] * sign_t
    return features[..., index] * sign.astype(features.dtype)


_CAPTION_PATTERN = re.compile(
    r"\b(?:(?P<ccw>(?:counter|anti)[- ]?clock[- ]?wise)|(?P<cw>clock[- ]?wise)"
    r"|(?P<side>left|right)(?=wards?\b|hand(?:ed)?\b|\b))",
    re.IGNORECASE,
)
_SIDE_SWAP = {"left": "right", "right": "left"}


def _match_case(source: str, replacement: str) -> str:
    """Give `replacement` the capitalisation style of `source`."""
    if len(source) > 1 and source.isupper():
        return replacement.upper()
    if source[0].isupper():
        return replacement[0].upper() + replacement[1:]
    return replacement


def _swap_word(match: re.Match[str]) -> str:
    """Replacement of one matched direction word."""
    word = match.group(0)
    if match.group("ccw"):
        return _match_case(word, "clockwise")
    if match.group("cw"):
        return _match_case(word, "counterclockwise")
    return _match_case(word, _SIDE_SWAP[word.lower()])


def mirror_caption(text: str) -> str:
    """Swap left/right (also -ward(s), -hand(ed)) and clockwise/counterclockwise in a caption.

    Case and punctuation are kept. Variants (counter-clockwise, anticlockwise, clock-wise, ...)
    map to "clockwise"/"counterclockwise", so mirroring twice is the identity on texts using those
    two spellings and always reproduces the once-mirrored text.
    """
    return _CAPTION_PATTERN.sub(_swap_word, text)
