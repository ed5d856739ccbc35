"""The synthetic dataset on disk: HumanML3D layout, determinism, reuse, atomicity and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from remodiffuse.data.synthetic import (
    GENERATOR_VERSION,
    ensure_synthetic_dataset,
    generate_synthetic_dataset,
    read_metadata,
)
from remodiffuse.data.synthetic import writer as writer_module
from remodiffuse.motion import joints_from_features, mean_std


def _files(root: Path) -> dict[str, bytes]:
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in paths}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    return generate_synthetic_dataset(tmp_path_factory.mktemp("syn") / "set", 30, seed=4, workers=1)


def test_layout_matches_humanml3d(small_set):
    ids = [f"{i:06d}" for i in range(30)]
    assert (small_set / "all.txt").read_text().split() == ids
    names = ("train", "val", "test")
    splits = {name: (small_set / f"{name}.txt").read_text().split() for name in names}
    assert [len(splits[n]) for n in names] == [24, 2, 4]
    assert sorted(sum(splits.values(), [])) == ids
    for motion_id in ids:
        features = np.load(small_set / "new_joint_vecs" / f"{motion_id}.npy")
        joints = np.load(small_set / "new_joints" / f"{motion_id}.npy")
        assert features.dtype == np.float32 and joints.dtype == np.float32
        assert features.shape[1] == 263 and 40 <= len(features) <= 196
        assert joints.shape == (len(features), 22, 3)
        np.testing.assert_allclose(joints, joints_from_features(features), atol=1e-5)
        lines = (small_set / "texts" / f"{motion_id}.txt").read_text().splitlines()
        assert len(lines) >= 3
        for line in lines:
            caption, tokens, start, end = line.split("#")
            assert caption and tokens and (start, end) == ("0.0", "0.0")
    train = [np.load(small_set / "new_joint_vecs" / f"{i}.npy") for i in splits["train"]]
    mean, std = mean_std(train, "humanml3d")
    np.testing.assert_array_equal(np.load(small_set / "Mean.npy"), mean)
    np.testing.assert_array_equal(np.load(small_set / "Std.npy"), std)


def test_metadata_records_settings_and_primitives(small_set):
    metadata = json.loads((small_set / "synthetic.json").read_text())
    assert (metadata["num_motions"], metadata["seed"], metadata["generator_version"]) == (
        30,
        4,
        GENERATOR_VERSION,
    )
    assert set(metadata["motions"]) == {f"{i:06d}" for i in range(30)}
    for entry in metadata["motions"].values():
        assert 1 <= len(entry["primitives"]) <= 3
        for primitive in entry["primitives"]:
            assert {"label", "params", "start", "end"} <= set(primitive)
            assert 0 <= primitive["start"] <= primitive["end"] < entry["frames"]
        assert entry["split"] in ("train", "val", "test")


def test_same_seed_gives_identical_bytes_and_another_seed_differs(small_set, tmp_path):
    again = generate_synthetic_dataset(tmp_path / "again", 30, seed=4, workers=1)
    assert _files(again) == _files(small_set)
    other = generate_synthetic_dataset(tmp_path / "other", 30, seed=5, workers=1)
    first = "new_joint_vecs/000000.npy"
    assert _files(other)[first] != _files(small_set)[first]


def test_ensure_reuses_a_matching_set_and_regenerates_a_stale_one(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    ensure_synthetic_dataset(root, num_motions=6, seed=1)
    assert read_metadata(root)["num_motions"] == 6

    def fail(*args, **kwargs):
        raise AssertionError("a matching dataset must be reused, not regenerated")

    monkeypatch.setattr(writer_module, "generate_synthetic_dataset", fail)
    assert ensure_synthetic_dataset(root, num_motions=6, seed=1) == root.resolve()
    monkeypatch.undo()

    ensure_synthetic_dataset(root, num_motions=8, seed=2)
    metadata = read_metadata(root)
    assert (metadata["num_motions"], metadata["seed"]) == (8, 2)
    assert len((root / "all.txt").read_text().split()) == 8
    left = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert not left  # no staging or retired directories left


def test_ensure_refuses_to_replace_a_foreign_directory(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        ensure_synthetic_dataset(foreign, num_motions=4)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_interrupted_generation_leaves_no_partial_dataset(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = writer_module.make_entry

    def flaky(seed):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(seed)

    monkeypatch.setattr(writer_module, "make_entry", flaky)
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic_dataset(tmp_path / "set", 10, seed=0, workers=1)
    assert [p.name for p in tmp_path.iterdir()] == [".set.lock"]  # no partial dataset


def test_text_motion_dataset_loads_the_train_split(small_set):
    from remodiffuse.data import TextMotionDataset

    dataset = TextMotionDataset(small_set, "train")
    assert len(dataset) >= 20
    item = dataset[0]
    assert item["motion"].shape[-1] == 263 and item["caption"]


def _synthesize(*overrides: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "remodiffuse.synthesize", *overrides],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return result.stdout


@pytest.mark.slow
def test_cli_writes_a_small_set_relative_to_the_cwd_and_reuses_it(tmp_path):
    out = _synthesize("out_dir=rel/set", "num_motions=6", "seed=3", cwd=tmp_path)
    root = tmp_path / "rel" / "set"
    assert str(root) in out and "generated 6 motions" in out
    assert read_metadata(root)["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rel"]  # no outputs/ or .hydra/
    assert "reused 6 motions" in _synthesize("out_dir=rel/set", "num_motions=6", "seed=3",
                                             cwd=tmp_path)  # fmt: skip


@pytest.mark.slow
def test_parallel_generation_writes_the_same_bytes(tmp_path):
    serial = generate_synthetic_dataset(tmp_path / "serial", 70, seed=9, workers=1)
    parallel = generate_synthetic_dataset(tmp_path / "parallel", 70, seed=9, workers=2)
    assert _files(parallel) == _files(serial)


@pytest.mark.slow
def test_acceptance_cli_set_of_200_loads_as_text_motion_dataset(tmp_path):
    from remodiffuse.data import TextMotionDataset

    out = _synthesize(f"out_dir={tmp_path / 's'}", "num_motions=200", "seed=0", cwd=tmp_path)
    assert "train 160, val 10, test 30" in out
    dataset = TextMotionDataset(tmp_path / "s", "train")
    assert len(dataset) > 0
