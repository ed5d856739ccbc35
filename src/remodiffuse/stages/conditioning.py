"""Frozen conditions of a dataset: cached prompt token features and fixed retrieval neighbours.

Everything here is computed once before training (text features from the on-disk cache, the
retrieval database over the training captions, every caption's neighbours); a training step only
indexes arrays by the batch's `caption_index` and runs the learnable encoders of the model.
"""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from remodiffuse.data import TextMotionDataset
from remodiffuse.models import Conditions, SemanticsModulatedTransformer
from remodiffuse.pipeline import encode_retrieved, query_neighbours
from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase, retrieval_keys
from remodiffuse.text import TextEncoder, cached_text_features

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitConditions:
    """Per caption of one split: prompt token features and its retrieved database entries."""

    tokens: np.ndarray  # (N, L, Dt) float16, memory-mapped
    mask: np.ndarray  # (N, L) bool
    neighbours: np.ndarray  # (N, k) int64 database entry indices


class RetrievalConditioner:
    """Turns a batch's caption indices into the network's encoded `Conditions`."""

    def __init__(
        self, database: RetrievalDatabase, splits: Mapping[str, SplitConditions], max_length: int
    ) -> None:
        self.database = database
        self.splits = dict(splits)
        self.max_length = max_length

    def encode(
        self, model: SemanticsModulatedTransformer, split: str, caption_index: torch.Tensor
    ) -> Conditions:
        """Conditions of (B,) captions of `split`, encoded by the model's learnable encoders."""
        conditions = self.splits[split]
        index = caption_index.cpu().numpy()  # (B,)
        tokens = torch.from_numpy(np.asarray(conditions.tokens[index], dtype=np.float32))
        mask = torch.from_numpy(np.asarray(conditions.mask[index]))  # (B, L)
        return encode_retrieved(
            model, self.database, conditions.neighbours[index], tokens, mask, self.max_length
        )


def build_database(
    train: TextMotionDataset,
    encoder: TextEncoder,
    cache_dir: str | Path,
    retrieval: RetrievalConfig,
) -> RetrievalDatabase:
    """Database of every caption of the train split, with every entry's training neighbours."""
    features = cached_text_features(encoder, train.captions, cache_dir)
    database = RetrievalDatabase.from_items(
        train.caption_entries(),
        retrieval_keys(retrieval, features.sentence, features.tokens, features.mask),
        encoder.identity,
        token_features=features.tokens,
        token_mask=features.mask,
        config=retrieval,
    )
    database.precompute_training_neighbours()
    return database


def build_conditioner(
    datasets: Mapping[str, TextMotionDataset],
    encoder: TextEncoder,
    cache_dir: str | Path,
    retrieval: RetrievalConfig,
    max_length: int,
) -> RetrievalConditioner:
    """Database over the train split's captions; neighbours of every caption of every split.

    Train captions use the precomputed training neighbours (their own motion excluded by the
    config's rule); other splits query the database with nothing excluded.
    """
    started = time.perf_counter()
    database = build_database(datasets["train"], encoder, cache_dir, retrieval)
    all_entries = np.arange(len(database))
    splits = {
        "train": SplitConditions(
            database.token_features, database.token_mask, database.neighbours_of(all_entries)
        )
    }
    for name, dataset in datasets.items():
        if name == "train":
            continue
        features = cached_text_features(encoder, dataset.captions, cache_dir)
        lengths = [entry["length"] for entry in dataset.caption_entries()]
        keys = retrieval_keys(retrieval, features.sentence, features.tokens, features.mask)
        neighbours = query_neighbours(database, keys, lengths)
        splits[name] = SplitConditions(features.tokens, features.mask, neighbours)
    log.info(
        "retrieval database: %d captions of %d train items, neighbours for %s in %.1f s",
        len(database),
        len(datasets["train"]),
        sorted(splits),
        time.perf_counter() - started,
    )
    return RetrievalConditioner(database, splits, max_length)
