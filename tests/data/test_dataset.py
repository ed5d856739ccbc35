"""TextMotionDataset: reading the HumanML3D layout, item format, filtering and broken files."""

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from remodiffuse.data import DatasetContentError, DatasetLayoutError, TextMotionDataset
from remodiffuse.data.dataset import crop_length

DIM = 7
WHOLE = "a person walks forward#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0"


def write_layout(
    root: Path,
    motions: dict[str, np.ndarray],
    texts: dict[str, str],
    split: list[str] | None = None,
    dim: int = DIM,
) -> tuple[np.ndarray, np.ndarray]:
    """Write a HumanML3D-layout dataset; every id goes in train.txt unless `split` is given."""
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for motion_id, features in motions.items():
        np.save(root / "new_joint_vecs" / f"{motion_id}.npy", features)
    for motion_id, text in texts.items():
        (root / "texts" / f"{motion_id}.txt").write_text(text)
    ids = list(motions) if split is None else split
    for name in ("train", "val", "test"):
        (root / f"{name}.txt").write_text("\n".join(ids) + "\n")
    mean = np.linspace(-1.0, 1.0, dim).astype(np.float32)
    std = np.linspace(0.5, 2.0, dim).astype(np.float32)
    np.save(root / "Mean.npy", mean)
    np.save(root / "Std.npy", std)
    return mean, std


def random_motion(frames: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(frames, dim)).astype(np.float32)


def test_item_format_and_normalisation(tmp_path: Path) -> None:
    raw = random_motion(63, dim=263)
    mean, std = write_layout(tmp_path, {"000001": raw}, {"000001": WHOLE + "\n"}, dim=263)
    dataset = TextMotionDataset(tmp_path, "train")
    assert len(dataset) == 1 and dataset.ids == ["000001"]
    item = dataset[0]
    assert item["motion"].dtype == torch.float32
    assert item["motion"].shape == (60, 263)
    assert item["length"] == 60 and isinstance(item["length"], int)
    assert item["caption"] == "a person walks forward"
    assert item["tokens"] == ["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"]
    assert item["motion_id"] == "000001" and item["item_id"] == "000001"
    expected = (raw[:60] - mean) / (std + 1e-9)
    np.testing.assert_allclose(item["motion"].numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(dataset.mean, mean)
    np.testing.assert_array_equal(dataset.std, std)
    assert dataset.feature_dim == 263 and not dataset.skipped


def test_timed_segments_become_their_own_items(tmp_path: Path) -> None:
    raw = random_motion(120)
    text = "\n".join(
        [
            WHOLE,
            "a person jumps#a/DET person/NOUN jump/VERB#1.0#3.5",
            "a person waves#a/DET person/NOUN wave/VERB#nan#nan",
            "a person sits#a/DET person/NOUN sit/VERB#0.5#1.0",
        ]
    )
    mean, std = write_layout(tmp_path, {"000002": raw}, {"000002": text})
    dataset = TextMotionDataset(tmp_path, "train", fps=20.0)
    assert dataset.ids == ["000002", "000002_1"]
    whole = dataset[0]
    captions = [caption.text for caption in dataset.records[0].captions]
    assert captions == ["a person walks forward", "a person waves"]
    assert whole["length"] == 120
    segment = dataset[1]
    assert segment["motion_id"] == "000002" and segment["item_id"] == "000002_1"
    assert segment["caption"] == "a person jumps"
    assert segment["length"] == 48  # frames 20:70 -> 50, cropped to a multiple of 4
    expected = (raw[20:68] - mean) / (std + 1e-9)
    np.testing.assert_allclose(segment["motion"].numpy(), expected, rtol=1e-6, atol=1e-6)
    assert dataset.skipped == {"too short": 1}  # the 0.5..1.0 s segment has 10 frames


def test_segment_frames_use_fps(tmp_path: Path) -> None:
    text = "kick#kick/VERB#2.0#6.0"
    write_layout(tmp_path, {"k1": random_motion(100)}, {"k1": text})
    dataset = TextMotionDataset(tmp_path, "train", fps=12.5)
    assert dataset.records[0].start_frame == 25 and dataset.records[0].end_frame == 75
    assert dataset[0]["length"] == 48


def test_length_filter_and_crop_to_unit(tmp_path: Path) -> None:
    lengths = {"m39": 39, "m40": 40, "m43": 43, "m199": 199, "m200": 200}
    motions = {name: random_motion(n) for name, n in lengths.items()}
    write_layout(tmp_path, motions, {name: WHOLE for name in motions})
    dataset = TextMotionDataset(tmp_path, "train")
    assert dataset.ids == ["m40", "m43", "m199"]
    assert [dataset[i]["length"] for i in range(3)] == [40, 40, 196]
    assert dataset.skipped == {"too short": 1, "too long": 1}


def test_long_motions_window(tmp_path: Path) -> None:
    raw = random_motion(260)
    text = WHOLE + "\nlong segment#long/ADJ#0.0#11.0\n"
    mean, std = write_layout(tmp_path, {"long": raw}, {"long": text})
    dataset = TextMotionDataset(tmp_path, "train", long_motions="window")
    assert dataset.ids == ["long"]
    assert dataset.skipped == {"too long": 1}  # the 220-frame segment
    item = dataset[0]
    assert item["length"] == 196
    np.testing.assert_allclose(item["motion"].numpy(), (raw[:196] - mean) / (std + 1e-9), atol=1e-6)

    randomised = TextMotionDataset(tmp_path, "train", long_motions="window", random_crop=True)
    normalised = (raw - mean) / (std + 1e-9)
    torch.manual_seed(0)
    offsets = set()
    for _ in range(20):
        motion = randomised[0]["motion"].numpy()  # (196, D)
        offset = int(np.argmin(np.abs(normalised[:, 0] - motion[0, 0])))
        np.testing.assert_allclose(motion, normalised[offset : offset + 196], atol=1e-6)
        offsets.add(offset)
    assert len(offsets) > 1 and max(offsets) <= 64


def test_random_crop_and_caption_are_seeded(tmp_path: Path) -> None:
    text = WHOLE + "\na person runs#a/DET person/NOUN run/VERB#0#0\n"
    raw = random_motion(47)
    mean, std = write_layout(tmp_path, {"m": raw}, {"m": text})
    deterministic = TextMotionDataset(tmp_path, "train")
    assert {deterministic[0]["caption"] for _ in range(10)} == {"a person walks forward"}
    first_window = (raw[:44] - mean) / (std + 1e-9)
    for _ in range(5):
        np.testing.assert_allclose(deterministic[0]["motion"].numpy(), first_window, atol=1e-6)

    randomised = TextMotionDataset(tmp_path, "train", random_crop=True, random_caption=True)
    torch.manual_seed(1)
    first = [randomised[0] for _ in range(30)]
    torch.manual_seed(1)
    second = [randomised[0] for _ in range(30)]
    assert all(torch.equal(a["motion"], b["motion"]) for a, b in zip(first, second, strict=True))
    assert {item["caption"] for item in first} == {"a person walks forward", "a person runs"}
    assert all(item["length"] == 44 for item in first)
    assert len({item["motion"][0, 0].item() for item in first}) > 1


@pytest.mark.parametrize("missing", ["train.txt", "Mean.npy", "Std.npy", "texts", "new_joint_vecs"])
def test_missing_layout_part_names_it(tmp_path: Path, missing: str) -> None:
    write_layout(tmp_path, {"m": random_motion(60)}, {"m": WHOLE})
    path = tmp_path / missing
    if path.is_dir():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    else:
        path.unlink()
    with pytest.raises(DatasetLayoutError) as error:
        TextMotionDataset(tmp_path, "train")
    assert isinstance(error.value, FileNotFoundError)
    assert str(path) in str(error.value)
    assert "new_joint_vecs/<id>.npy" in str(error.value)  # the expected layout tree


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="dataset root folder"):
        TextMotionDataset(tmp_path / "nowhere", "train")


def test_bad_statistics_are_an_error(tmp_path: Path) -> None:
    write_layout(tmp_path, {"m": random_motion(60)}, {"m": WHOLE})
    np.save(tmp_path / "Std.npy", np.ones(DIM + 1, dtype=np.float32))
    with pytest.raises(DatasetContentError, match="Std.npy"):
        TextMotionDataset(tmp_path, "train")


def test_broken_files_are_skipped_counted_and_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nan_motion, huge_motion = random_motion(60), random_motion(60)
    nan_motion[5, 2] = np.nan
    huge_motion[7, 1] = 1e30
    motions = {
        "good": random_motion(60),
        "nan": nan_motion,
        "huge": huge_motion,
        "wrongdim": random_motion(60, dim=DIM + 2),
        "flat": np.zeros(60, dtype=np.float32),
        "emptytext": random_motion(60),
        "badlines": random_motion(60),
        "notext": random_motion(60),
        "corrupt": random_motion(60),
    }
    texts = {
        name: WHOLE + "\nnot a caption line\n" if name == "good" else WHOLE
        for name in motions
        if name != "notext"
    }
    texts["emptytext"] = ""
    texts["badlines"] = "#tokens#0#0\nno separators at all\nwalk#walk/VERB#zero#0\n"
    split = [*motions, "absent", "good"]
    write_layout(tmp_path, motions, texts, split=split)
    (tmp_path / "new_joint_vecs" / "corrupt.npy").write_bytes(b"\x00garbage\xffbytes" * 10)

    with caplog.at_level(logging.WARNING, logger="remodiffuse.data.dataset"):
        dataset = TextMotionDataset(tmp_path, "train")
    assert dataset.ids == ["good"]
    assert dataset.skipped == {
        "missing motion file": 1,
        "corrupt motion file": 1,
        "non-finite values": 1,
        "values out of range": 1,
        "wrong feature dim": 2,
        "missing caption file": 1,
        "no usable caption": 2,
        "malformed caption line": 4,
        "duplicate id": 1,
    }
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "corrupt motion file: 1 (e.g. corrupt)" in message
    assert "non-finite values: 1 (e.g. nan)" in message
    assert "Traceback" not in message


@pytest.mark.parametrize("motion_id", ["../outside", "sub/inner", ".hidden", "a\\b"])
def test_split_ids_that_could_leave_the_root_are_refused(tmp_path: Path, motion_id: str) -> None:
    write_layout(tmp_path, {"m": random_motion(60)}, {"m": WHOLE}, split=["m", motion_id])
    with pytest.raises(DatasetContentError, match="train.txt:2: motion id"):
        TextMotionDataset(tmp_path, "train")


def test_zero_std_is_refused(tmp_path: Path) -> None:
    write_layout(tmp_path, {"m": random_motion(60)}, {"m": WHOLE})
    std = np.ones(DIM, dtype=np.float32)
    std[3] = 0
    np.save(tmp_path / "Std.npy", std)
    with pytest.raises(DatasetContentError, match="channel 3"):
        TextMotionDataset(tmp_path, "train")


def test_empty_split_after_filtering_is_an_error(tmp_path: Path) -> None:
    write_layout(tmp_path, {"short": random_motion(10)}, {"short": WHOLE})
    with pytest.raises(DatasetContentError) as error:
        TextMotionDataset(tmp_path, "val")
    message = str(error.value)
    assert "'val'" in message and str(tmp_path) in message and "too short: 1" in message


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_length"):
        TextMotionDataset(tmp_path, "train", min_length=50, max_length=40)
    with pytest.raises(ValueError, match="long_motions"):
        TextMotionDataset(tmp_path, "train", long_motions="crop")


def test_crop_length() -> None:
    assert crop_length(43, 4) == 40
    assert crop_length(199, 4, max_length=196) == 196
    assert crop_length(260, 4, max_length=198) == 196
    assert crop_length(7, 1) == 7


def test_caption_index_points_into_the_split_caption_list(tmp_path: Path) -> None:
    texts = {
        "a": WHOLE + "\na person runs#a/DET person/NOUN run/VERB#0#0\n",
        "b": "someone jumps#someone/PRON jump/VERB#0#0\n",
    }
    write_layout(tmp_path, {"a": random_motion(60), "b": random_motion(60, 1)}, texts)
    dataset = TextMotionDataset(tmp_path, "train", random_caption=True)
    assert dataset.captions == ["a person walks forward", "a person runs", "someone jumps"]
    torch.manual_seed(0)
    for index in (0, 0, 0, 0, 1):
        item = dataset[index]
        assert dataset.captions[item["caption_index"]] == item["caption"]
    assert dataset[1]["caption_index"] == 2
