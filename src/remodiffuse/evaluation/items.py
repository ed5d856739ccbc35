"""The evaluated items of a split: motions, captions and lengths read once, in dataset order."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from remodiffuse.data import TextMotionDataset
from remodiffuse.errors import InputError


@dataclass
class EvaluationItems:
    """The evaluated test items: motions normalised with the dataset's statistics.

    `source` is the dataset they were read from (item i = source item i), so the real-motion row
    can score a second, independently drawn pass over the same items (`redrawn`).
    """

    motions: list[np.ndarray]  # Q x (T_i, D)
    lengths: np.ndarray  # (Q,) int64
    captions: list[str]
    tokens: list[list[str]]
    motion_ids: list[str]
    mean: np.ndarray  # (D,) dataset statistics the motions are normalised with
    std: np.ndarray  # (D,)
    source: TextMotionDataset | None = None
    caption_index: np.ndarray | None = None  # (Q,) each item's caption in `caption_pool()`

    @classmethod
    def from_dataset(cls, dataset: TextMotionDataset, num_test: int | None) -> "EvaluationItems":
        """The first num_test items (all when None), in dataset order."""
        count = len(dataset) if num_test is None else min(num_test, len(dataset))
        return cls._from_items([dataset[index] for index in range(count)], dataset)

    @classmethod
    def _from_items(cls, items: list[dict], dataset: TextMotionDataset) -> "EvaluationItems":
        return cls(
            motions=[item["motion"].numpy() for item in items],
            lengths=np.array([item["length"] for item in items], dtype=np.int64),
            captions=[item["caption"] for item in items],
            tokens=[item["tokens"] for item in items],
            motion_ids=[item["motion_id"] for item in items],
            mean=dataset.mean,
            std=dataset.std,
            source=dataset,
            caption_index=np.array([item["caption_index"] for item in items], dtype=np.int64),
        )

    def redrawn(self, rng: np.random.Generator) -> "EvaluationItems":
        """The same items drawn again as the standard evaluation loader draws them (random
        caption, length with the single/double coin, random crop offset)."""
        items = [self._source().evaluation_draw(index, rng) for index in range(len(self))]
        return self._from_items(items, self._source())

    def caption_pool(self) -> tuple[list[str], list[list[str]]]:
        """Texts and tokens of every caption of the items, indexed by `caption_index` (the
        captions a redrawn pass picks from)."""
        captions = [c for clip in self._source().records[: len(self)] for c in clip.captions]
        return [c.text for c in captions], [list(c.tokens) for c in captions]

    def _source(self) -> TextMotionDataset:
        if self.source is None:
            raise InputError("these evaluation items were not read from a dataset")
        return self.source

    def __len__(self) -> int:
        return len(self.captions)


def padded(motions: Sequence[np.ndarray]) -> np.ndarray:
    """B x (T_i, D) -> (B, max T_i, D) float32, zero-padded."""
    frames = max(motion.shape[0] for motion in motions)
    batch = np.zeros((len(motions), frames, motions[0].shape[1]), dtype=np.float32)
    for row, motion in enumerate(motions):
        batch[row, : motion.shape[0]] = motion
    return batch
