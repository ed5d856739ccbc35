"""Datasets in the HumanML3D layout: reading, filtering and batching (generator: `.synthetic`)."""

from remodiffuse.data.datamodule import MotionDataModule, collate_motions
from remodiffuse.data.dataset import TextMotionDataset
from remodiffuse.data.layout import DatasetContentError, DatasetError, DatasetLayoutError
from remodiffuse.data.sampling import EpochSampler

__all__ = [
    "DatasetContentError",
    "DatasetError",
    "DatasetLayoutError",
    "EpochSampler",
    "MotionDataModule",
    "TextMotionDataset",
    "collate_motions",
]
