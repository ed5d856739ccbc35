"""Every bad input is a ValueError that says what is wrong."""

import numpy as np
import pytest

from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase


def build(data, **changes):
    arguments = {
        "ids": data.ids,
        "captions": data.captions,
        "sentence_features": data.features,
        "lengths": data.lengths,
        "encoder_identity": "enc",
        "motions": data.motions,
        "motion_index": data.motion_index,
    }
    return RetrievalDatabase.build(**(arguments | changes))


def test_empty_database_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        RetrievalDatabase.build([], [], np.zeros((0, 4)), [], "enc")


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"captions": ["a"]}, "captions has 1 rows"),
        ({"ids": ["a", "b"]}, "ids has 2 rows"),
        ({"lengths": [40]}, "lengths has 1 rows"),
        ({"motion_index": [0, 1]}, "motion_index must be"),
        ({"motion_index": None}, "motion_index must lie in"),
        ({"lengths": "negative"}, "lengths must be positive"),
        ({"lengths": "zero"}, "lengths must be positive"),
        ({"lengths": "fractional"}, "whole numbers"),
        ({"sentence_features": "nan"}, "NaN"),
        ({"sentence_features": "zero"}, "all zeros"),
        ({"sentence_features": "flat"}, r"\(N, D\)"),
        ({"motions": "nan"}, "NaN"),
        ({"motions": "short"}, "motion 0 must be"),
        ({"motions": "unused"}, "used by no entry"),
        ({"motions": None}, "motion_index was given without motions"),
        ({"ids": "clash"}, "disagree on motion id"),
        ({"ids": "empty"}, "non-empty strings"),
        ({"token_features": np.zeros((3, 2, 2))}, "given together"),
        ({"token_features": "short", "token_mask": "short"}, "token_features has"),
        ({"token_features": "mismatch", "token_mask": "short"}, r"\(N, L, Dt\)"),
        ({"encoder_identity": object()}, "JSON"),
    ],
)
def test_bad_build_inputs(tied_data, changes, message):
    n = len(tied_data.ids)
    lengths = tied_data.lengths.copy()
    features = tied_data.features.copy()
    motions = list(tied_data.motions)
    ids = list(tied_data.ids)
    shared = int(np.flatnonzero(np.diff(tied_data.motion_index) == 0)[0]) + 1  # shares a motion
    concrete = {
        ("lengths", "negative"): np.where(np.arange(n) == 3, -4, lengths),
        ("lengths", "zero"): np.where(np.arange(n) == 3, 0, lengths),
        ("lengths", "fractional"): lengths + 0.5,
        ("sentence_features", "nan"): np.where(np.arange(n)[:, None] == 2, np.nan, features),
        ("sentence_features", "zero"): np.where(np.arange(n)[:, None] == 2, 0.0, features),
        ("sentence_features", "flat"): features.reshape(-1),
        ("motions", "nan"): [np.full_like(motions[0], np.nan)] + motions[1:],
        ("motions", "short"): [motions[0][:3]] + motions[1:],
        ("motions", "unused"): motions + [motions[0]],
        ("ids", "clash"): [
            "other" if i == shared else motion_id for i, motion_id in enumerate(ids)
        ],
        ("ids", "empty"): [""] + ids[1:],
        ("token_features", "short"): np.zeros((n - 1, 2, 2), np.float16),
        ("token_features", "mismatch"): np.zeros((n, 3, 2), np.float16),
        ("token_mask", "short"): np.ones((n - 1, 2), bool),
    }
    changes = {
        name: concrete.get((name, value), value) if isinstance(value, str) else value
        for name, value in changes.items()
    }
    with pytest.raises(ValueError, match=message):
        build(tied_data, **changes)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"num_retrieval": 0}, "k"),
        ({"lam": -0.1}, "lam must be >= 0"),
        ({"lam": float("nan")}, "finite"),
        ({"exclude": "self"}, "exclude must be one of"),
        ({"index": "pq"}, "index must be one of"),
        ({"index": "ivf"}, "exact retrieval needs index='flat'"),
        ({"candidates": 0}, "candidates"),
        ({"hnsw_m": 1}, "hnsw_m"),
    ],
)
def test_bad_config(changes, message):
    with pytest.raises(ValueError, match=message):
        RetrievalConfig(**changes)


@pytest.fixture(scope="module")
def database(tied_data):
    return build(tied_data)


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"k": 10_000}, "k=10000 but query 0 can retrieve only"),
        ({"k": 0}, "k"),
        ({"lam": -1.0}, "lam must be >= 0"),
        ({"exclude": "self"}, "exclude must be one of"),
        ({"exclude": "length", "exclude_ids": "ids"}, "only apply to exclude='id'"),
        ({"exclude_ids": ["000"]}, "exclude_ids has 1 rows"),
        ({"exclude_ids": [3] * 20}, "non-empty strings"),
        ({"lengths": "zero"}, "query lengths must be positive"),
        ({"lengths": [40, 40]}, "query lengths has 2 rows"),
        ({"sentence_features": "wide"}, "dimension 6, the database has 5"),
        ({"sentence_features": "nan"}, "NaN"),
    ],
)
def test_bad_query_inputs(tied_data, database, arguments, message):
    queries, lengths = tied_data.queries, tied_data.query_lengths
    concrete = {
        "ids": tied_data.query_ids,
        "zero": np.where(np.arange(len(lengths)) == 1, 0, lengths),
        "wide": np.ones((len(lengths), 6)),
        "nan": np.where(np.arange(len(lengths))[:, None] == 1, np.nan, queries),
    }
    arguments = {
        "sentence_features": queries,
        "lengths": lengths,
        **{
            name: concrete.get(value, value) if isinstance(value, str) else value
            for name, value in arguments.items()
        },
    }
    with pytest.raises(ValueError, match=message):
        database.query(**arguments)


def test_k_counts_only_entries_left_after_exclusion(tied_data, database):
    motion_id = tied_data.ids[0]
    twins = {motion_id, "M" + motion_id}
    allowed = sum(i not in twins for i in tied_data.ids)
    database.query(tied_data.queries[:1], [40], k=allowed, exclude_ids=[motion_id])
    with pytest.raises(ValueError, match=f"only {allowed} of the"):
        database.query(tied_data.queries[:1], [40], k=allowed + 1, exclude_ids=[motion_id])


def test_other_misuse(tied_data, database, tmp_path):
    with pytest.raises(ValueError, match="built with text encoder 'enc', not 'clip'"):
        database.check_encoder("clip")
    with pytest.raises(ValueError, match="precompute_training_neighbours"):
        database.neighbours_of([0])
    with pytest.raises(ValueError, match="without token features"):
        database.tokens_of([0])
    with pytest.raises(ValueError, match=r"entry indices must lie in \[0, "):
        database.motions_of([len(tied_data.ids)])
    with pytest.raises(ValueError, match="exact retrieval needs index='flat'"):
        build(tied_data, config=RetrievalConfig(index="ivf", exact=False)).set_search_parameters(
            exact=True
        )
    with pytest.raises(ValueError, match="no retrieval database"):
        RetrievalDatabase.load(tmp_path)
    no_motions = RetrievalDatabase.build(["a"], ["a"], np.ones((1, 3)), [40], "enc")
    with pytest.raises(ValueError, match="without motions"):
        no_motions.motions_of([0])
