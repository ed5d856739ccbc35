"""Parity of remodiffuse.metrics with the reference text-to-motion metric fixtures.

Fixtures: ../shared/fixtures/metrics (the root is $REMODIFFUSE_FIXTURES when set). Every size,
seed, index and expected value is read from the .npz files and summary.json, so any fixture set of
this format passes. Float32 matrix products differ between BLAS kernels, hence the tolerances:
distances are compared through their squares, within SQ_DIST_ULPS * eps * (|a_i|^2 + |b_j|^2),
and ranks only where the fixture's gt margin exceeds twice that error.
"""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from remodiffuse.metrics import (
    activation_statistics,
    batch_slices,
    diversity,
    draw_pairs,
    euclidean_distance_matrix,
    fid,
    frechet_distance,
    frechet_distance_torch,
    gt_ranks,
    matching_distances,
    matching_score,
    metric_statistics,
    multimodality,
    r_precision,
    top_k_matches,
)

SQ_DIST_ULPS = 16  # squared-distance error budget of a float32 GEMM, in eps * (|a|^2 + |b|^2)
FID_RTOL = 1e-10  # numpy FID vs fixture, relative to tr(S1) + tr(S2) (LAPACK/BLAS differences)
TORCH_FID_RTOL = 1e-6  # torch FID (float64, eigh) vs the float32-mean numpy FID, same scale


@pytest.fixture(scope="module")
def load(require_fixture: Callable[..., Path]) -> Callable[[str], dict[str, np.ndarray]]:
    """Loader of the metric fixture `name` (see `require_fixture`)."""

    def load_arrays(name: str) -> dict[str, np.ndarray]:
        with np.load(require_fixture("fixtures", "metrics", name)) as data:
            return {key: data[key] for key in data.files}

    return load_arrays


@pytest.fixture(scope="module")
def summary(require_fixture: Callable[..., Path]) -> dict:
    return json.loads(require_fixture("fixtures", "metrics", "summary.json").read_text())


def squared_tolerance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N1, N2) error budget of the squared distances between rows of a and b."""
    eps = np.finfo(np.result_type(a, b)).eps
    a_sq = np.square(a.astype(np.float64)).sum(axis=1)  # (N1,)
    b_sq = np.square(b.astype(np.float64)).sum(axis=1)  # (N2,)
    return SQ_DIST_ULPS * eps * (a_sq[:, None] + b_sq[None, :])


def assert_distances_close(ours: np.ndarray, expected: np.ndarray, a: np.ndarray, b: np.ndarray):
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    err = np.abs(ours.astype(np.float64) ** 2 - expected.astype(np.float64) ** 2)
    assert np.all(err <= squared_tolerance(a, b))


def distance_tolerance(dist: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N1, N2) error budget of the distances themselves, from the squared one."""
    sq_tol = squared_tolerance(a, b)
    return np.sqrt(dist.astype(np.float64) ** 2 + sq_tol) - dist.astype(np.float64)


# --- rprecision_matching.npz -------------------------------------------------------------------


def test_rprecision_batches_and_per_batch_outputs(load):
    fx = load("rprecision_matching.npz")
    text, motion = fx["text_emb"], fx["motion_emb"]
    batch_size, top_k = int(fx["batch_size"]), int(fx["top_k"])
    slices = batch_slices(text.shape[0], batch_size, drop_last=False)
    assert len(slices) == int(fx["n_batches"])
    assert [s.stop - s.start for s in slices] == fx["batch_sizes"].tolist()
    for b, rows in enumerate(slices):
        assert rows.start == int(fx[f"b{b}_start"])
        t, m = text[rows], motion[rows]
        dist = euclidean_distance_matrix(t, m)  # (n, n)
        assert_distances_close(dist, fx[f"b{b}_dist_mat"], t, m)
        tol = distance_tolerance(dist, t, m)  # (n, n)
        # the fixture's argsort orders our distances too, up to the rounding budget
        ordered = np.take_along_axis(dist.astype(np.float64), fx[f"b{b}_argsort"], axis=1)
        ordered_tol = np.take_along_axis(tol, fx[f"b{b}_argsort"], axis=1)
        assert np.all(np.diff(ordered, axis=1) >= -(ordered_tol[:, 1:] + ordered_tol[:, :-1]))
        robust = fx[f"b{b}_gt_min_abs_gap"] > 2 * tol.max(axis=1)  # (n,)
        for ties in ("stable", "numpy"):
            hits = top_k_matches(dist, top_k, ties)  # (n, top_k)
            np.testing.assert_array_equal(hits[robust], fx[f"b{b}_top_k_mat"][robust])
        if robust.all():
            counts = top_k_matches(dist, top_k).sum(axis=0)
            np.testing.assert_array_equal(counts, fx[f"b{b}_top_k_count"])
        np.testing.assert_allclose(dist.trace(), fx[f"b{b}_matching_trace"], rtol=1e-5)
        per_pair = matching_distances(t, m)  # (n,)
        assert per_pair.dtype == fx[f"b{b}_t2m_matching_score_vec"].dtype
        np.testing.assert_allclose(per_pair, fx[f"b{b}_t2m_matching_score_vec"], rtol=1e-6)
        np.testing.assert_allclose(per_pair.sum(), fx[f"b{b}_t2m_matching_score_sum"], rtol=1e-6)


def _nonrobust_rows(fx: dict[str, np.ndarray], drop_last: bool) -> int:
    text, motion = fx["text_emb"], fx["motion_emb"]
    count = 0
    for b, rows in enumerate(batch_slices(text.shape[0], int(fx["batch_size"]), drop_last)):
        dist = euclidean_distance_matrix(text[rows], motion[rows])
        tol = distance_tolerance(dist, text[rows], motion[rows])
        count += int(np.sum(fx[f"b{b}_gt_min_abs_gap"] <= 2 * tol.max(axis=1)))
    return count


@pytest.mark.parametrize("drop_last", [False, True])
def test_rprecision_and_matching_score_totals(load, summary, drop_last):
    fx = load("rprecision_matching.npz")
    suffix = "_drop_last" if drop_last else ""
    text, motion = fx["text_emb"], fx["motion_emb"]
    batch_size, top_k = int(fx["batch_size"]), int(fx["top_k"])
    if drop_last and text.shape[0] < batch_size:
        with pytest.raises(ValueError, match="no batch"):
            r_precision(text, motion, batch_size, top_k, drop_last=True)
        return
    n_used = sum(s.stop - s.start for s in batch_slices(text.shape[0], batch_size, drop_last))
    slack = _nonrobust_rows(fx, drop_last) / n_used
    for ties in ("stable", "numpy"):
        ours = r_precision(text, motion, batch_size, top_k, drop_last=drop_last, ties=ties)
        assert ours.shape == (top_k,)
        np.testing.assert_allclose(ours, fx[f"R_precision{suffix}"], rtol=0, atol=slack + 1e-12)
        np.testing.assert_allclose(
            ours, summary["rprecision_matching"][f"R_precision{suffix}"], atol=slack + 1e-12
        )
    score = matching_score(text, motion, batch_size, drop_last=drop_last)
    np.testing.assert_allclose(score, fx[f"matching_score{suffix}"], rtol=1e-5)
    np.testing.assert_allclose(
        score, summary["rprecision_matching"][f"matching_score{suffix}"], rtol=1e-5
    )


def test_rprecision_accepts_torch_tensors(load):
    fx = load("rprecision_matching.npz")
    text, motion = fx["text_emb"], fx["motion_emb"]
    batch_size = int(fx["batch_size"])
    np.testing.assert_array_equal(
        r_precision(torch.from_numpy(text), torch.from_numpy(motion), batch_size, drop_last=False),
        r_precision(text, motion, batch_size, drop_last=False),
    )
    assert matching_score(
        torch.from_numpy(text), torch.from_numpy(motion), batch_size, drop_last=False
    ) == matching_score(text, motion, batch_size, drop_last=False)


# --- rprecision_ties.npz -----------------------------------------------------------------------


def test_ties_distances_and_bounds(load):
    fx = load("rprecision_ties.npz")
    dist = euclidean_distance_matrix(fx["text_emb"], fx["motion_emb"])  # (n, n)
    np.testing.assert_array_equal(dist, fx["dist_mat"])  # integer entries: exact everywhere
    optimistic = gt_ranks(dist, "optimistic")  # (n,)
    pessimistic = gt_ranks(dist, "pessimistic")  # (n,)
    np.testing.assert_array_equal(optimistic, fx["gt_n_less"])
    np.testing.assert_array_equal(pessimistic - optimistic + 1, fx["gt_n_equal"])
    top_k = fx["tie_sensitive"].shape[1]
    first = top_k_matches(dist, top_k, "optimistic")
    last = top_k_matches(dist, top_k, "pessimistic")
    np.testing.assert_array_equal(first, fx["top_k_mat_gt_first_among_ties"])
    np.testing.assert_array_equal(last, fx["top_k_mat_gt_last_among_ties"])
    np.testing.assert_array_equal(first != last, fx["tie_sensitive"])


def test_ties_forced_cases(load):
    fx = load("rprecision_ties.npz")
    dist = euclidean_distance_matrix(fx["text_emb"], fx["motion_emb"])
    n_equal = gt_ranks(dist, "pessimistic") - gt_ranks(dist, "optimistic") + 1
    for gt, copy in fx["duplicate_motion_pairs"]:
        assert dist[gt, gt] == dist[gt, copy] and n_equal[gt] >= 2
    assert n_equal[int(fx["all_tied_row"])] == dist.shape[1]
    zero_row = int(fx["zero_distance_row"])
    assert dist[zero_row, zero_row] == 0 and gt_ranks(dist, "stable")[zero_row] == 0


def test_ties_stable_matches_exactly(load, summary):
    fx = load("rprecision_ties.npz")
    dist = euclidean_distance_matrix(fx["text_emb"], fx["motion_emb"])
    top_k = fx["tie_sensitive"].shape[1]
    n = dist.shape[0]
    positions = np.argmax(fx["argsort_stable"] == np.arange(n)[:, None], axis=1)
    np.testing.assert_array_equal(gt_ranks(dist, "stable"), positions)
    hits = top_k_matches(dist, top_k, "stable")
    np.testing.assert_array_equal(hits, fx["top_k_mat_stable"])
    np.testing.assert_array_equal(hits.sum(axis=0), fx["top_k_count_stable"])
    np.testing.assert_array_equal(hits.sum(axis=0), summary["ties"]["count_stable"])
    precision = r_precision(fx["text_emb"], fx["motion_emb"], batch_size=n, top_k=top_k)
    np.testing.assert_array_equal(precision * n, fx["top_k_count_stable"])


def test_ties_numpy_default_exact_off_ties_and_bounded_on_ties(load, summary):
    fx = load("rprecision_ties.npz")
    dist = euclidean_distance_matrix(fx["text_emb"], fx["motion_emb"])
    sensitive = fx["tie_sensitive"]  # (n, top_k)
    top_k = sensitive.shape[1]
    np.testing.assert_array_equal(
        np.argwhere(sensitive.T)[:, 1],
        np.concatenate([summary["ties"]["sensitive_rows"][str(k + 1)] for k in range(top_k)]),
    )
    hits = top_k_matches(dist, top_k, "numpy")
    expected = fx["top_k_mat_numpy_default"]
    np.testing.assert_array_equal(hits[~sensitive], expected[~sensitive])
    first = fx["top_k_mat_gt_first_among_ties"]
    last = fx["top_k_mat_gt_last_among_ties"]
    for mat in (hits, expected):
        assert np.all(last <= mat) and np.all(mat <= first)
    for count in (
        fx["top_k_count_numpy_default"],
        fx["R_precision_via_t2m_calculate_R_precision"],
        np.asarray(summary["ties"]["count_default"]),
    ):
        np.testing.assert_array_equal(count, expected.sum(axis=0))


# --- fid.npz -----------------------------------------------------------------------------------


def test_fid_statistics(load):
    fx = load("fid.npz")
    for name in ("gt", "pred"):
        mu, cov = activation_statistics(fx[f"{name}_emb"])
        assert mu.dtype == fx[f"{name}_mu"].dtype and cov.dtype == fx[f"{name}_cov_diag"].dtype
        np.testing.assert_allclose(mu, fx[f"{name}_mu"], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.diag(cov), fx[f"{name}_cov_diag"], rtol=1e-10)
        np.testing.assert_allclose(np.trace(cov), fx[f"{name}_cov_trace"], rtol=1e-10)
        np.testing.assert_allclose(cov[0], fx[f"{name}_cov_row0"], rtol=1e-9, atol=1e-12)
    for name in ("a", "b"):
        mu, cov = activation_statistics(fx[f"small_{name}"])
        assert mu.dtype == fx[f"small_mu_{name}"].dtype
        np.testing.assert_allclose(mu, fx[f"small_mu_{name}"], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(cov, fx[f"small_cov_{name}"], rtol=1e-10, atol=1e-14)


def test_fid_values(load, summary):
    fx = load("fid.npz")
    gt = activation_statistics(fx["gt_emb"])
    pred = activation_statistics(fx["pred_emb"])
    atol = FID_RTOL * (fx["gt_cov_trace"] + fx["pred_cov_trace"])
    cases = {
        "fid": frechet_distance(*gt, *pred),
        "fid_reversed_args": frechet_distance(*pred, *gt),
        "fid_gt_vs_gt": frechet_distance(*gt, *gt),
    }
    for key, value in cases.items():
        np.testing.assert_allclose(value, fx[key], rtol=0, atol=atol)
        np.testing.assert_allclose(value, summary["fid"][key], rtol=0, atol=atol)
    assert fid(fx["gt_emb"], fx["pred_emb"]) == cases["fid"]
    small = frechet_distance(
        fx["small_mu_a"], fx["small_cov_a"], fx["small_mu_b"], fx["small_cov_b"]
    )
    small_atol = FID_RTOL * (np.trace(fx["small_cov_a"]) + np.trace(fx["small_cov_b"]))
    np.testing.assert_allclose(small, fx["small_fid"], rtol=0, atol=small_atol)
    np.testing.assert_allclose(small, summary["fid"]["small_fid"], rtol=0, atol=small_atol)


def test_fid_torch_matches_numpy(load):
    fx = load("fid.npz")
    gt = [torch.from_numpy(np.asarray(x)) for x in activation_statistics(fx["gt_emb"])]
    pred = [torch.from_numpy(np.asarray(x)) for x in activation_statistics(fx["pred_emb"])]
    atol = TORCH_FID_RTOL * (fx["gt_cov_trace"] + fx["pred_cov_trace"])
    for key, args in {
        "fid": (*gt, *pred),
        "fid_reversed_args": (*pred, *gt),
        "fid_gt_vs_gt": (*gt, *gt),
    }.items():
        value = frechet_distance_torch(*args)
        assert value.dtype == torch.float64 and value.ndim == 0
        np.testing.assert_allclose(value.item(), fx[key], rtol=0, atol=atol)
    small = [torch.from_numpy(fx[k]) for k in ("small_mu_a", "small_cov_a", "small_mu_b")]
    value = frechet_distance_torch(*small, torch.from_numpy(fx["small_cov_b"]))
    small_atol = TORCH_FID_RTOL * (np.trace(fx["small_cov_a"]) + np.trace(fx["small_cov_b"]))
    np.testing.assert_allclose(value.item(), fx["small_fid"], rtol=0, atol=small_atol)


# --- diversity.npz / multimodality.npz ---------------------------------------------------------


def test_diversity(load, summary):
    fx = load("diversity.npz")
    act = fx["activation"]
    times = int(fx["diversity_times"])
    first, second = draw_pairs(act.shape[0], times, int(fx["legacy_np_random_seed"]))
    np.testing.assert_array_equal(first, fx["first_indices"])
    np.testing.assert_array_equal(second, fx["second_indices"])
    pair = matching_distances(act[first], act[second])  # (P,)
    np.testing.assert_allclose(pair, fx["pair_distances"], rtol=1e-6)
    assert int(np.sum(first == second)) == summary["diversity"]["n_self_pairs"]
    value = diversity(act, fx["first_indices"], fx["second_indices"])
    np.testing.assert_allclose(value, fx["diversity"], rtol=1e-6)
    np.testing.assert_allclose(value, summary["diversity"]["value"], rtol=1e-6)
    assert diversity(torch.from_numpy(act), torch.from_numpy(first), second) == value


def test_multimodality(load, summary):
    fx = load("multimodality.npz")
    act = fx["activation"]  # (T, R, D)
    times = int(fx["multimodality_times"])
    first, second = draw_pairs(act.shape[1], times, int(fx["legacy_np_random_seed"]))
    np.testing.assert_array_equal(first, fx["first_dices"])
    np.testing.assert_array_equal(second, fx["second_dices"])
    pair = np.linalg.norm(act[:, first] - act[:, second], axis=2)  # (T, P)
    np.testing.assert_allclose(pair, fx["pair_distances"], rtol=1e-6)
    assert int(np.sum(first == second)) == summary["multimodality"]["n_self_pairs"]
    value = multimodality(act, fx["first_dices"], fx["second_dices"])
    np.testing.assert_allclose(value, fx["multimodality"], rtol=1e-6)
    np.testing.assert_allclose(value, summary["multimodality"]["value"], rtol=1e-6)


# --- misc.npz ----------------------------------------------------------------------------------


def test_misc_distance_float64(load):
    fx = load("misc.npz")
    dist = euclidean_distance_matrix(fx["m1"], fx["m2"])
    assert_distances_close(dist, fx["dist_f64"], fx["m1"], fx["m2"])


def test_misc_metric_statistics(load, summary):
    fx = load("misc.npz")
    values = fx["replication_values"]
    assert values.shape[0] == int(fx["replication_times"])
    mean, conf = metric_statistics(values)
    np.testing.assert_allclose(mean, fx["stat_mean"], rtol=1e-12)
    np.testing.assert_allclose(conf, fx["stat_conf_interval"], rtol=1e-12)
    np.testing.assert_allclose(conf, summary["misc"]["conf"], rtol=1e-12)
