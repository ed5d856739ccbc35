"""The retrieval database: one entry per training caption, ranked by Eq. 4."""

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.errors import InputError
from remodiffuse.files import atomic_directory, output_lock
from remodiffuse.retrieval.config import RetrievalConfig, check_exclude, check_k, check_lam
from remodiffuse.retrieval.exclusion import (
    EntryKeys,
    Exclusion,
    MotionIds,
    exclude_motion,
    exclude_same_length,
    no_exclusion,
)
from remodiffuse.retrieval.index import CandidateIndex
from remodiffuse.retrieval.motions import MotionStore
from remodiffuse.retrieval.scoring import unit_rows
from remodiffuse.retrieval.search import hybrid_search
from remodiffuse.retrieval.storage import (
    read_array,
    read_json,
    read_manifest,
    write_array,
    write_json,
    write_manifest,
)
from remodiffuse.retrieval.validation import as_features, as_lengths, as_strings, check_count

EncoderIdentity = str | Mapping[str, Any]
INDEX_FILE = "index.faiss"
ENTRIES_FILE = "entries.json"
MAPPED_ARRAYS = frozenset({"motion_frames", "token_features", "token_mask"})


class RetrievalDatabase:
    """Training captions with motion id, unit sentence feature, length and motion (stored once).

    Queries return the top-k entries of s_i = cos(f_i, f_p) * exp(-lam * |l_i - L| / max(l_i, L)),
    ties to the lower entry index. Build with `build` or `from_items`, persist with `save`/`load`.
    """

    def __init__(
        self,
        ids: np.ndarray,
        captions: np.ndarray,
        sentence_features: np.ndarray,
        lengths: np.ndarray,
        encoder_identity: EncoderIdentity,
        config: RetrievalConfig,
        motion_index: np.ndarray | None = None,
        motions: MotionStore | None = None,
        token_features: np.ndarray | None = None,
        token_mask: np.ndarray | None = None,
        index: CandidateIndex | None = None,
    ) -> None:
        """Assemble checked arrays; use `build`, `from_items` or `load` instead."""
        self.ids = ids  # (N,) str, motion id of each entry
        self.captions = captions  # (N,) str
        self.sentence_features = sentence_features  # (N, Ds) float32 unit rows
        self.lengths = lengths  # (N,) int64 motion lengths in frames
        self.encoder_identity = canonical_identity(encoder_identity)
        self.config = config
        self.motion_index = motion_index  # (N,) int64 into `motions`, None without motions
        self.motions = motions
        self.token_features = token_features  # (N, L, Dt), memory-mapped float16 once loaded
        self.token_mask = token_mask  # (N, L) bool
        self.index = index or CandidateIndex.build(sentence_features, config)
        self._neighbours: np.ndarray | None = None  # (N, k) int64
        self._neighbour_scores: np.ndarray | None = None  # (N, k) float64
        self._neighbour_settings: dict[str, Any] | None = None

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        captions: Sequence[str],
        sentence_features: np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        encoder_identity: EncoderIdentity,
        *,
        motions: Sequence[np.ndarray] | np.ndarray | None = None,
        motion_index: Sequence[int] | np.ndarray | None = None,
        token_features: np.ndarray | None = None,
        token_mask: np.ndarray | None = None,
        config: RetrievalConfig | None = None,
    ) -> "RetrievalDatabase":
        """Database of N entries: motion ids, captions, (N, Ds) sentence features, lengths.

        motions: M normalised (T_m, D) arrays (or one padded (M, T, D) array); entry i uses
        motions[motion_index[i]] (default motions[i]) cut to its length. token_features (N, L, Dt)
        and token_mask (N, L) are kept as given, so a memory map stays one.
        """
        features = as_features("sentence_features", sentence_features)
        count = features.shape[0]
        if count == 0:
            raise InputError("cannot build an empty retrieval database")
        ids_array = as_strings("ids", ids, count)
        lengths_array = as_lengths("lengths", lengths, count)
        entry_motion, store = _pack_motions(ids_array, lengths_array, motions, motion_index)
        token_features = None if token_features is None else np.asanyarray(token_features)
        token_mask = None if token_mask is None else np.asarray(token_mask, dtype=bool)
        _check_tokens(token_features, token_mask, count)
        return cls(
            ids=ids_array,
            captions=as_strings("captions", captions, count),
            sentence_features=unit_rows(features),
            lengths=lengths_array,
            encoder_identity=encoder_identity,
            config=config or RetrievalConfig(),
            motion_index=entry_motion,
            motions=store,
            token_features=token_features,
            token_mask=token_mask,
        )

    @classmethod
    def from_items(
        cls,
        items: Iterable[Any],
        sentence_features: np.ndarray,
        encoder_identity: EncoderIdentity,
        *,
        token_features: np.ndarray | None = None,
        token_mask: np.ndarray | None = None,
        config: RetrievalConfig | None = None,
    ) -> "RetrievalDatabase":
        """One entry per item (use one item per caption), reading only its `caption`,
        `motion_id`, `length` and `motion` (T, D) (keys or attributes); equal motions stored once.
        """
        ids, captions, lengths, motions, motion_index = [], [], [], [], []
        stored: dict[tuple[str, int], list[int]] = {}
        for item in items:
            motion_id, length = _field(item, "motion_id"), int(_field(item, "length"))
            motion = np.asarray(_field(item, "motion"), dtype=np.float32)[:length]  # (T, D)
            same = stored.setdefault((motion_id, length), [])
            found = next((m for m in same if np.array_equal(motions[m], motion)), None)
            if found is None:
                found = len(motions)
                motions.append(motion)
                same.append(found)
            ids.append(motion_id)
            captions.append(_field(item, "caption"))
            lengths.append(length)
            motion_index.append(found)
        return cls.build(
            ids,
            captions,
            sentence_features,
            lengths,
            encoder_identity,
            motions=motions,
            motion_index=motion_index,
            token_features=token_features,
            token_mask=token_mask,
            config=config,
        )

    def __len__(self) -> int:
        return self.ids.shape[0]

    def query(
        self,
        sentence_features: np.ndarray,
        lengths: Sequence[int] | np.ndarray,
        k: int | None = None,
        lam: float | None = None,
        exclude_ids: Sequence[str] | None = None,
        exclude: str = "id",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k entries of Eq. 4 for (Q, Ds) prompt features and (Q,) target lengths.

        exclude="id" skips the motion (and its mirrored twin) named by exclude_ids[q];
        "length" skips entries of the query's exact length (released rule); "none" skips nothing.
        Returns (Q, k) int64 entry indices and (Q, k) float64 scores, best first.
        """
        k = self.config.num_retrieval if k is None else k
        lam = self.config.lam if lam is None else lam
        check_k(k)
        check_lam(lam)
        check_exclude(exclude)
        queries = as_features("query features", sentence_features, self.sentence_features.shape[1])
        query_lengths = as_lengths("query lengths", lengths, queries.shape[0])
        exclusion = self._exclusion(exclude, exclude_ids, query_lengths)
        available = len(self) - exclusion.counts()  # (Q,)
        if (available < k).any():
            query = int(np.argmax(available < k))
            raise InputError(
                f"k={k} but query {query} can retrieve only {available[query]} of the "
                f"{len(self)} entries (exclude={exclude!r})"
            )
        return hybrid_search(
            self.index,
            self.sentence_features,
            self.lengths,
            unit_rows(queries),
            query_lengths,
            k,
            lam,
            exclusion,
            self.config.candidates,
            self.config.exact,
            self._motion_ids.entries.keys if self.config.distinct_motions else None,
        )

    def precompute_training_neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours of every entry queried with its own caption feature and length, excluding
        by the config's rule (its own motion id by default); stored, saved and returned.
        """
        exclude = self.config.exclude
        self._neighbours, self._neighbour_scores = self.query(
            self.sentence_features,
            self.lengths,
            exclude_ids=list(self.ids) if exclude == "id" else None,
            exclude=exclude,
        )
        self._neighbour_settings = {
            "k": self.config.num_retrieval,
            "lam": self.config.lam,
            "exclude": exclude,
            "distinct_motions": self.config.distinct_motions,
        }
        return self._neighbours, self._neighbour_scores

    def neighbours_of(self, entry_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Precomputed training neighbours of (B,) entries: (B, k) entry indices."""
        if self._neighbours is None:
            raise InputError("no training neighbours: call precompute_training_neighbours() first")
        return self._neighbours[self._entry_indices(entry_indices)]

    @property
    def neighbour_settings(self) -> dict[str, Any] | None:
        """k, lam and exclusion rule of the precomputed neighbours (None before precomputing)."""
        return self._neighbour_settings

    def motions_of(
        self, entry_indices: Sequence[int] | np.ndarray, max_length: int = 196
    ) -> tuple[np.ndarray, np.ndarray]:
        """Motions of entries (...,): (..., max_length, D) float32 zero-padded, (...,) lengths."""
        if self.motions is None or self.motion_index is None:
            raise InputError("this retrieval database was built without motions")
        if max_length < 1:
            raise InputError(f"max_length must be >= 1, got {max_length}")
        return self.motions.padded(
            self.motion_index[self._entry_indices(entry_indices)], max_length
        )

    def tokens_of(self, entry_indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Caption token features of entries (...,): (..., L, Dt) float32 and (..., L) bool mask."""
        if self.token_features is None or self.token_mask is None:
            raise InputError("this retrieval database was built without token features")
        indices = self._entry_indices(entry_indices)
        flat = indices.reshape(-1)
        features = np.asarray(self.token_features[flat], dtype=np.float32)  # (B, L, Dt)
        mask = np.asarray(self.token_mask[flat], dtype=bool)  # (B, L)
        return (
            features.reshape(*indices.shape, *features.shape[1:]),
            mask.reshape(*indices.shape, -1),
        )

    def set_search_parameters(
        self,
        candidates: int | None = None,
        exact: bool | None = None,
        nprobe: int | None = None,
        ef_search: int | None = None,
    ) -> None:
        """Change query-time settings (re-ranked candidates, exactness, nprobe, efSearch)."""
        changes = {
            "candidates": candidates,
            "exact": exact,
            "nprobe": nprobe,
            "ef_search": ef_search,
        }
        self.config = dataclasses.replace(
            self.config, **{name: value for name, value in changes.items() if value is not None}
        )
        self.index.set_search_parameters(self.config.nprobe, self.config.ef_search)

    def check_encoder(self, identity: EncoderIdentity) -> None:
        """Raise ValueError unless the database was built with the text encoder `identity`."""
        if canonical_identity(identity) != self.encoder_identity:
            raise InputError(
                f"retrieval database was built with text encoder {self.encoder_identity!r}, "
                f"not {canonical_identity(identity)!r}: rebuild it with this encoder"
            )

    def save(self, directory: str | Path) -> None:
        """Save into `directory`: built beside it and swapped in whole, under a lock, so readers
        and concurrent writers always find a complete database."""
        with output_lock(directory), atomic_directory(directory) as staging:
            self.write_files(staging)

    def write_files(self, directory: Path) -> None:
        """Write arrays as `.npy` (token features as float16), text as JSON, the manifest last,
        into the existing folder `directory`."""
        write_json(
            directory / ENTRIES_FILE, {"ids": self.ids.tolist(), "captions": self.captions.tolist()}
        )
        arrays = {"sentence_features": self.sentence_features, "lengths": self.lengths}
        if self.motions is not None:
            arrays |= {
                "motion_index": self.motion_index,
                "motion_frames": self.motions.frames,
                "motion_offsets": self.motions.offsets,
            }
        if self.token_features is not None:
            arrays |= {"token_features": self.token_features, "token_mask": self.token_mask}
        if self._neighbours is not None:
            arrays |= {"neighbours": self._neighbours, "neighbour_scores": self._neighbour_scores}
        for name, array in arrays.items():
            dtype = np.float16 if name == "token_features" else None
            write_array(directory / f"{name}.npy", array, dtype)
        if self.config.index != "flat":
            self.index.write(directory / INDEX_FILE)
        write_manifest(
            directory,
            {
                "encoder": self.encoder_identity,
                "config": dataclasses.asdict(self.config),
                "num_entries": len(self),
                "arrays": sorted(arrays),
                "index_file": INDEX_FILE if self.config.index != "flat" else None,
                "neighbours": self._neighbour_settings,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> "RetrievalDatabase":
        """Read a saved database; motions and token features are memory-mapped."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        names = set(manifest["arrays"])
        arrays = {
            name: read_array(directory / f"{name}.npy", mapped=name in MAPPED_ARRAYS)
            for name in names
        }
        entries = read_json(directory / ENTRIES_FILE)
        config = RetrievalConfig(**manifest["config"])
        features = arrays["sentence_features"]
        count = manifest["num_entries"]
        for name, array in arrays.items():
            if name != "motion_frames" and name != "motion_offsets":
                check_count(f"{directory / name}.npy", array.shape[0], count)
        index = None
        if manifest["index_file"] is not None:
            index = CandidateIndex.read(
                directory / manifest["index_file"], config, count, features.shape[1]
            )
        motions = None
        if "motion_frames" in names:
            motions = MotionStore(arrays["motion_frames"], arrays["motion_offsets"])
        database = cls(
            ids=as_strings("ids", entries["ids"], count),
            captions=as_strings("captions", entries["captions"], count),
            sentence_features=features,
            lengths=arrays["lengths"],
            encoder_identity=manifest["encoder"],
            config=config,
            motion_index=arrays.get("motion_index"),
            motions=motions,
            token_features=arrays.get("token_features"),
            token_mask=arrays.get("token_mask"),
            index=index,
        )
        if manifest["neighbours"] is not None:
            database._neighbours = arrays["neighbours"]
            database._neighbour_scores = arrays["neighbour_scores"]
            database._neighbour_settings = manifest["neighbours"]
        return database

    def _entry_indices(self, entry_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Entry indices as int64, ValueError when out of range."""
        indices = np.asarray(entry_indices)
        if indices.dtype.kind not in "iu":
            raise InputError(f"entry indices must be integers, got {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise InputError(f"entry indices must lie in [0, {len(self)})")
        return indices.astype(np.int64)

    def _exclusion(
        self, exclude: str, exclude_ids: Sequence[str] | None, query_lengths: np.ndarray
    ) -> Exclusion:
        """The exclusion rule of one query batch."""
        num_queries = query_lengths.shape[0]
        if exclude != "id" and exclude_ids is not None:
            raise InputError(f"exclude_ids only apply to exclude='id', not exclude={exclude!r}")
        if exclude == "length":
            return exclude_same_length(self._length_keys, query_lengths)
        if exclude == "id" and exclude_ids is not None:
            query_ids = as_strings("exclude_ids", exclude_ids, num_queries)
            return exclude_motion(self._motion_ids, query_ids)
        return no_exclusion(self._length_keys, num_queries)

    @cached_property
    def _length_keys(self) -> EntryKeys:
        return EntryKeys.of(self.lengths)

    @cached_property
    def _motion_ids(self) -> MotionIds:
        return MotionIds.of(self.ids)


def canonical_identity(identity: EncoderIdentity) -> Any:
    """The encoder identity as plain JSON data (sorted keys), ValueError if not serialisable."""
    try:
        return json.loads(json.dumps(identity, sort_keys=True))
    except (TypeError, ValueError) as error:
        raise InputError(f"encoder identity must be JSON data, got {identity!r}: {error}") from None


def _field(item: Any, name: str) -> Any:
    """`item[name]` for mappings (dataset dicts), else `item.name`."""
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def _check_tokens(features: np.ndarray | None, mask: np.ndarray | None, count: int) -> None:
    """Token features (N, L, Dt) and mask (N, L) come together and match the entries."""
    if (features is None) != (mask is None):
        raise InputError("token_features and token_mask must be given together")
    if features is None or mask is None:
        return
    if (
        features.ndim != 3
        or features.dtype.kind != "f"
        or mask.ndim != 2
        or features.shape[:2] != mask.shape
    ):
        raise InputError(
            f"token_features must be float (N, L, Dt) and token_mask (N, L), got "
            f"{features.dtype} {features.shape} and {mask.shape}"
        )
    check_count("token_features", features.shape[0], count)


def _pack_motions(
    ids: np.ndarray,
    lengths: np.ndarray,
    motions: Sequence[np.ndarray] | np.ndarray | None,
    motion_index: Sequence[int] | np.ndarray | None,
) -> tuple[np.ndarray | None, MotionStore | None]:
    """Entry -> motion indices (N,) and the packed motions, each cut to its entries' length."""
    if motions is None:
        if motion_index is not None:
            raise InputError("motion_index was given without motions")
        return None, None
    count = ids.shape[0]
    index = np.arange(count) if motion_index is None else np.asarray(motion_index)
    if index.shape != (count,) or index.dtype.kind not in "iu":
        raise InputError(
            f"motion_index must be ({count},) integers, got {index.dtype} {index.shape}"
        )
    if index.min() < 0 or index.max() >= len(motions):
        raise InputError(f"motion_index must lie in [0, {len(motions)}) (the number of motions)")
    motion_lengths = np.zeros(len(motions), np.int64)
    motion_ids: list[str | None] = [None] * len(motions)
    for entry, motion in enumerate(index):
        if motion_ids[motion] is None:
            motion_ids[motion], motion_lengths[motion] = ids[entry], lengths[entry]
        elif (motion_ids[motion], motion_lengths[motion]) != (ids[entry], lengths[entry]):
            raise InputError(
                f"entries sharing motion {motion} disagree on motion id or length: "
                f"{motion_ids[motion]!r}/{motion_lengths[motion]} vs "
                f"{ids[entry]!r}/{lengths[entry]}"
            )
    if not motion_lengths.all():
        raise InputError(f"motion {int(np.argmin(motion_lengths))} is used by no entry")
    return index.astype(np.int64), MotionStore.pack(motions, motion_lengths)
