"""Lightning data module shared by every stage: train/val/test `TextMotionDataset`s and batching."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader

from remodiffuse.configs import plain_dict
from remodiffuse.data.dataset import LongMotions, TextMotionDataset
from remodiffuse.data.layout import DatasetContentError
from remodiffuse.data.sampling import EpochSampler
from remodiffuse.motion.masks import length_mask

SPLITS_FOR_STAGE = {
    "fit": ("train", "val"),
    "validate": ("val",),
    "test": ("test",),
    "predict": ("test",),
}


def collate_motions(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Zero-pad items to the batch's longest motion; `mask` is True on valid frames."""
    lengths = torch.tensor([item["length"] for item in items], dtype=torch.long)  # (B,)
    feature_dim = items[0]["motion"].shape[-1]
    motion = torch.zeros(len(items), int(lengths.max()), feature_dim)  # (B, Tmax, D)
    for row, item in enumerate(items):
        motion[row, : item["length"]] = torch.as_tensor(item["motion"], dtype=torch.float32)
    mask = length_mask(lengths, motion.shape[1])  # (B, Tmax)
    return {
        "motion": motion,
        "mask": mask,
        "length": lengths,
        "caption": [item["caption"] for item in items],
        "caption_index": torch.tensor([item["caption_index"] for item in items], dtype=torch.long),
        "tokens": [list(item["tokens"]) for item in items],
        "motion_id": [item["motion_id"] for item in items],
        "item_id": [item["item_id"] for item in items],
    }


class MotionDataModule(LightningDataModule):
    """Train/val/test splits of a dataset in the HumanML3D layout, batched with `collate_motions`.

    Train items draw a caption per epoch, keep longer motions as a `max_length` window and, with
    `random_crop`, take random crop offsets, all from (seed, epoch, item); batches come from
    `EpochSampler`, sharded by rank under DDP. Val/test items are deterministic (offset 0, first
    caption) and handle long motions as `eval_long_motions` says ("skip" = the standard filter).
    `synthetic={"num_motions": ..., "seed": ...}` makes `prepare_data` generate the set at `root`.
    """

    def __init__(
        self,
        root: str | Path,
        name: str = "humanml3d",
        skeleton: str = "humanml3d",
        feature_dim: int | None = None,
        fps: float = 20.0,
        min_length: int = 40,
        max_length: int = 196,
        unit_length: int = 4,
        batch_size: int = 32,
        num_workers: int = 0,
        random_crop: bool = True,
        synthetic: Mapping[str, Any] | None = None,
        eval_long_motions: LongMotions = "skip",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.root = Path(root).expanduser()
        self.name = name
        self.skeleton = skeleton
        self.expected_feature_dim = feature_dim
        self.fps = fps
        self.min_length = min_length
        self.max_length = max_length
        self.unit_length = unit_length
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.random_crop = random_crop
        self.synthetic = plain_dict(synthetic)
        self.eval_long_motions = eval_long_motions
        self.seed = seed
        self.save_hyperparameters(ignore=["synthetic"])
        self.hparams["synthetic"] = self.synthetic  # a plain dict: checkpoints load weights-only
        self.datasets: dict[str, TextMotionDataset] = {}

    def prepare_data(self) -> None:
        """Generate the synthetic set at `root` when configured (once per node)."""
        if self.synthetic is not None:
            from remodiffuse.data.synthetic import ensure_synthetic_dataset

            ensure_synthetic_dataset(self.root, **self.synthetic)

    def setup(self, stage: str | None = None) -> None:
        """Build the datasets `stage` needs ("fit", "validate", "test", "predict"; None = all)."""
        splits = SPLITS_FOR_STAGE[stage] if stage else ("train", "val", "test")
        for split in splits:
            if split not in self.datasets:
                self.datasets[split] = self._build(split)

    def _build(self, split: str) -> TextMotionDataset:
        training = split == "train"
        dataset = TextMotionDataset(
            self.root,
            split,
            min_length=self.min_length,
            max_length=self.max_length,
            unit_length=self.unit_length,
            fps=self.fps,
            random_crop=self.random_crop and training,
            random_caption=training,
            long_motions="window" if training else self.eval_long_motions,
            seed=self.seed,
        )
        if self.expected_feature_dim not in (None, dataset.feature_dim):
            raise DatasetContentError(
                f"{self.root}: Mean.npy has {dataset.feature_dim} channels but the {self.name!r} "
                f"config expects feature_dim={self.expected_feature_dim}"
            )
        return dataset

    @property
    def mean(self) -> np.ndarray:
        """(D,) normalisation mean of the set up datasets."""
        return self._any_dataset().mean

    @property
    def std(self) -> np.ndarray:
        """(D,) normalisation std of the set up datasets."""
        return self._any_dataset().std

    @property
    def feature_dim(self) -> int:
        return self._any_dataset().feature_dim

    def _any_dataset(self) -> TextMotionDataset:
        if not self.datasets:
            raise RuntimeError("MotionDataModule.setup() has not been called yet")
        return next(iter(self.datasets.values()))

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.datasets:
            self.datasets[split] = self._build(split)
        dataset = self.datasets[split]
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=EpochSampler(len(dataset), self.seed, shuffle=shuffle),
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            collate_fn=collate_motions,
        )
