"""Training neighbours, persistence, motions and tokens, approximate indexes, config group."""

import hydra
import numpy as np
import pytest
from retrieval_reference import brute_force, excluded_entries

from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase
from remodiffuse.retrieval.scoring import unit_rows


def with_tokens(data, tmp_path):
    """Token features as the text-feature cache stores them: memory-mapped float16 + mask."""
    rng = np.random.default_rng(5)
    path = tmp_path / "cache_tokens.npy"
    tokens = np.lib.format.open_memmap(path, "w+", np.float16, (len(data.ids), 6, 4))
    tokens[:] = rng.standard_normal(tokens.shape)
    tokens.flush()
    mask = np.arange(6)[None] < rng.integers(1, 7, (len(data.ids), 1))
    return np.load(path, mmap_mode="r"), mask


def test_training_neighbours_equal_direct_queries(tied_data):
    database = tied_data.build(candidates=2)
    neighbours, scores = database.precompute_training_neighbours()
    assert neighbours.shape == (len(database), 2)
    direct, direct_scores = database.query(
        database.sentence_features, database.lengths, exclude_ids=database.ids
    )
    np.testing.assert_array_equal(neighbours, direct)
    np.testing.assert_array_equal(scores, direct_scores)
    batch = np.array([[3, 0], [7, 7]])
    np.testing.assert_array_equal(database.neighbours_of(batch), direct[batch])
    for entry in range(len(database)):
        excluded = excluded_entries(database, "id", database.ids[entry], 0)
        expected, _ = brute_force(
            database,
            database.sentence_features[entry],
            int(database.lengths[entry]),
            2,
            0.1,
            excluded,
        )
        assert neighbours[entry].tolist() == expected
        assert not {database.ids[n].removeprefix("M") for n in neighbours[entry]} & {
            database.ids[entry].removeprefix("M")
        }


def test_released_length_rule_for_training_neighbours(tied_data):
    database = tied_data.build(exclude="length")
    neighbours, _ = database.precompute_training_neighbours()
    assert (database.lengths[neighbours] != database.lengths[:, None]).all()
    assert database.neighbour_settings == {
        "k": 2,
        "lam": 0.1,
        "exclude": "length",
        "distinct_motions": False,
    }


def test_save_load_round_trip(tied_data, tmp_path):
    tokens, mask = with_tokens(tied_data, tmp_path)
    database = RetrievalDatabase.build(
        tied_data.ids,
        tied_data.captions,
        tied_data.features,
        tied_data.lengths,
        {"name": "test-encoder", "dim": 5},
        motions=tied_data.motions,
        motion_index=tied_data.motion_index,
        token_features=tokens,
        token_mask=mask,
        config=RetrievalConfig(candidates=3),
    )
    database.precompute_training_neighbours()
    database.save(tmp_path / "db")
    loaded = RetrievalDatabase.load(tmp_path / "db")

    assert loaded.ids.tolist() == tied_data.ids
    assert loaded.captions.tolist() == tied_data.captions
    np.testing.assert_array_equal(loaded.sentence_features, database.sentence_features)
    np.testing.assert_allclose(np.linalg.norm(loaded.sentence_features, axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(loaded.lengths, tied_data.lengths)
    assert loaded.config == database.config
    for exclude in ("id", "length", "none"):
        kwargs = {"exclude_ids": tied_data.query_ids} if exclude == "id" else {}
        expected = database.query(
            tied_data.queries, tied_data.query_lengths, exclude=exclude, **kwargs
        )
        got = loaded.query(tied_data.queries, tied_data.query_lengths, exclude=exclude, **kwargs)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(
        loaded.neighbours_of(np.arange(5)), database.neighbours_of(np.arange(5))
    )

    assert (
        isinstance(loaded.token_features, np.memmap) and loaded.token_features.dtype == np.float16
    )
    assert isinstance(loaded.motions.frames, np.memmap)
    got_tokens, got_mask = loaded.tokens_of(np.array([[1, 4]]))
    assert got_tokens.shape == (1, 2, 6, 4) and got_tokens.dtype == np.float32
    np.testing.assert_array_equal(got_tokens[0, 1], np.asarray(tokens[4], np.float32))
    np.testing.assert_array_equal(got_mask[0], mask[[1, 4]])
    loaded.check_encoder({"dim": 5, "name": "test-encoder"})  # key order does not matter

    loaded.save(tmp_path / "db")  # saving over its own memory-mapped files keeps them intact
    again = RetrievalDatabase.load(tmp_path / "db")
    np.testing.assert_array_equal(again.motions.frames, database.motions.frames)
    np.testing.assert_array_equal(np.asarray(again.token_features), np.asarray(tokens))


def test_motions_are_stored_once_and_padded(tied_data):
    database = tied_data.build()
    assert database.motions.num_motions == len(tied_data.motions)
    entries = np.array([[0, 1], [2, len(tied_data.ids) - 1]])
    motions, lengths = database.motions_of(entries, max_length=46)
    assert motions.shape == (2, 2, 46, 3) and lengths.shape == (2, 2)
    for (row, col), entry in np.ndenumerate(entries):
        source = tied_data.motions[tied_data.motion_index[entry]]
        length = min(tied_data.lengths[entry], 46)
        assert lengths[row, col] == length
        np.testing.assert_array_equal(motions[row, col, :length], source[:length])
        assert not motions[row, col, length:].any()


def test_from_items_reads_dataset_style_items(tied_data):
    items = [
        {
            "caption": caption,
            "motion_id": motion_id,
            "length": int(length),
            "motion": tied_data.motions[motion],
        }
        for caption, motion_id, length, motion in zip(
            tied_data.captions,
            tied_data.ids,
            tied_data.lengths,
            tied_data.motion_index,
            strict=True,
        )
    ]
    database = RetrievalDatabase.from_items(items, tied_data.features, "enc")
    assert database.motions.num_motions == len(tied_data.motions)
    np.testing.assert_array_equal(database.motion_index, tied_data.motion_index)
    reference = tied_data.build()
    np.testing.assert_array_equal(database.motions.frames, reference.motions.frames)


@pytest.mark.parametrize(
    "config",
    [
        {"index": "ivf", "exact": False, "nlist": 4, "nprobe": 1, "candidates": 4},
        {"index": "hnsw", "exact": False, "hnsw_m": 4, "ef_search": 4, "candidates": 4},
        {"index": "flat", "exact": False, "candidates": 2},
    ],
)
def test_approximate_indexes_return_valid_results(tied_data, tmp_path, config):
    database = tied_data.build(**config)
    for exclude in ("id", "length"):
        kwargs = {"exclude_ids": tied_data.query_ids} if exclude == "id" else {}
        found, scores = database.query(
            tied_data.queries, tied_data.query_lengths, k=5, exclude=exclude, **kwargs
        )
        assert found.shape == scores.shape == (len(tied_data.queries), 5)
        for q in range(len(found)):
            excluded = excluded_entries(
                database, exclude, tied_data.query_ids[q], int(tied_data.query_lengths[q])
            )
            assert len(set(found[q])) == 5 and not set(found[q]) & excluded
            query = unit_rows(tied_data.queries[q][None])[0].astype(np.float64)
            cosine = database.sentence_features[found[q]].astype(np.float64) @ query
            length = tied_data.query_lengths[q]
            gap = np.abs(database.lengths[found[q]] - length) / np.maximum(
                database.lengths[found[q]], length
            )
            np.testing.assert_allclose(scores[q], cosine * np.exp(-0.1 * gap), rtol=1e-12)
            assert (np.diff(scores[q]) <= 0).all()
    database.save(tmp_path / "db")
    loaded = RetrievalDatabase.load(tmp_path / "db")
    np.testing.assert_array_equal(
        loaded.query(tied_data.queries, tied_data.query_lengths)[0],
        database.query(tied_data.queries, tied_data.query_lengths)[0],
    )


def test_search_parameters_change_at_query_time(tied_data):
    database = tied_data.build(index="ivf", exact=False, nlist=4)
    database.set_search_parameters(nprobe=4, candidates=len(tied_data.ids))
    found, _ = database.query(tied_data.queries, tied_data.query_lengths, k=2, lam=0.1)
    exact = tied_data.build().query(tied_data.queries, tied_data.query_lengths, k=2, lam=0.1)[0]
    np.testing.assert_array_equal(found, exact)  # all lists probed, every entry re-ranked


def test_config_group_instantiates(compose_train):
    cfg = compose_train()
    config = hydra.utils.instantiate(cfg.retrieval)
    # new runs take distinct motions; the dataclass default is the released rule, so databases
    # saved before the option existed keep their neighbours
    assert config == RetrievalConfig(distinct_motions=True)
    for name, index in (("ivf", "ivf"), ("hnsw", "hnsw")):
        config = hydra.utils.instantiate(compose_train(f"retrieval={name}").retrieval)
        assert config.index == index and not config.exact
