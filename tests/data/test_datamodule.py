"""MotionDataModule and collate_motions: batching, splits, synthetic preparation, Hydra config."""

import sys
import types
from pathlib import Path

import hydra
import numpy as np
import pytest
import torch
from lightning import seed_everything
from omegaconf import OmegaConf

from remodiffuse.data import MotionDataModule, collate_motions
from remodiffuse.data.layout import DatasetContentError

DIM = 5
LENGTHS = {"a": 40, "b": 61, "c": 90, "d": 123, "e": 150, "long": 250}


def write_layout(root: Path, lengths: dict[str, int] = LENGTHS) -> None:
    """A tiny HumanML3D-layout set whose ids all go in every split."""
    rng = np.random.default_rng(0)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for motion_id, frames in lengths.items():
        np.save(root / "new_joint_vecs" / f"{motion_id}.npy", rng.normal(size=(frames, DIM)))
        (root / "texts" / f"{motion_id}.txt").write_text(
            f"motion {motion_id}#motion/NOUN {motion_id}/X#0.0#0.0\n"
            f"again {motion_id}#again/ADV#0.0#0.0\n"
        )
    for split in ("train", "val", "test"):
        (root / f"{split}.txt").write_text("\n".join(lengths) + "\n")
    np.save(root / "Mean.npy", np.zeros(DIM, dtype=np.float32))
    np.save(root / "Std.npy", np.ones(DIM, dtype=np.float32))


def test_collate_pads_and_masks() -> None:
    items = [
        {
            "motion": torch.ones(length, 3),
            "length": length,
            "caption": f"caption {length}",
            "caption_index": length + 10,
            "tokens": ["w/NOUN"] * length,
            "motion_id": f"m{length}",
            "item_id": f"m{length}_0",
        }
        for length in (2, 4)
    ]
    batch = collate_motions(items)
    assert batch["motion"].shape == (2, 4, 3) and batch["motion"].dtype == torch.float32
    assert batch["mask"].dtype == torch.bool
    assert batch["mask"].tolist() == [[True, True, False, False], [True] * 4]
    assert batch["length"].dtype == torch.long and batch["length"].tolist() == [2, 4]
    assert batch["motion"][0, 2:].abs().sum() == 0 and batch["motion"][0, :2].min() == 1
    assert batch["caption"] == ["caption 2", "caption 4"]
    assert batch["caption_index"].tolist() == [12, 14]
    assert batch["tokens"] == [["w/NOUN"] * 2, ["w/NOUN"] * 4]
    assert batch["motion_id"] == ["m2", "m4"] and batch["item_id"] == ["m2_0", "m4_0"]


def test_train_batch_shapes_masks_and_lengths(tmp_path: Path) -> None:
    write_layout(tmp_path)
    datamodule = MotionDataModule(tmp_path, batch_size=6, min_length=40, max_length=196)
    datamodule.setup("fit")
    assert set(datamodule.datasets) == {"train", "val"}
    assert datamodule.feature_dim == DIM
    batch = next(iter(datamodule.train_dataloader()))
    lengths = batch["length"]  # (B,)
    assert batch["motion"].shape == (6, int(lengths.max()), DIM)
    assert sorted(lengths.tolist()) == [40, 60, 88, 120, 148, 196]  # "long" as a 196 window
    assert torch.equal(batch["mask"].sum(dim=1), lengths)
    assert batch["motion"][~batch["mask"]].abs().sum() == 0
    assert all(
        caption.split()[1] == motion_id
        for caption, motion_id in zip(batch["caption"], batch["motion_id"], strict=True)
    )


def test_eval_splits_are_deterministic_and_skip_long_motions(tmp_path: Path) -> None:
    write_layout(tmp_path)
    datamodule = MotionDataModule(tmp_path, batch_size=4)
    datamodule.setup("test")
    assert "long" not in datamodule.datasets["test"].ids
    assert datamodule.datasets["test"].skipped == {"too long": 1}
    first, second = (list(datamodule.test_dataloader()) for _ in range(2))
    assert [b["item_id"] for b in first] == [["a", "b", "c", "d"], ["e"]]
    for one, two in zip(first, second, strict=True):
        assert torch.equal(one["motion"], two["motion"]) and one["caption"] == two["caption"]
    assert all(caption.startswith("motion ") for batch in first for caption in batch["caption"])


def test_seeded_shuffling_is_reproducible(tmp_path: Path) -> None:
    write_layout(tmp_path)
    datamodule = MotionDataModule(tmp_path, batch_size=2)
    datamodule.setup("fit")
    orders = []
    for _ in range(2):
        seed_everything(3)
        orders.append([batch["item_id"] for batch in datamodule.train_dataloader()])
    assert orders[0] == orders[1]
    assert sorted(sum(orders[0], [])) == sorted(LENGTHS)


@pytest.fixture
def fake_synthetic(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, dict]]:
    """Replace `remodiffuse.data.synthetic` with a module that writes the tiny layout."""
    calls: list[tuple[Path, dict]] = []

    def ensure_synthetic_dataset(root: str | Path, **kwargs: int) -> Path:
        calls.append((Path(root), kwargs))
        if not Path(root).exists():
            write_layout(Path(root))
        return Path(root)

    module = types.ModuleType("remodiffuse.data.synthetic")
    module.ensure_synthetic_dataset = ensure_synthetic_dataset
    monkeypatch.setitem(sys.modules, "remodiffuse.data.synthetic", module)
    return calls


def test_prepare_data_generates_synthetic_set(tmp_path: Path, fake_synthetic: list) -> None:
    root = tmp_path / "synthetic"
    datamodule = MotionDataModule(root, synthetic={"num_motions": 6, "seed": 1}, batch_size=3)
    datamodule.prepare_data()
    assert fake_synthetic == [(root, {"num_motions": 6, "seed": 1})]
    datamodule.setup("validate")
    assert len(next(iter(datamodule.val_dataloader()))["caption"]) == 3


def test_prepare_data_without_synthetic_does_nothing(tmp_path: Path, fake_synthetic: list) -> None:
    MotionDataModule(tmp_path).prepare_data()
    assert fake_synthetic == []


def test_hydra_instantiate_with_synthetic_dictconfig(tmp_path: Path, fake_synthetic: list) -> None:
    config = OmegaConf.create(
        {
            "_target_": "remodiffuse.data.MotionDataModule",
            "root": str(tmp_path / "set"),
            "name": "synthetic",
            "skeleton": "humanml3d",
            "fps": 20.0,
            "min_length": 40,
            "max_length": 196,
            "unit_length": 4,
            "batch_size": 2,
            "num_workers": 0,
            "synthetic": {"num_motions": 8, "seed": "${.num_motions}"},
        }
    )
    datamodule = hydra.utils.instantiate(config)
    assert isinstance(datamodule, MotionDataModule)
    assert datamodule.synthetic == {"num_motions": 8, "seed": 8}
    assert type(datamodule.synthetic) is dict
    datamodule.prepare_data()
    assert fake_synthetic == [(tmp_path / "set", {"num_motions": 8, "seed": 8})]
    datamodule.setup("fit")
    assert datamodule.train_dataloader().batch_size == 2


def test_feature_dim_mismatch_names_the_root(tmp_path: Path) -> None:
    write_layout(tmp_path)
    datamodule = MotionDataModule(tmp_path, name="kit", feature_dim=DIM + 1)
    with pytest.raises(DatasetContentError, match=f"{DIM} channels.*feature_dim={DIM + 1}"):
        datamodule.setup("fit")
    MotionDataModule(tmp_path, feature_dim=DIM).setup("fit")
