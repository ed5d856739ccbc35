"""Unit tests of remodiffuse.metrics on constructed inputs with hand-known answers."""

import math

import numpy as np
import pytest
import torch

from remodiffuse.metrics import (
    activation_statistics,
    activation_statistics_torch,
    balanced_mm_dist,
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
    psd_sqrtm,
    r_precision,
    rareness,
    tail_mm_dist,
    top_k_matches,
)

# --- rareness (Eq. 7), tail and balanced MM -----------------------------------------------------


def test_rareness_is_one_minus_max_cosine():
    train = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # (N, D)
    test = np.array(
        [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.6, 0.8, 0.0]]
    ) / np.array([[1.0], [math.sqrt(2)], [1.0], [1.0], [1.0]])  # (Q, D) unit rows
    expected = [0.0, 1 - 1 / math.sqrt(2), 1.0, 1.0, 1 - 0.8]
    np.testing.assert_allclose(rareness(test, train), expected, atol=1e-15)
    np.testing.assert_allclose(rareness(test, train, chunk_size=2), expected, atol=1e-15)
    np.testing.assert_allclose(rareness(3 * test, 0.5 * train), expected, atol=1e-15)
    out = rareness(torch.from_numpy(test).float(), torch.from_numpy(train).float())
    assert out.dtype == np.float64 and out.shape == (5,)


def test_rareness_rejects_bad_features():
    train = np.eye(3)
    with pytest.raises(ValueError, match="zero feature"):
        rareness(np.zeros((1, 3)), train)
    with pytest.raises(ValueError, match="share D"):
        rareness(np.ones((2, 4)), train)
    with pytest.raises(ValueError, match="non-finite"):
        rareness(np.array([[np.nan, 0.0, 0.0]]), train)


def test_tail_mm_dist_takes_the_rarest_ceil_fraction():
    distances = np.arange(20, dtype=np.float64)  # (Q,)
    rare = np.arange(20)[::-1] / 20.0  # item 0 is the rarest
    assert tail_mm_dist(distances, rare) == 0.0  # ceil(0.05 * 20) = 1 item
    assert tail_mm_dist(distances, rare, fraction=0.1) == 0.5  # items 0 and 1
    assert tail_mm_dist(distances, rare, fraction=0.12) == 1.0  # ceil(2.4) = 3: items 0, 1, 2
    assert tail_mm_dist(distances, rare, fraction=1.0) == distances.mean()
    # 0.05 * 300 = 15.000000000000002 in floating point: still exactly 15 items
    many = np.arange(300, dtype=np.float64)
    assert tail_mm_dist(many, many) == np.mean(many[-15:])
    # equal rareness: stable ascending sort, the higher index counts as rarer
    assert tail_mm_dist(distances, np.zeros(20), fraction=0.1) == 18.5


def test_balanced_mm_dist_averages_nonempty_equal_width_bins():
    distances = np.array([1.0, 3.0, 5.0, 7.0])
    # 2 bins over [0, 1]: [0, 0.5) holds items 0, 1; [0.5, 1] holds items 2, 3
    assert balanced_mm_dist(distances, [0.0, 0.2, 0.5, 1.0], num_bins=2) == (2.0 + 6.0) / 2
    # 100 bins over [0, 1]: only the first and the last are filled, the 98 empty ones are skipped
    assert balanced_mm_dist(distances, [0.0, 0.0, 0.0, 1.0]) == (3.0 + 7.0) / 2
    # shifted range: bins span [min r, max r], not [0, max r]
    assert balanced_mm_dist(distances, [0.5, 0.5, 0.5, 0.6]) == (3.0 + 7.0) / 2
    # a single rareness value: one bin, the plain mean
    assert balanced_mm_dist(distances, np.full(4, 0.3)) == 4.0
    # 4 bins over [0, 0.4]; 0.1 is an inner edge, so it opens the second bin
    assert balanced_mm_dist(distances, [0.0, 0.1, 0.15, 0.4], num_bins=4) == (1.0 + 4.0 + 7.0) / 3


def test_rare_mm_input_checks():
    with pytest.raises(ValueError, match="same shape"):
        tail_mm_dist(np.ones(4), np.ones(5))
    with pytest.raises(ValueError, match="fraction"):
        tail_mm_dist(np.ones(4), np.ones(4), fraction=0.0)
    with pytest.raises(ValueError, match="num_bins"):
        balanced_mm_dist(np.ones(4), np.ones(4), num_bins=0)
    with pytest.raises(ValueError, match="at least one"):
        balanced_mm_dist(np.ones(0), np.ones(0))


def test_matching_distances_per_pair():
    text = np.array([[0.0, 0.0], [1.0, 1.0]])
    motion = np.array([[3.0, 4.0], [1.0, 1.0]])
    np.testing.assert_array_equal(matching_distances(text, motion), [5.0, 0.0])


# --- distances, ranking and R-precision --------------------------------------------------------


def test_euclidean_distance_matrix_small():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    b = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(euclidean_distance_matrix(a, b), [[5, 1, 0], [20**0.5, 0, 1]])
    assert euclidean_distance_matrix(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32


def test_tie_modes_on_duplicate_motion():
    # motion 1 duplicates motion 0, so text 0 sees its gt tied with motion 1 and vice versa
    text = np.eye(3)
    motion = np.stack([np.eye(3)[0], np.eye(3)[0], np.eye(3)[2]])
    dist = euclidean_distance_matrix(text, motion)
    np.testing.assert_array_equal(gt_ranks(dist, "stable"), [0, 1, 0])
    np.testing.assert_array_equal(gt_ranks(dist, "optimistic"), [0, 0, 0])
    np.testing.assert_array_equal(gt_ranks(dist, "pessimistic"), [1, 2, 0])
    np.testing.assert_array_equal(
        top_k_matches(dist, 2, "stable"), [[True, True], [False, True], [True, True]]
    )
    with pytest.raises(ValueError, match="ties"):
        gt_ranks(dist, "random")


def test_nan_distance_ranks_last():
    dist = np.array([[np.nan, 1.0], [2.0, 0.0]])
    for ties in ("stable", "numpy", "optimistic"):
        assert gt_ranks(dist, ties)[0] == 1
    assert gt_ranks(dist, "pessimistic")[0] == 1


def test_r_precision_and_matching_score_by_hand():
    # 2 batches of 2 kept with drop_last=False; text i sits at distance i+1 from its own motion
    motion = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0], [50.0, 50.0]])
    text = motion + np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [5.0, 0.0]])
    np.testing.assert_allclose(r_precision(text, motion, batch_size=2, top_k=2), [1.0, 1.0])
    assert matching_score(text, motion, batch_size=2) == pytest.approx(2.5)
    assert matching_score(text, motion, batch_size=2, drop_last=False) == pytest.approx(3.0)
    # swapped motions in a batch of 2: every gt is second
    swapped = motion[[1, 0, 3, 2]]
    np.testing.assert_allclose(r_precision(swapped, motion[:4], batch_size=2, top_k=2), [0, 1])


def test_batch_slices():
    assert batch_slices(70, 32) == [slice(0, 32), slice(32, 64)]
    assert batch_slices(70, 32, drop_last=False)[-1] == slice(64, 70)
    assert batch_slices(64, 32, drop_last=False) == batch_slices(64, 32)


def test_fewer_items_than_one_batch():
    emb = np.random.default_rng(0).normal(size=(20, 8))
    with pytest.raises(ValueError, match="20 items give no batch of 32 with drop_last=True"):
        r_precision(emb, emb)
    with pytest.raises(ValueError, match="no batch"):
        matching_score(emb, emb)
    assert r_precision(emb, emb, drop_last=False).shape == (3,)


def test_r_precision_rejects_bad_embeddings():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(64, 8))
    with pytest.raises(ValueError, match="same shape"):
        r_precision(emb, emb[:, :7])
    with pytest.raises(ValueError, match="same shape"):
        matching_score(emb, emb[:63])
    with pytest.raises(ValueError, match="2-D"):
        r_precision(emb[0], emb[0])
    bad = emb.copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        r_precision(emb, bad)
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        matching_score(bad, emb)


# --- FID ---------------------------------------------------------------------------------------


def test_fid_identical_sets_is_zero():
    emb = np.random.default_rng(1).normal(size=(200, 16)).astype(np.float32)
    mu, cov = activation_statistics(emb)
    assert abs(fid(emb, emb)) < 1e-10 * np.trace(cov)
    stats = [torch.from_numpy(np.asarray(x)) for x in (mu, cov)]
    assert abs(frechet_distance_torch(*stats, *stats).item()) < 1e-10 * np.trace(cov)


def test_fid_of_known_gaussians():
    # S1 = I, S2 = 4 I: tr(S1) + tr(S2) - 2 tr(sqrt(4 I)) = d + 4d - 4d = d; plus |mu1 - mu2|^2
    dim = 5
    mu1, mu2 = np.zeros(dim), np.full(dim, 2.0)
    cov1, cov2 = np.eye(dim), 4 * np.eye(dim)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(dim + 4 * dim)
    value = frechet_distance_torch(*(torch.from_numpy(x) for x in (mu1, cov1, mu2, cov2)))
    assert value.item() == pytest.approx(dim + 4 * dim)


def test_fid_torch_matches_numpy_on_random_sets():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(300, 12))
    b = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12)) * 0.5 + 0.3
    stats = [*activation_statistics(a), *activation_statistics(b)]
    expected = frechet_distance(*stats)
    value = frechet_distance_torch(*(torch.from_numpy(x) for x in stats))
    assert value.item() == pytest.approx(expected, rel=1e-10)
    mu, cov = activation_statistics_torch(torch.from_numpy(b))
    np.testing.assert_allclose(mu.numpy(), stats[2], rtol=1e-12)
    np.testing.assert_allclose(cov.numpy(), stats[3], rtol=1e-10)


@pytest.mark.parametrize("num_items", [300, 20])  # full-rank and rank-deficient (N < D) covariance
def test_fid_torch_gradient_is_finite(num_items):
    torch.manual_seed(0)
    gt_mu, gt_cov = activation_statistics_torch(torch.randn(500, 32, dtype=torch.float64))
    pred = (torch.randn(num_items, 32, dtype=torch.float64) * 1.5 + 0.2).requires_grad_()
    loss = frechet_distance_torch(gt_mu, gt_cov, *activation_statistics_torch(pred))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    if num_items > 32:  # a small step against the gradient lowers the FID
        stepped = (pred - 1e-2 * pred.grad / pred.grad.norm()).detach()
        lower = frechet_distance_torch(gt_mu, gt_cov, *activation_statistics_torch(stepped))
        assert lower < loss


def test_psd_sqrtm_gradcheck_and_repeated_eigenvalues():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(6, 6))
    matrix = torch.from_numpy(base @ base.T + 0.5 * np.eye(6)).requires_grad_()
    assert torch.autograd.gradcheck(psd_sqrtm, (matrix,))
    root = psd_sqrtm(matrix)
    torch.testing.assert_close(root @ root, matrix.detach(), rtol=1e-10, atol=1e-10)
    identity = torch.eye(4, dtype=torch.float64, requires_grad=True)  # all eigenvalues equal
    psd_sqrtm(3 * identity).trace().backward()
    assert torch.isfinite(identity.grad).all()


def test_fid_rejects_bad_inputs():
    mu, cov = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(mu, cov, np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(mu, np.eye(4), mu, cov)
    with pytest.raises(ValueError, match="non-finite"):
        frechet_distance(mu, cov * np.nan, mu, cov)
    with pytest.raises(ValueError, match="at least 2"):
        activation_statistics(np.ones((1, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        fid(np.full((4, 3), np.nan), np.ones((4, 3)))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance_torch(torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4))


# --- Diversity, MultiModality, statistics ------------------------------------------------------


def test_draw_pairs_replays_the_legacy_global_rng():
    np.random.seed(11)
    first = np.random.choice(50, 10, replace=False)
    second = np.random.choice(50, 10, replace=False)
    ours = draw_pairs(50, 10, 11)
    np.testing.assert_array_equal(ours[0], first)
    np.testing.assert_array_equal(ours[1], second)
    again = draw_pairs(50, 10, np.random.default_rng(5))
    np.testing.assert_array_equal(again[0], draw_pairs(50, 10, np.random.default_rng(5))[0])
    assert len(set(again[0].tolist())) == 10
    with pytest.raises(ValueError, match="num_pairs"):
        draw_pairs(5, 6, 0)


def test_diversity_and_multimodality_by_hand():
    act = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert diversity(act, [0, 1, 2], [1, 2, 2]) == pytest.approx((5 + 5 + 0) / 3)
    per_prompt = np.array([[[0.0], [3.0], [7.0]], [[1.0], [1.0], [2.0]]])  # (T=2, R=3, D=1)
    assert multimodality(per_prompt, [0, 1], [1, 2]) == pytest.approx((3 + 4 + 0 + 1) / 4)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        diversity(act, [0, 3], [1, 2])
    with pytest.raises(ValueError, match="equal"):
        multimodality(per_prompt, [0, 1], [1])
    with pytest.raises(ValueError, match="3-D"):
        multimodality(act, [0], [1])


def test_metric_statistics_uses_population_std():
    mean, conf = metric_statistics([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0]])
    np.testing.assert_allclose(mean, [2.0, 10.0])
    np.testing.assert_allclose(conf, [1.96 * math.sqrt(2 / 3) / math.sqrt(3), 0.0])
    with pytest.raises(ValueError, match="replication"):
        metric_statistics(np.ones((0, 3)))
