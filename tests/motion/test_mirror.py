"""Mirroring of joints, features and captions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from remodiffuse.motion import (
    features_from_joints,
    get_skeleton,
    mirror_caption,
    mirror_features,
    mirror_joints,
)

MakeMotion = Callable[..., np.ndarray]


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_mirror_joints(make_motion: MakeMotion, name: str) -> None:
    skel = get_skeleton(name)
    joints = make_motion(name, 12)
    mirrored = mirror_joints(joints, name)
    np.testing.assert_array_equal(mirror_joints(mirrored, name), joints)
    a, b = skel.left_right_pairs[0]
    np.testing.assert_array_equal(mirrored[:, a], joints[:, b] * np.array([-1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(mirrored[:, 0], joints[:, 0] * np.array([-1.0, 1.0, 1.0]))
    tensor = mirror_joints(torch.from_numpy(joints)[None], name)
    np.testing.assert_array_equal(tensor[0].numpy(), mirrored)
    with pytest.raises(ValueError, match="shape"):
        mirror_joints(joints[:, :5], name)


def test_reference_swap_indices() -> None:
    moved = mirror_joints(np.arange(66.0).reshape(22, 3), "humanml3d")[:, 1] // 3
    right, left = [2, 5, 8, 11, 14, 17, 19, 21], [1, 4, 7, 10, 13, 16, 18, 20]
    np.testing.assert_array_equal(moved[right], left)
    np.testing.assert_array_equal(moved[left], right)


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_mirror_features_involution(
    make_motion: MakeMotion, make_offsets: MakeMotion, name: str
) -> None:
    offsets = make_offsets(name, 0)
    features = features_from_joints(make_motion(name, 20), name, offsets)
    np.testing.assert_array_equal(mirror_features(mirror_features(features, name), name), features)
    batch = torch.from_numpy(np.stack([features, features]))  # (B, T, D)
    np.testing.assert_array_equal(
        mirror_features(batch, name)[1].numpy(), mirror_features(features, name)
    )
    with pytest.raises(ValueError, match="channels"):
        mirror_features(features[:, :-1], name)


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_mirror_features_exact_for_symmetric_skeleton(
    make_motion: MakeMotion, make_offsets: MakeMotion, name: str
) -> None:
    offsets = make_offsets(name, 1, symmetric=True)
    joints = make_motion(name, 60, offsets=offsets, seed=3)
    direct = mirror_features(features_from_joints(joints, name, offsets), name)
    via_joints = features_from_joints(mirror_joints(joints, name), name, offsets)
    np.testing.assert_allclose(direct, via_joints, rtol=0, atol=1e-5)


def test_mirror_features_gap_on_reference_sequences(
    representation_dir: Path, record_property: Callable[[str, object], None]
) -> None:
    """Approximation gap of mirror_features on real-skeleton HumanML3D sequences (mean error)."""
    skel = get_skeleton("humanml3d")
    paths = sorted(representation_dir.glob("seq*.npz"))
    assert paths, f"no HumanML3D sequences seq*.npz in {representation_dir}"
    bounds = {"ric": 0.01, "rotations_6d": 0.01, "local_velocity": 0.002, "foot_contacts": 0.02}
    for path in paths:
        data = np.load(path)
        joints, offsets = data["input_joints"], data["tgt_offsets"]
        direct = mirror_features(features_from_joints(joints, skel, offsets), skel)
        via_joints = features_from_joints(mirror_joints(joints, skel), skel, offsets)
        for block, cols in skel.feature_slices.items():
            error = np.abs(direct[:, cols] - via_joints[:, cols])
            record_property(f"{path.stem}.{block}.max", float(error.max()))
            if block in bounds:
                assert error.mean() < bounds[block], (path.stem, block)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A person walks to the left.", "A person walks to the right."),
        ("Right hand waves, LEFT foot kicks", "Left hand waves, RIGHT foot kicks"),
        ("turns counter-clockwise, then Clockwise", "turns clockwise, then Counterclockwise"),
        ("anticlockwise; counter clockwise; clock-wise", "clockwise; clockwise; counterclockwise"),
        ("walks leftwards, right-handed, lefthand", "walks rightwards, left-handed, righthand"),
        ("stands upright and looks bright", "stands upright and looks bright"),
        ("", ""),
    ],
)
def test_mirror_caption(text: str, expected: str) -> None:
    assert mirror_caption(text) == expected


@pytest.mark.parametrize(
    "text", ["Left, right; LEFT-right!", "a clockwise then counterclockwise turn", "(leftwards)"]
)
def test_mirror_caption_involution(text: str) -> None:
    assert mirror_caption(mirror_caption(text)) == text


def test_kit_twin_captions(
    require_fixture: Callable[..., Path], record_property: Callable[[str, object], None]
) -> None:
    """mirror_caption(original) vs the caption of its `M` twin, paired by annotation index."""
    path = require_fixture("data", "kitml-text", "annotations.json")
    annotations = json.loads(path.read_text())
    pairs = [
        (orig["text"], twin["text"])
        for key, entry in annotations.items()
        if key.startswith("M") and key[1:] in annotations
        for orig, twin in zip(
            annotations[key[1:]]["annotations"], entry["annotations"], strict=False
        )
    ]
    exact = sum(mirror_caption(orig) == twin for orig, twin in pairs)
    changed = [(orig, twin) for orig, twin in pairs if orig != twin]
    exact_changed = sum(mirror_caption(orig) == twin for orig, twin in changed)
    squash = re.compile(r"\s+")
    exact_ws = sum(
        squash.sub(" ", mirror_caption(orig)).strip() == squash.sub(" ", twin).strip()
        for orig, twin in pairs
    )
    record_property(
        "kit_twins",
        f"{exact}/{len(pairs)} exact, {exact_ws} after whitespace, "
        f"{exact_changed}/{len(changed)} of the pairs that differ",
    )
    assert len(pairs) > 6000
    assert exact >= 0.995 * len(pairs)
    assert exact_changed >= 0.99 * len(changed)
    for text in (orig for orig, _ in pairs):
        once = mirror_caption(text)
        assert mirror_caption(mirror_caption(once)) == once
