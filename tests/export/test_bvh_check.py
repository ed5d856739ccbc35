"""BVH validation: the summary of a written file, and each malformed variant named by file,
line and problem, the same by check_bvh and by read_bvh."""

import numpy as np
import pytest

from remodiffuse.errors import InputError
from remodiffuse.export import bvh, check_bvh, check_bvh_text, write_bvh
from remodiffuse.io import read_bvh
from remodiffuse.io.bvh import BvhFormatError
from remodiffuse.motion import get_skeleton

SKELETON = get_skeleton("humanml3d")
FRAMES = 5


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> list[str]:
    """The lines of a BVH written from a small jittering figure."""
    rng = np.random.default_rng(0)
    joints = SKELETON.default_target_offsets.cumsum(axis=0)  # (22, 3) only a rough figure
    joints = joints[None] + rng.normal(0, 0.01, (FRAMES, 22, 3))  # (T, 22, 3)
    path = write_bvh(joints, tmp_path_factory.mktemp("bvh") / "motion.bvh")
    return path.read_text().splitlines()


def find(lines: list[str], start: str, after: int = 0) -> int:
    """Index of the first line from `after` whose stripped text starts with `start`."""
    return next(i for i in range(after, len(lines)) if lines[i].strip().startswith(start))


def test_summary_of_a_written_file(tmp_path, lines):
    path = tmp_path / "motion.bvh"
    path.write_text("\n".join(lines) + "\n")
    summary = check_bvh(path)
    assert summary.source == path and summary.frames == FRAMES and summary.frame_time == 0.05
    assert set(summary.joints) == set(SKELETON.joint_names) and summary.joints[0] == "pelvis"
    assert summary.parents[0] == -1 and all(
        0 <= p < i for i, p in enumerate(summary.parents[1:], 1)
    )
    assert summary.channels[0] == (
        "Xposition", "Yposition", "Zposition", "Yrotation", "Xrotation", "Zrotation"
    )  # fmt: skip
    assert set(summary.channels[1:]) == {("Yrotation", "Xrotation", "Zrotation")}
    assert summary.width == 6 + 21 * 3
    assert sorted(summary.end_sites) == sorted(
        ["left_foot", "right_foot", "head", "left_wrist", "right_wrist"]
    )


def _mutations(lines: list[str]) -> list[tuple[str, list[str], int, str]]:
    """(id, mutated lines, 1-based line of the error, reason pattern)."""
    motion = lines.index("MOTION")
    frames, frame_time, first_row = motion + 1, motion + 2, motion + 3
    end_site = find(lines, "End Site")
    knee = find(lines, "JOINT left_knee")
    row = first_row + 2

    def replaced(index: int, text: str) -> list[str]:
        return lines[:index] + [text] + lines[index + 1 :]

    def inserted(index: int, text: str) -> list[str]:
        return lines[:index] + [text] + lines[index:]

    values = lines[row].split()
    return [
        ("unbalanced", lines[: motion - 1] + lines[motion:], motion, "hierarchy ends early"),
        ("extra brace", inserted(motion, "}"), motion + 1, r"unexpected '}' after the ROOT"),
        ("end site channels", inserted(end_site + 2, "CHANNELS 1 Xrotation"), end_site + 3,
         "CHANNELS in an End Site"),
        ("end site name", replaced(end_site, "End Sote"), end_site + 1, "expected 'End Site"),
        ("joint in end site", inserted(end_site + 3, "JOINT toe {"), end_site + 4,
         "an End Site .* holds a joint"),
        ("no offset", lines[: knee + 2] + lines[knee + 3 :], knee + 4,
         "joint 'left_knee' has no OFFSET before its children"),
        ("repeated offset", inserted(knee + 3, "OFFSET 0 1 0"), knee + 4, "repeated OFFSET"),
        ("channel count", replaced(knee + 3, "CHANNELS 7 Yrotation Xrotation Zrotation"),
         knee + 4, "bad channel count '7'"),
        ("short channels", replaced(knee + 3, "CHANNELS 3 Yrotation Xrotation"), knee + 4,
         "unknown channel 'JOINT'"),
        ("short row", replaced(row, " ".join(values[:-1])), row + 1, "frame 2 has 68 values, the "
         "hierarchy has 69 channels"),
        ("long row", replaced(row, " ".join(values + ["0"])), row + 1, "frame 2 has 70 values"),
        ("nan", replaced(row, " ".join(["nan", *values[1:]])), row + 1,
         "non-finite channel value in frame 2"),
        ("inf", replaced(row, " ".join([*values[:-1], "-inf"])), row + 1, "non-finite"),
        ("text", replaced(row, " ".join(["x", *values[1:]])), row + 1, "non-numeric"),
        ("more declared", replaced(frames, f"Frames: {FRAMES + 1}"), frames + 1,
         f"{FRAMES + 1} frames declared but {FRAMES} found"),
        ("fewer declared", replaced(frames, f"Frames: {FRAMES - 1}"), len(lines),
         f"{FRAMES - 1} frames declared but line {len(lines)} holds one more"),
        ("zero frames", replaced(frames, "Frames: 0")[: first_row], frames + 1, "zero frames"),
        ("frame time 0", replaced(frame_time, "Frame Time: 0"), frame_time + 1,
         "frame time 0 s is outside"),
        ("negative frame time", replaced(frame_time, "Frame Time: -0.05"), frame_time + 1,
         "frame time -0.05 s is outside"),
        ("nan frame time", replaced(frame_time, "Frame Time: nan"), frame_time + 1,
         "frame time nan s is outside"),
        ("inf frame time", replaced(frame_time, "Frame Time: inf"), frame_time + 1,
         "frame time inf s is outside"),
        ("no frame time", replaced(frame_time, "Time: 0.05"), frame_time + 1,
         "must start with 'Frames:' and 'Frame Time:'"),
    ]  # fmt: skip


def test_each_malformed_file_names_file_line_and_problem(tmp_path, lines):
    for name, mutated, line, reason in _mutations(lines):
        path = tmp_path / f"{name.replace(' ', '_')}.bvh"
        path.write_text("\n".join(mutated) + "\n")
        with pytest.raises(BvhFormatError, match=reason) as checked:
            check_bvh(path)
        error = checked.value
        assert isinstance(error, InputError), name
        assert error.line == line, (name, error.line, line)
        assert str(error).startswith(f"{path}: line {line}: "), (name, str(error))
        with pytest.raises(BvhFormatError) as read:
            read_bvh(path)
        assert str(read.value) == str(error), name


def test_text_is_checked_under_the_name_given(lines):
    text = "\n".join(lines).replace("Frame Time: 0.05000000", "Frame Time: 0")
    with pytest.raises(BvhFormatError, match="^<text>: line"):
        check_bvh_text(text)
    with pytest.raises(BvhFormatError, match="^clip.bvh: line"):
        check_bvh_text(text, "clip.bvh")


def test_write_bvh_refuses_to_write_a_malformed_file(tmp_path, monkeypatch):
    real_hierarchy = bvh._hierarchy
    monkeypatch.setattr(bvh, "_hierarchy", lambda *args: real_hierarchy(*args)[:-2])  # no "}"
    path = tmp_path / "motion.bvh"
    with pytest.raises(BvhFormatError, match="hierarchy ends early"):
        write_bvh(np.zeros((3, 22, 3)) + np.arange(22)[:, None] * 0.1, path)
    assert not path.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("fps", [0.5, 1001.0, float("nan")])
def test_write_bvh_refuses_frame_rates_a_reader_refuses(tmp_path, fps):
    with pytest.raises(ValueError, match=r"fps must be within 1 \.\. 1000"):
        write_bvh(np.zeros((3, 22, 3)), tmp_path / "motion.bvh", fps=fps)
