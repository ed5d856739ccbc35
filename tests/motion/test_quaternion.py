"""Quaternion helpers agree between numpy and torch and with rotation matrices."""

from __future__ import annotations

import numpy as np
import torch

from remodiffuse.motion.quaternion import (
    cont6d_to_matrix,
    qbetween,
    qinv,
    qmul,
    qnormalize,
    qrot,
    quat_to_cont6d,
    quat_to_matrix,
)


def _random_quats(n: int, seed: int = 0) -> np.ndarray:
    """(n, 4) random unit quaternions of both signs."""
    return qnormalize(np.random.default_rng(seed).normal(size=(n, 4)))


def test_rotation_consistency() -> None:
    q, r = _random_quats(50, 1), _random_quats(50, 2)
    v = np.random.default_rng(3).normal(size=(50, 3))
    np.testing.assert_allclose(qrot(q, v), np.einsum("nij,nj->ni", quat_to_matrix(q), v))
    np.testing.assert_allclose(qrot(qmul(q, r), v), qrot(q, qrot(r, v)))
    np.testing.assert_allclose(qrot(qinv(q), qrot(q, v)), v)
    np.testing.assert_allclose(cont6d_to_matrix(quat_to_cont6d(q)), quat_to_matrix(q), atol=1e-12)


def test_qbetween() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    q = qbetween(a, b)
    assert (q[:, 0] >= 0).all()
    unit_b = b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(qrot(q, a) / np.linalg.norm(a, axis=1, keepdims=True), unit_b)


def test_torch_matches_numpy() -> None:
    q, r = _random_quats(20, 5), _random_quats(20, 6)
    v = np.random.default_rng(7).normal(size=(20, 3))
    qt, rt, vt = (torch.from_numpy(x) for x in (q, r, v))
    np.testing.assert_allclose(qmul(qt, rt).numpy(), qmul(q, r))
    np.testing.assert_allclose(qrot(qt, vt).numpy(), qrot(q, v))
    np.testing.assert_allclose(qbetween(vt, rt[:, 1:]).numpy(), qbetween(v, r[:, 1:]))
    np.testing.assert_allclose(quat_to_cont6d(qt).numpy(), quat_to_cont6d(q))
