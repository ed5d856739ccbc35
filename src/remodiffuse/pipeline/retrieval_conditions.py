"""Retrieval conditioning of prompts: neighbours from the database, encoded with the prompt."""

from collections.abc import Sequence

import numpy as np
import torch

from remodiffuse.errors import InputError
from remodiffuse.models import Conditions, SemanticsModulatedTransformer
from remodiffuse.motion import denormalize, normalize
from remodiffuse.retrieval import RetrievalDatabase, retrieval_keys
from remodiffuse.text import TextFeatures

# (database mean, database std, model mean, model std), each (D,)
RetrievalStatistics = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def prompt_keys(database: RetrievalDatabase, features: TextFeatures) -> np.ndarray:
    """(B, Dk) retrieval keys of encoded prompts, as the database's entries were keyed."""
    tokens, mask = features.tokens.cpu().numpy(), features.mask.cpu().numpy()
    return retrieval_keys(database.config, features.sentence.cpu().numpy(), tokens, mask)


def query_neighbours(
    database: RetrievalDatabase,
    keys: np.ndarray,
    lengths: np.ndarray,
    motion_ids: Sequence[str] | None = None,
) -> np.ndarray:
    """(B, k) neighbours of prompts with (B, Dk) retrieval keys at (B,) lengths.

    With `motion_ids` the prompts are training items: their own motions are excluded by the
    database's training rule, as in training. Without, nothing is excluded (new prompts).
    """
    if motion_ids is None:
        return database.query(keys, lengths, exclude="none")[0]
    exclude = database.config.exclude
    exclude_ids = list(motion_ids) if exclude == "id" else None
    return database.query(keys, lengths, exclude_ids=exclude_ids, exclude=exclude)[0]


def shuffled_neighbours(
    neighbours: np.ndarray, num_entries: int, rng: np.random.Generator
) -> np.ndarray:
    """(B, k) random entries of a num_entries database, none of them in the row's (B, k)
    retrieved `neighbours` (redrawn until so; needs num_entries > k)."""
    if num_entries <= neighbours.shape[1]:
        raise InputError(
            f"shuffled neighbours need more than k={neighbours.shape[1]} database entries, "
            f"the database has {num_entries}"
        )
    drawn = rng.integers(num_entries, size=neighbours.shape)  # (B, k)
    clash = (drawn[..., None] == neighbours[:, None, :]).any(-1)  # (B, k)
    while clash.any():
        drawn[clash] = rng.integers(num_entries, size=int(clash.sum()))
        clash = (drawn[..., None] == neighbours[:, None, :]).any(-1)
    return drawn


def encode_retrieved(
    model: SemanticsModulatedTransformer,
    database: RetrievalDatabase,
    neighbours: np.ndarray,
    tokens: torch.Tensor,
    mask: torch.Tensor,
    max_length: int,
    statistics: RetrievalStatistics | None = None,
) -> Conditions:
    """Encode (B, L, Dt) prompt tokens with their (B, k) retrieved database entries.

    statistics re-normalises the retrieved motions of a database built from another dataset into
    the model's normalisation.
    """
    motions, lengths = database.motions_of(neighbours, max_length)  # (B, k, T, D), (B, k)
    if statistics is not None:
        database_mean, database_std, model_mean, model_std = statistics
        valid = np.arange(motions.shape[2]) < lengths[..., None]  # (B, k, T)
        raw = denormalize(motions, database_mean, database_std)
        motions = np.where(valid[..., None], normalize(raw, model_mean, model_std), 0.0)
        motions = motions.astype(np.float32)
    retrieved_tokens, retrieved_mask = database.tokens_of(neighbours)  # (B, k, Lr, Dr)
    return model.encode_conditions(
        tokens,
        mask,
        torch.from_numpy(motions),
        torch.from_numpy(lengths),
        torch.from_numpy(retrieved_tokens),
        torch.from_numpy(retrieved_mask),
    )
