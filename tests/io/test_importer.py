"""The mocap importer: captions, bad files skipped with reasons, layout, splits, round trip."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from mocap_samples import walking, write_text

from remodiffuse.data import TextMotionDataset
from remodiffuse.data.synthetic import sample_motion
from remodiffuse.errors import InputError
from remodiffuse.export.bvh import write_bvh
from remodiffuse.io import MocapFormatError, importer
from remodiffuse.io import captions as caption_io
from remodiffuse.io.captions import (
    CaptionError,
    caption_line,
    heuristic_tokens,
    read_caption_csv,
)
from remodiffuse.io.importer import find_motion_files, import_motion, prepare_dataset
from remodiffuse.motion import features_from_joints, get_skeleton, joints_from_features

NAMES = get_skeleton("humanml3d").joint_names


def _walk_bvh(directory: Path, name: str, frames: int = 60) -> Path:
    """A valid BVH (HumanML3D joint names, cm) of the simple walking motion at 20 fps."""
    return write_bvh(walking(frames), directory / f"{name}.bvh", fps=20)


def _floored(joints: np.ndarray) -> np.ndarray:
    return joints - np.array([0.0, joints[..., 1].min(), 0.0])


def test_caption_csv_formats(tmp_path):
    plain = write_text(tmp_path, "plain.csv", 'id,caption\na,"walks, then turns"\na,runs\nb,x#y\n')
    assert read_caption_csv(plain) == {"a": ["walks, then turns", "runs"], "b": ["x y"]}
    cmu = write_text(
        tmp_path,
        "cmu.csv",
        '"Subject","Trial #","Motion Description","framerate"\n1,1,"walk",120\n2,10,"jump",120\n'
        ",,,\n",
    )
    assert read_caption_csv(cmu) == {"01_01": ["walk"], "02_10": ["jump"]}
    with pytest.raises(CaptionError, match="expected a header"):
        read_caption_csv(write_text(tmp_path, "bad.csv", "name,text\na,b\n"))


def test_caption_files_over_the_size_limit(tmp_path, monkeypatch):
    path = write_text(tmp_path, "big.csv", "id,caption\n" + "a,walks\n" * 20)
    monkeypatch.setattr(caption_io, "MAX_CAPTIONS_BYTES", 100)
    with pytest.raises(CaptionError, match=f"captions {path} is larger than the 100 bytes"):
        read_caption_csv(path)
    assert caption_io.read_caption_txt(path) == []  # beside a take: read as no caption


def test_caption_lines_parse_and_tag():
    assert caption_line("a person walks forward") == (
        "a person walks forward#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0"
    )
    line = caption_line("playground - climb, hang")  # unknown words: heuristic tagger
    assert line == "playground - climb, hang#playground/NOUN climb/VERB hang/VERB#0.0#0.0"
    assert heuristic_tokens("Slowly stepping over the bar") == [
        "slowly/ADV", "stepping/VERB", "over/ADP", "the/DET", "bar/NOUN",
    ]  # fmt: skip


def test_amc_skeleton_lookup(tmp_path):
    (tmp_path / "07.asf").write_text("")
    (tmp_path / "07_01.amc").write_text("")
    (tmp_path / "lonely").mkdir()
    (tmp_path / "lonely" / "x_1.amc").write_text("")
    sources, skipped = find_motion_files(tmp_path)
    assert [(s.motion_id, s.skeleton) for s in sources] == [("07_01", tmp_path / "07.asf")]
    assert len(skipped) == 1 and "no ASF skeleton" in skipped[0]["reason"]


def test_bad_files_are_skipped_with_reasons(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    good = _walk_bvh(source, "good").read_text()
    header, motion = good.split("MOTION\n")
    rows = motion.splitlines()
    write_text(source, "truncated.bvh", good[: len(good) - 500])
    write_text(source, "channels.bvh", header + "MOTION\n" + "\n".join(
        rows[:3] + [" ".join(rows[3].split()[:-1])] + rows[4:]) + "\n")  # fmt: skip
    write_text(source, "nan.bvh", header + "MOTION\n" + "\n".join(
        rows[:3] + [rows[3].replace("0.000000", "nan", 1)] + rows[4:]) + "\n")  # fmt: skip
    write_text(source, "empty.bvh", header + "MOTION\nFrames: 0\nFrame Time: 0.05\n")
    write_text(source, "unmapped.bvh", good.replace("left_wrist", "gizmo"))
    write_text(source, "garbage.bvh", "\x00\x01 not a bvh")
    write_text(source, "lonely_01.amc", "1\nroot 0 0 0 0 0 0\n")

    report = prepare_dataset(source, tmp_path / "out")

    reasons = {Path(e["path"]).name: e["reason"] for e in report["skipped_files"]}
    assert report["imported"] == 1 and report["skipped"] == 7 == len(reasons)
    assert "frame 59 has 16 values" in reasons["truncated.bvh"]  # cut mid-row
    assert "the hierarchy has" in reasons["channels.bvh"]
    assert "non-finite" in reasons["nan.bvh"]
    assert "zero frames" in reasons["empty.bvh"]
    assert "no built-in joint map fits" in reasons["unmapped.bvh"]
    assert "no MOTION section" in reasons["garbage.bvh"]
    assert "no ASF skeleton" in reasons["lonely_01.amc"]
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["skipped_files"] == report["skipped_files"]


def test_memory_hostile_files_are_skipped_and_counted(tmp_path, monkeypatch):
    source = tmp_path / "in"
    source.mkdir()
    good = _walk_bvh(source, "good").read_text()
    header, motion = good.split("MOTION\n")
    write_text(source, "slow_clock.bvh", good.replace("Frame Time: 0.05000000", "Frame Time: 1000"))
    write_text(source, "claims_more.bvh", good.replace("Frames: 60", "Frames: 999999999"))
    write_bvh(walking(4000, fps=1.0), source / "hour_long.bvh", fps=1)  # 79981 frames at 20 fps
    monkeypatch.setattr(importer, "MAX_OUTPUT_FRAMES", 1000)  # the rest is within the limit
    write_bvh(walking(60, fps=1.0), source / "upsampled.bvh", fps=1)  # 1181 frames at 20 fps

    report = prepare_dataset(source, tmp_path / "out")

    reasons = {Path(e["path"]).name: e["reason"] for e in report["skipped_files"]}
    assert report["imported"] == 1 and report["skipped"] == 4 == len(reasons)
    assert "frame time 1000 s is outside" in reasons["slow_clock.bvh"]
    assert "999999999 frames, more than the 1000000 allowed" in reasons["claims_more.bvh"]
    assert "79981 frames at 20 fps, more than the 1000 allowed" in reasons["hour_long.bvh"]
    assert "1181 frames at 20 fps" in reasons["upsampled.bvh"]


def test_hour_long_take_refused_before_resampling(tmp_path):
    path = write_bvh(walking(4000, fps=1.0), tmp_path / "slow.bvh", fps=1)
    with pytest.raises(MocapFormatError, match="79981 frames at 20 fps, more than the 72000"):
        import_motion(path)


@pytest.mark.parametrize(("option", "value"), [("fps", 0.0), ("fps", 5000.0), ("amc_fps", 0.1)])
def test_frame_rate_settings_out_of_range(tmp_path, option, value):
    path = _walk_bvh(tmp_path, "one")
    with pytest.raises(InputError, match=rf"{option}={value:g}: allowed 1 \.\. 1000"):
        prepare_dataset(path, tmp_path / "out", **{option: value})
    assert not (tmp_path / "out").exists()


def test_layout_captions_uncaptioned_and_splits(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for n in range(10):
        _walk_bvh(source, f"take{n}", frames=60 + 4 * n)
    write_text(source, "take1.txt", "a person walks forward\n\nsomeone strolls ahead\n")
    captions = write_text(tmp_path, "captions.csv", "id,caption\n" + "".join(
        f"take{n},a person walks forward\n" for n in range(8)))  # fmt: skip

    report = prepare_dataset(source, tmp_path / "out", captions=captions, seed=3)

    out = tmp_path / "out"
    assert report["imported"] == 10 and report["uncaptioned"] == 2 and report["skipped"] == 0
    assert (out / "uncaptioned.txt").read_text().split() == ["take8", "take9"]
    assert not (out / "texts" / "take8.txt").exists()
    assert (out / "new_joint_vecs" / "take8.npy").is_file()
    assert (out / "texts" / "take1.txt").read_text().splitlines() == [
        "a person walks forward#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0",
        "someone strolls ahead#someone/PRON stroll/VERB ahead/ADV#0.0#0.0",
    ]
    splits = {name: (out / f"{name}.txt").read_text().split() for name in ("train", "val", "test")}
    assert [len(splits[name]) for name in ("train", "val", "test")] == [6, 0, 2]
    assert sorted(sum(splits.values(), [])) == (out / "all.txt").read_text().split()
    features = np.load(out / "new_joint_vecs" / "take0.npy")
    joints = np.load(out / "new_joints" / "take0.npy")
    assert features.shape == (59, 263) and joints.shape == (59, 22, 3)
    assert features.dtype == joints.dtype == np.float32
    assert np.load(out / "Mean.npy").shape == np.load(out / "Std.npy").shape == (263,)
    assert report["statistics"].endswith("std 1 for the 1 constant channels [0]")  # no turning
    assert set(report["motions"]["take0"]["physical"]) == {
        "bone_length_variation", "toe_slide_fraction", "max_joint_speed", "penetration", "passed",
    }  # fmt: skip
    dataset = TextMotionDataset(out, "train")
    assert len(dataset) == 6 and dataset[0]["caption"] == "a person walks forward"

    again = prepare_dataset(source, out, captions=captions, seed=3)  # a previous import: replaced
    assert again["splits"] == report["splits"]


def test_tiny_set_goes_to_train_and_refuses_foreign_out_dir(tmp_path):
    _walk_bvh(tmp_path, "one")
    report = prepare_dataset(tmp_path / "one.bvh", tmp_path / "out", stats="own")
    assert report["splits"] == {"train": 0, "val": 0, "test": 0}  # uncaptioned: no split
    write_text(tmp_path, "one.txt", "a person walks\n")
    report = prepare_dataset(tmp_path / "one.bvh", tmp_path / "out")
    assert report["splits"] == {"train": 1, "val": 0, "test": 0}
    assert (tmp_path / "out" / "val.txt").read_text() == ""
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=f"out_dir {foreign} is not empty"):
        prepare_dataset(tmp_path / "one.bvh", foreign)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_statistics_copied_from_a_folder(tmp_path):
    _walk_bvh(tmp_path, "one")
    stats = tmp_path / "stats"
    stats.mkdir()
    np.save(stats / "Mean.npy", np.arange(263, dtype=np.float32))
    np.save(stats / "Std.npy", np.ones(263, dtype=np.float32))
    report = prepare_dataset(tmp_path / "one.bvh", tmp_path / "out", stats=stats)
    assert report["statistics"].startswith("copied from")
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "Mean.npy"), np.arange(263))
    with pytest.raises(InputError, match="Mean.npy and Std.npy"):
        prepare_dataset(tmp_path / "one.bvh", tmp_path / "out", stats=tmp_path / "nowhere")
    np.save(stats / "Std.npy", np.zeros(263, dtype=np.float32))
    with pytest.raises(InputError, match="Std.npy has channels whose std is not > 0"):
        prepare_dataset(tmp_path / "one.bvh", tmp_path / "out", stats=stats)


def test_custom_joint_map_yaml(tmp_path):
    renamed = _walk_bvh(tmp_path, "renamed").read_text()
    for name in NAMES:
        renamed = renamed.replace(f" {name}\n", f" Bone_{name.upper()}\n")
    path = write_text(tmp_path, "renamed.bvh", renamed)
    with pytest.raises(Exception, match="no built-in joint map fits"):
        import_motion(path)
    joint_map = write_text(tmp_path, "map.yaml", yaml.safe_dump({n: f"Bone_{n.upper()}"
                                                                 for n in NAMES}))  # fmt: skip
    imported = import_motion(path, joint_map)
    np.testing.assert_allclose(imported.joints, _floored(walking(60)), atol=1e-6)
    report = prepare_dataset(path, tmp_path / "out", joint_map=joint_map)
    assert report["motions"]["renamed"]["joint_map"] == "custom"


@pytest.mark.parametrize("export_fps", [20, 60])
def test_bvh_export_round_trip(tmp_path, export_fps):
    joints = sample_motion(np.random.default_rng(3)).joints  # (T, 22, 3) at 20 fps
    if export_fps != 20:  # the same motion sampled 3x denser; the importer resamples to 20 fps
        times = np.arange((len(joints) - 1) * 3 + 1) / 3.0
        dense = np.stack([np.stack([np.interp(times, np.arange(len(joints)), joints[:, j, a])
                                    for a in range(3)], -1) for j in range(22)], 1)  # fmt: skip
    else:
        dense = joints
    path = write_bvh(dense, tmp_path / "export.bvh", fps=export_fps)

    imported = import_motion(path)

    assert imported.retargeted.joint_map == "smpl" and imported.joints.shape == joints.shape
    assert np.abs(imported.joints - _floored(joints)).max() < 0.01
    prepare_dataset(path, tmp_path / "out")
    expected = joints_from_features(features_from_joints(joints))
    assert np.abs(np.load(tmp_path / "out" / "new_joints" / "export.npy") - expected).max() < 0.01


def test_import_motion_errors_name_the_file(tmp_path):
    path = write_text(tmp_path, "short.bvh", _walk_bvh(tmp_path, "w").read_text())
    with pytest.raises(MocapFormatError, match="too short"):
        import_motion(path, fps=0.05)
