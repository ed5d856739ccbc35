"""Text-motion pairs read from the HumanML3D / KIT-ML layout (`remodiffuse.data.layout`).

Filtering follows Guo et al.'s `Text2MotionDatasetV2`: a motion shorter than `min_length` is
dropped with all its captions; a caption line with a time range becomes its own item (a segment)
and is dropped when too short or too long; every item is cropped to a multiple of `unit_length`.
A length counts as too short / too long when its crop (rounded down to `unit_length`) is below
`min_length` / above `max_length`; with the defaults (40, 196, 4) this is exactly the standard
`< 40` / `>= 200` frames rule.
"""

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from remodiffuse.data.caption_line import Caption, parse_caption_line
from remodiffuse.data.layout import DatasetContentError, DatasetLayout
from remodiffuse.errors import InputError
from remodiffuse.motion.normalization import normalize
from remodiffuse.seeding import DATA_ITEM, derived_generator

logger = logging.getLogger(__name__)

MISSING_MOTION = "missing motion file"
CORRUPT_MOTION = "corrupt motion file"
NON_FINITE = "non-finite values"
OUT_OF_RANGE = "values out of range"
WRONG_DIM = "wrong feature dim"
MISSING_CAPTIONS = "missing caption file"
UNREADABLE_CAPTIONS = "unreadable caption file"
NO_CAPTION = "no usable caption"
MALFORMED_LINE = "malformed caption line"
TOO_SHORT = "too short"
TOO_LONG = "too long"
DUPLICATE_ID = "duplicate id"

LongMotions = Literal["skip", "window"]
MAX_ABS_FEATURE = 1e6  # larger feature values (metres or KIT's millimetres) are corrupt data


@dataclass(frozen=True)
class MotionClip:
    """One dataset item: frames [start_frame, end_frame) of a motion file and their captions."""

    item_id: str
    motion_id: str
    start_frame: int
    end_frame: int
    captions: tuple[Caption, ...]

    @property
    def num_frames(self) -> int:
        return self.end_frame - self.start_frame


class _Skip(Exception):
    """Internal signal: drop the current motion file or segment for `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_split_ids(path: Path) -> list[str]:
    """Motion ids of a split file, one per non-blank line, in file order; an id that is not a
    plain file name (a path that could leave the dataset root) is refused."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DatasetContentError(f"{path}: not UTF-8 text (byte {error.start})") from None
    ids = []
    for number, line in enumerate(lines, start=1):
        motion_id = line.strip()
        if not motion_id:
            continue
        if not _is_plain_name(motion_id):
            raise DatasetContentError(
                f"{path}:{number}: motion id {motion_id!r} is not a plain file name "
                "(no '/', '\\', '..' or leading '.'): split ids must stay inside the dataset"
            )
        ids.append(motion_id)
    return ids


def _is_plain_name(motion_id: str) -> bool:
    return not (
        "/" in motion_id or "\\" in motion_id or motion_id.startswith(".") or "\0" in motion_id
    )


def crop_length(num_frames: int, unit_length: int, max_length: int | None = None) -> int:
    """Frames kept from `num_frames`: rounded down to `unit_length`, capped at `max_length`."""
    kept = num_frames // unit_length * unit_length
    if max_length is not None:
        kept = min(kept, max_length // unit_length * unit_length)
    return kept


def _load_statistics(layout: DatasetLayout) -> tuple[np.ndarray, np.ndarray]:
    """Mean and Std as float32 (D,) arrays; raise `DatasetContentError` when unusable."""
    stats = []
    for path in (layout.mean_path, layout.std_path):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DatasetContentError(f"cannot read {path}: {error}") from None
        if array.ndim != 1 or array.dtype.kind not in "fiu" or not np.isfinite(array).all():
            raise DatasetContentError(
                f"{path} must be a finite numeric (D,) array, got shape {array.shape} "
                f"dtype {array.dtype}"
            )
        stats.append(array.astype(np.float32))
    mean, std = stats
    if mean.shape != std.shape:
        raise DatasetContentError(
            f"{layout.mean_path} has shape {mean.shape} but {layout.std_path} has {std.shape}"
        )
    bad = np.flatnonzero(~(std > 0))
    if bad.size:
        raise DatasetContentError(
            f"{layout.std_path}: every channel's std must be positive; {bad.size} are not "
            f"(channel {bad[0]}: {std[bad[0]]}), so normalising would divide by zero"
        )
    return mean, std


def _load_motion(path: Path, feature_dim: int) -> np.ndarray:
    """(T, D) float32 features of one file; raise `_Skip` when missing or unusable."""
    if not path.is_file():
        raise _Skip(MISSING_MOTION)
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise _Skip(CORRUPT_MOTION) from None
    if not isinstance(features, np.ndarray) or features.dtype.kind not in "fiu":
        raise _Skip(CORRUPT_MOTION)
    if features.ndim != 2 or features.shape[1] != feature_dim:
        raise _Skip(WRONG_DIM)
    if not np.isfinite(features).all():
        raise _Skip(NON_FINITE)
    if np.abs(features).max(initial=0.0) > MAX_ABS_FEATURE:
        raise _Skip(OUT_OF_RANGE)
    return features.astype(np.float32)


def _load_captions(path: Path) -> tuple[list[tuple[int, Caption]], list[int]]:
    """(line index, caption) of every usable line, and the indices of malformed lines."""
    if not path.is_file():
        raise _Skip(MISSING_CAPTIONS)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise _Skip(UNREADABLE_CAPTIONS) from None
    captions, malformed = [], []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        caption = parse_caption_line(line)
        if caption is None:
            malformed.append(index)
        else:
            captions.append((index, caption))
    return captions, malformed


class TextMotionDataset(Dataset):
    """Captioned motions of one split; items are whole motions and timed caption segments.

    Defaults reproduce the standard evaluation loader deterministically: crops start at frame 0,
    the first caption is used and motions longer than `max_length` are skipped. Training options:
    `random_crop` (random offset of the rounded-down crop), `random_caption` (one caption drawn
    per access) and `long_motions="window"` (keep long whole motions as a `max_length` window,
    random when `random_crop`, as ReMoDiffuse trains). Segments longer than `max_length` are
    always skipped. An `(index, epoch)` key (as `EpochSampler` yields) draws the item's crop and
    caption from (seed, epoch, index); a plain index draws them from torch's global generator.
    """

    def __init__(
        self,
        root: str | Path,
        split: str,
        min_length: int = 40,
        max_length: int = 196,
        unit_length: int = 4,
        fps: float = 20.0,
        *,
        random_crop: bool = False,
        random_caption: bool = False,
        long_motions: LongMotions = "skip",
        seed: int = 0,
    ) -> None:
        if unit_length < 1 or min_length < 1 or max_length < min_length or fps <= 0:
            raise InputError(
                f"need 1 <= min_length <= max_length, unit_length >= 1, fps > 0; got "
                f"min_length={min_length} max_length={max_length} unit_length={unit_length} "
                f"fps={fps}"
            )
        if long_motions not in ("skip", "window"):
            raise InputError(f"long_motions must be 'skip' or 'window', got {long_motions!r}")
        self.root = Path(root).expanduser()
        self.split = split
        self.min_length = min_length
        self.max_length = max_length
        self.unit_length = unit_length
        self.fps = fps
        self.random_crop = random_crop
        self.random_caption = random_caption
        self.long_motions = long_motions
        self.seed = seed

        layout = DatasetLayout(self.root)
        layout.require(split)
        self.mean, self.std = _load_statistics(layout)  # (D,), (D,)
        self.skipped: Counter[str] = Counter()
        self._examples: dict[str, list[str]] = {}
        self._motions: dict[str, np.ndarray] = {}  # motion id -> normalised (T, D)
        clips: list[MotionClip] = []
        for motion_id in self._unique_ids(read_split_ids(layout.split_path(split))):
            try:
                clips.extend(self._read_motion(layout, motion_id))
            except _Skip as skip:
                self._count(skip.reason, motion_id)
        self.records: tuple[MotionClip, ...] = tuple(clips)
        self.ids: list[str] = [clip.item_id for clip in clips]
        counts = [len(clip.captions) for clip in clips]
        self._caption_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._report()

    @property
    def captions(self) -> list[str]:
        """Every caption of the split, in `caption_index` order (item by item, line by line)."""
        return [caption.text for clip in self.records for caption in clip.captions]

    def caption_entries(self) -> Iterator[dict]:
        """Per caption, in `caption_index` order: caption, motion_id, the item's full uncropped
        length (at most max_length, as retrieval queries use) and its motion (length, D)."""
        for clip in self.records:
            length = min(clip.num_frames, self.max_length)
            motion = self._motions[clip.motion_id][clip.start_frame : clip.start_frame + length]
            for caption in clip.captions:
                yield {
                    "caption": caption.text,
                    "motion_id": clip.motion_id,
                    "length": length,
                    "motion": motion,
                }

    @property
    def feature_dim(self) -> int:
        return int(self.mean.shape[0])

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        index, generator = key, None
        if isinstance(key, tuple):
            index, epoch = key
            generator = derived_generator(self.seed, DATA_ITEM, epoch, index)
        clip = self.records[index]
        length = crop_length(clip.num_frames, self.unit_length, self.max_length)
        offset = clip.start_frame + self._draw(
            clip.num_frames - length + 1, self.random_crop, generator
        )
        caption_number = self._draw(len(clip.captions), self.random_caption, generator)
        return self._item(index, offset, length, caption_number)

    def evaluation_draw(self, index: int, rng: np.random.Generator) -> dict:
        """The item as Guo et al.'s evaluation loader draws it: a random caption, the length
        rounded down to `unit_length` and one unit shorter with probability 1/3 ("single" /
        "double"), a random crop offset."""
        clip = self.records[index]
        length = crop_length(clip.num_frames, self.unit_length, self.max_length)
        if rng.integers(3) == 2 and length > self.unit_length:  # "double"
            length -= self.unit_length
        offset = clip.start_frame + int(rng.integers(clip.num_frames - length + 1))
        return self._item(index, offset, length, int(rng.integers(len(clip.captions))))

    def _item(self, index: int, offset: int, length: int, caption_number: int) -> dict:
        """Frames [offset, offset + length) of item `index`'s motion with one of its captions."""
        clip = self.records[index]
        caption = clip.captions[caption_number]
        return {
            "motion": torch.tensor(self._motions[clip.motion_id][offset : offset + length]),
            "length": length,
            "caption": caption.text,
            "caption_index": int(self._caption_offsets[index] + caption_number),
            "tokens": list(caption.tokens),
            "motion_id": clip.motion_id,
            "item_id": clip.item_id,
        }

    @staticmethod
    def _draw(choices: int, random: bool, generator: torch.Generator | None) -> int:
        """Uniform index in [0, choices) when `random`, else 0."""
        if not random or choices <= 1:
            return 0
        return int(torch.randint(choices, (), generator=generator).item())

    def _unique_ids(self, ids: list[str]) -> list[str]:
        seen: set[str] = set()
        unique = []
        for motion_id in ids:
            if motion_id in seen:
                self._count(DUPLICATE_ID, motion_id)
            else:
                seen.add(motion_id)
                unique.append(motion_id)
        return unique

    def _read_motion(self, layout: DatasetLayout, motion_id: str) -> list[MotionClip]:
        """Items of one motion file; raise `_Skip` when the whole file is dropped."""
        features = _load_motion(layout.motion_path(motion_id), self.feature_dim)  # (T, D)
        captions, malformed = _load_captions(layout.text_path(motion_id))
        for index in malformed:
            self._count(MALFORMED_LINE, f"{motion_id} line {index + 1}")
        if not captions:
            raise _Skip(NO_CAPTION)
        num_frames = features.shape[0]
        self._check_length(num_frames, allow_long=self.long_motions == "window")
        whole = tuple(caption for _, caption in captions if caption.is_whole_motion)
        clips = [MotionClip(motion_id, motion_id, 0, num_frames, whole)] if whole else []
        for index, caption in captions:
            if caption.is_whole_motion:
                continue
            start = int(caption.start * self.fps)
            end = min(int(caption.end * self.fps), num_frames)
            item_id = f"{motion_id}_{index}"
            try:
                self._check_length(max(end - start, 0), allow_long=False)
            except _Skip as skip:
                self._count(skip.reason, item_id)
                continue
            clips.append(MotionClip(item_id, motion_id, start, end, (caption,)))
        if clips:
            self._motions[motion_id] = normalize(features, self.mean, self.std)
        return clips

    def _check_length(self, num_frames: int, allow_long: bool) -> None:
        kept = crop_length(num_frames, self.unit_length)
        if kept < self.min_length:
            raise _Skip(TOO_SHORT)
        if kept > self.max_length and not allow_long:
            raise _Skip(TOO_LONG)

    def _count(self, reason: str, item_id: str) -> None:
        self.skipped[reason] += 1
        examples = self._examples.setdefault(reason, [])
        if len(examples) < 3:
            examples.append(item_id)

    def _report(self) -> None:
        """Warn once about everything skipped; raise when nothing is left."""
        summary = ", ".join(
            f"{reason}: {count}"
            + (f" (e.g. {', '.join(self._examples[reason])})" if reason in self._examples else "")
            for reason, count in self.skipped.most_common()
        )
        if not self.records:
            raise DatasetContentError(
                f"split '{self.split}' of {self.root} has no usable items after filtering "
                f"(min_length={self.min_length}, max_length={self.max_length}); "
                f"skipped: {summary or 'nothing (the split file lists no ids)'}"
            )
        if self.skipped:
            logger.warning(
                "split '%s' of %s: kept %d items, skipped %s",
                self.split,
                self.root,
                len(self.records),
                summary,
            )
