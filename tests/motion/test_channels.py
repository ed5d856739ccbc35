"""Feature channels per joint and per body part, on both skeletons."""

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.motion import get_skeleton
from remodiffuse.motion.channels import body_part_joints, joint_channels


@pytest.mark.parametrize("name", ["humanml3d", "kit"])
def test_upper_and_lower_body_split_every_channel_once(name):
    skeleton = get_skeleton(name)
    upper = joint_channels(skeleton, body_part_joints(skeleton, "upper_body"))
    lower = joint_channels(skeleton, body_part_joints(skeleton, "lower_body"))
    assert not (upper & lower).any() and (upper | lower).all()
    contacts = skeleton.feature_slices["foot_contacts"]
    assert lower[contacts].all() and lower[:4].all()  # the legs own the contacts and the root


def test_humanml3d_channel_counts_follow_the_layout():
    skeleton = get_skeleton("humanml3d")
    lower = body_part_joints(skeleton, "lower_body")
    assert lower == (0, 1, 2, 4, 5, 7, 8, 10, 11)
    assert joint_channels(skeleton, lower).sum() == 4 + 8 * (3 + 6) + 9 * 3 + 4  # 107
    wrist = joint_channels(skeleton, [20])  # left wrist: ric 3 + 6D 6 + velocity 3
    assert np.flatnonzero(wrist).tolist() == [*range(61, 64), *range(181, 187), *range(253, 256)]


def test_bad_joints_and_parts_are_clear_errors():
    skeleton = get_skeleton("kit")
    with pytest.raises(InputError, match="joint 21 is not a joint of 'kit'"):
        joint_channels(skeleton, [21])
    with pytest.raises(InputError, match="body part must be one of"):
        body_part_joints(skeleton, "arms")
