"""ASF/AMC reader: units, root order, bone axis and dof order, :DEG/:RAD, FK, bad input."""

import numpy as np
import pytest
from mocap_samples import TINY_AMC as AMC
from mocap_samples import TINY_ASF as ASF
from mocap_samples import write_text

from remodiffuse.errors import InputError
from remodiffuse.io import MocapFormatError, asf_amc, mocap_clip, read_asf_amc


@pytest.fixture
def tiny(tmp_path):
    """Paths of the tiny ASF and AMC files."""
    return write_text(tmp_path, "tiny.asf", ASF), write_text(tmp_path, "tiny.amc", AMC)


def test_structure_units_and_fps(tiny):
    clip = read_asf_amc(*tiny)
    assert clip.joint_names == ("root", "up", "side")
    assert clip.parents == (-1, 0, 1)
    assert clip.positions.shape == (4, 3, 3)
    assert clip.fps == 120.0
    assert clip.metres_per_unit == pytest.approx(0.0254 / 0.5)
    assert read_asf_amc(*tiny, fps=60).fps == 60.0


def test_exact_forward_kinematics(tiny):
    positions = read_asf_amc(*tiny).positions
    # Rest: bone END points.
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 4, 0], [2, 4, 0]], atol=1e-12)
    # Root translated and turned 90 degrees about Z: +Y -> -X, +X -> +Y.
    np.testing.assert_allclose(positions[1], [[1, 2, 3], [-3, 2, 3], [-3, 4, 3]], atol=1e-12)
    # `up` turns about its local x axis, which its ASF axis (0 0 90) puts along global +Y:
    # the bone stays vertical and its child turns from +X to -Z.
    np.testing.assert_allclose(positions[2], [[0, 0, 0], [0, 4, 0], [0, 4, -2]], atol=1e-12)
    # dof "rz ry" applies rz first: Ry(90) @ Rz(90) @ x = Ry(90) @ y = y.
    np.testing.assert_allclose(positions[3, 2], [0, 6, 0], atol=1e-12)


def test_radians(tmp_path, tiny):
    rad_asf = write_text(
        tmp_path,
        "rad.asf",
        ASF.replace("angle deg", "angle rad").replace("0 0 90 XYZ", "0 0 1.5707963267948966 XYZ"),
    )
    rad_amc = write_text(
        tmp_path, "rad.amc", AMC.replace(":DEGREES", ":RAD").replace(" 90", f" {np.pi / 2!r}")
    )
    np.testing.assert_allclose(
        read_asf_amc(rad_asf, rad_amc).positions, read_asf_amc(*tiny).positions, atol=1e-12
    )
    # Without a header the AMC angles are in the ASF's unit.
    no_header = write_text(tmp_path, "deg.amc", AMC.replace(":DEGREES\n", ""))
    np.testing.assert_allclose(
        read_asf_amc(tiny[0], no_header).positions, read_asf_amc(*tiny).positions, atol=1e-12
    )


def test_root_channel_order_and_max_frames(tmp_path, tiny):
    asf = write_text(
        tmp_path, "order.asf", ASF.replace("order TX TY TZ RX RY RZ", "order RZ TX TY TZ RX RY")
    )
    amc = write_text(tmp_path, "order.amc", AMC.replace("root 1 2 3 0 0 90", "root 90 1 2 3 0 0"))
    clip = read_asf_amc(asf, amc, max_frames=2)
    assert clip.num_frames == 2
    np.testing.assert_allclose(clip.positions, read_asf_amc(*tiny).positions[:2], atol=1e-12)


@pytest.mark.parametrize(
    ("asf", "amc", "reason"),
    [
        (ASF, AMC.rsplit("\n", 2)[0] + "\n", "frame 4 is missing side"),
        (ASF, AMC.replace("up 90", "up 90 1"), "up has 2 values, expected 1"),
        (ASF, AMC.replace("up 90", "up nan"), "non-finite value for up in frame 3"),
        (ASF, AMC.replace("up 90", "up x"), "non-numeric value for up"),
        (ASF, AMC.replace("side 90 90", "hand 90 90"), "unknown or fixed bone 'hand'"),
        (ASF, ":FULLY-SPECIFIED\n:DEGREES\n", "zero frames"),
        (ASF.replace("up side", "up arm"), AMC, "unknown bone 'arm'"),
        (ASF.replace("dof rz ry", "dof rz l"), AMC, "unsupported dof 'l'"),
        (ASF.replace("length 0.5", "length 0"), AMC, "length must be positive"),
        (ASF.replace("length 4", "length four"), AMC, "non-numeric length of up"),
        (ASF.split(":bonedata")[0], AMC, "no bones"),
        (ASF.replace("dof rz ry", "dof rz rz"), AMC, "repeated dof of bone 'side'"),
        (
            ASF.replace("order TX TY TZ RX RY RZ", "order TX TX TZ RX RY RZ"),
            AMC,
            "repeated root channel",
        ),  # fmt: skip
        (ASF.replace("name side", "name up"), AMC, "bone name 'up' used twice"),
        (ASF.replace("up side", "up side\n    ghost up"), AMC, "unknown bone 'ghost'"),
        (ASF.replace("root up", "root up\n    side up"), AMC, "bone 'up' appears twice"),
        (ASF.replace("axis XYZ", "axis"), AMC, "bad root axis order ''"),
        (ASF, AMC.replace("\n2\n", "\n\xb2\n"), "line 8: unknown or fixed bone"),
        (ASF, AMC.replace("up 90", "up 1e999"), "non-finite value for up in frame 3"),
    ],
)
def test_bad_input(tmp_path, asf, amc, reason):
    asf_path, amc_path = write_text(tmp_path, "bad.asf", asf), write_text(tmp_path, "bad.amc", amc)
    with pytest.raises(MocapFormatError, match=reason) as error:
        read_asf_amc(asf_path, amc_path)
    assert error.value.path in (asf_path, amc_path)
    assert str(error.value.path) in str(error.value)


def test_size_limits_and_frame_rate(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(mocap_clip, "MAX_FRAMES", 3)
    with pytest.raises(MocapFormatError, match="4 frames, more than the 3 allowed"):
        read_asf_amc(*tiny)
    assert read_asf_amc(*tiny, max_frames=3).num_frames == 3
    monkeypatch.setattr(asf_amc, "MAX_JOINTS", 2)
    with pytest.raises(MocapFormatError, match="more than the 1 bones allowed"):
        read_asf_amc(*tiny)
    monkeypatch.setattr(asf_amc, "MAX_SKELETON_BYTES", 100)
    with pytest.raises(MocapFormatError, match="larger than the 100 bytes allowed"):
        read_asf_amc(*tiny)
    for fps in (0.5, 2000.0, float("nan")):
        with pytest.raises(InputError, match=r"fps=.*allowed 1 \.\. 1000"):
            read_asf_amc(*tiny, fps=fps)


def test_missing_files(tmp_path, tiny):
    with pytest.raises(MocapFormatError, match="cannot read file"):
        read_asf_amc(tiny[0], tmp_path / "absent.amc")
    with pytest.raises(MocapFormatError, match="cannot read file"):
        read_asf_amc(tmp_path / "absent.asf", tiny[1])


def test_real_cmu_walk(require_fixture):
    cmu_dir = require_fixture("data", "cmu-mini")
    clip = read_asf_amc(cmu_dir / "asfamc" / "02.asf", cmu_dir / "asfamc" / "02_01.amc")
    assert clip.num_frames == 343 and len(clip.joint_names) == 31
    parents = np.array(clip.parents[1:])
    bones = np.linalg.norm(clip.positions[:, 1:] - clip.positions[:, parents], axis=-1)
    assert np.ptp(bones, axis=0).max() < 1e-9  # rigid bones over time
    metres = clip.positions * clip.metres_per_unit
    stature = metres[:, clip.index("head"), 1] - metres[..., 1].min(axis=1)  # head top to sole
    assert 1.4 < np.median(stature) < 2.0
    lowest = metres[..., 1].min(axis=1)
    assert np.all(np.abs(lowest) < 0.1)  # the feet stay near the floor y = 0
