"""Exact queries equal brute force over all entries, ties to the lower index, for every rule."""

import numpy as np
import pytest
from retrieval_reference import brute_force, excluded_entries, make_tied_data

from remodiffuse.errors import InputError
from remodiffuse.retrieval import RetrievalDatabase
from remodiffuse.retrieval.scoring import score_upper_bound


def assert_matches_brute_force(database, data, k, lam, exclude, distinct=False):
    exclude_ids = data.query_ids if exclude == "id" else None
    found, scores = database.query(
        data.queries, data.query_lengths, k=k, lam=lam, exclude_ids=exclude_ids, exclude=exclude
    )
    assert found.shape == scores.shape == (len(data.queries), k)
    for q, (query, length) in enumerate(zip(data.queries, data.query_lengths, strict=True)):
        excluded = excluded_entries(database, exclude, data.query_ids[q], int(length))
        expected, expected_scores = brute_force(
            database, query, int(length), k, lam, excluded, distinct
        )
        assert found[q].tolist() == expected, f"query {q}"
        np.testing.assert_allclose(scores[q], expected_scores, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("lam", [0.0, 0.1, 2.0])
@pytest.mark.parametrize("exclude", ["none", "id", "length"])
@pytest.mark.parametrize("candidates", [1, 3, 1000])
def test_exact_query_equals_brute_force(tied_data, k, lam, exclude, candidates):
    database = tied_data.build(candidates=candidates)
    assert_matches_brute_force(database, tied_data, k, lam, exclude)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("exclude", ["none", "id", "length"])
@pytest.mark.parametrize("candidates", [1, 3, 1000])
def test_distinct_motions_query_equals_brute_force(tied_data, k, exclude, candidates):
    database = tied_data.build(candidates=candidates, distinct_motions=True)
    assert_matches_brute_force(database, tied_data, k, 0.1, exclude, distinct=True)
    found, _ = database.query(tied_data.queries, tied_data.query_lengths, k=k, exclude="none")
    for row in found:
        assert len({database.ids[i] for i in row}) == k  # k motions, not k captions


def test_distinct_motions_fewer_than_k_is_an_input_error(tied_data):
    database = tied_data.build(distinct_motions=True)
    motions = len(set(tied_data.ids))
    with pytest.raises(InputError, match=f"only {motions} distinct motions"):
        database.query(tied_data.queries[:1], [40], k=motions + 1, exclude="none")


@pytest.mark.parametrize("seed,dim", [(1, 33), (2, 8)])
def test_exact_on_other_dimensions(seed, dim):
    data = make_tied_data(seed, dim)
    database = data.build(candidates=2)
    for exclude in ("none", "id", "length"):
        assert_matches_brute_force(database, data, 2, 0.1, exclude)


def test_length_factor_can_lift_a_negative_score_past_the_best_cosine():
    # B has the best cosine (-0.3) at the query's length; A has cosine -0.5 but a large length
    # gap, so its score -0.5 * exp(-2 * 0.9) = -0.083 is the best: a search that stopped at the
    # first candidate because "scores never exceed cosines" would return B.
    angle_a, angle_b = np.arccos(-0.5), np.arccos(-0.3)
    features = np.array([[np.cos(angle_a), np.sin(angle_a)], [np.cos(angle_b), -np.sin(angle_b)]])
    database = RetrievalDatabase.build(
        ["a", "b", "c"],
        ["a", "b", "c"],
        np.vstack([features, [[-1.0, 0.0]]]),
        [20, 200, 200],
        "enc",
    )
    database.set_search_parameters(candidates=1)
    found, scores = database.query(np.array([[1.0, 0.0]]), [200], k=1, lam=2.0)
    assert found.tolist() == [[0]]
    np.testing.assert_allclose(scores, [[-0.5 * np.exp(-2.0 * 0.9)]])


def test_upper_bound_covers_every_length_factor():
    rng = np.random.default_rng(3)
    cosine = rng.uniform(-1, 1, 1000)
    lengths = rng.integers(1, 300, (2, 1000))
    for lam in (0.0, 0.1, 2.0, 10.0):
        gap = np.abs(lengths[0] - lengths[1]) / lengths.max(0)
        assert (cosine * np.exp(-lam * gap) <= score_upper_bound(cosine, lam)).all()


def test_exact_with_faiss_candidates_on_a_larger_database():
    rng = np.random.default_rng(4)
    centres = rng.standard_normal((20, 16))
    features = centres[rng.integers(20, size=3000)] + 0.3 * rng.standard_normal((3000, 16))
    features[::7] = features[1::7][: len(features[::7])]  # exact duplicates
    ids = [f"{i // 2:05d}" for i in range(3000)]
    database = RetrievalDatabase.build(ids, ids, features, rng.integers(40, 60, 3000), "enc")
    queries = centres[rng.integers(20, size=40)] + 0.3 * rng.standard_normal((40, 16))
    lengths = rng.integers(40, 60, 40)
    query_ids = [ids[i] for i in rng.integers(3000, size=40)]
    found, _ = database.query(queries, lengths, k=5, exclude_ids=query_ids)
    for q in range(40):
        excluded = excluded_entries(database, "id", query_ids[q], int(lengths[q]))
        expected, _ = brute_force(database, queries[q], int(lengths[q]), 5, 0.1, excluded)
        assert found[q].tolist() == expected
