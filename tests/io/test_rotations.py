"""Euler angles, shortest-arc and best-fit rotations."""

import itertools

import numpy as np
import pytest

from remodiffuse.io.rotations import (
    axis_rotation,
    best_fit_rotation,
    euler_to_matrix,
    matrix_to_euler,
    rotation_between,
)

ORDERS = ["".join(p) for p in itertools.permutations("XYZ")]


def test_axis_rotation_is_right_handed():
    quarter = np.pi / 2
    np.testing.assert_allclose(axis_rotation("Z", quarter) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(axis_rotation("X", quarter) @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(axis_rotation("Y", quarter) @ [0, 0, 1], [1, 0, 0], atol=1e-12)


def test_euler_order_is_the_product_in_listed_order():
    angles = np.array([0.3, -0.7, 1.1])
    expected = axis_rotation("Z", 0.3) @ axis_rotation("X", -0.7) @ axis_rotation("Y", 1.1)
    np.testing.assert_allclose(euler_to_matrix(angles, "ZXY"), expected, atol=1e-12)


@pytest.mark.parametrize("order", ORDERS)
def test_matrix_to_euler_inverts_euler_to_matrix(order):
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, (500, 3))
    angles[:, 1] = rng.uniform(-np.pi / 2, np.pi / 2, 500)
    angles[:4, 1] = [np.pi / 2, -np.pi / 2, np.pi / 2 - 1e-12, -np.pi / 2]  # gimbal lock
    matrices = euler_to_matrix(angles, order)
    recovered = matrix_to_euler(matrices, order)
    np.testing.assert_allclose(euler_to_matrix(recovered, order), matrices, atol=1e-9)
    np.testing.assert_allclose(recovered[4:], angles[4:], atol=1e-9)


def test_matrix_to_euler_rejects_proper_euler_orders():
    with pytest.raises(ValueError, match="Tait-Bryan"):
        matrix_to_euler(np.eye(3), "ZXZ")


def test_rotation_between_handles_opposite_and_zero_vectors():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(50, 3))
    v = rng.normal(size=(50, 3))
    v[0] = -2 * u[0]
    v[1] = 0.0
    rotations = rotation_between(u, v)
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0, atol=1e-12)
    turned = np.einsum("nij,nj->ni", rotations, u / np.linalg.norm(u, axis=1, keepdims=True))
    unit_v = v[[0] + list(range(2, 50))]
    unit_v = unit_v / np.linalg.norm(unit_v, axis=1, keepdims=True)
    np.testing.assert_allclose(turned[[0] + list(range(2, 50))], unit_v, atol=1e-12)
    np.testing.assert_allclose(rotations[1], np.eye(3))


def test_best_fit_rotation_recovers_a_rigid_rotation():
    rng = np.random.default_rng(2)
    truth = euler_to_matrix(rng.uniform(-3, 3, (20, 3)), "XYZ")
    source = rng.normal(size=(3, 3))
    target = np.einsum("tij,nj->tni", truth, source)
    np.testing.assert_allclose(best_fit_rotation(source, target), truth, atol=1e-10)
