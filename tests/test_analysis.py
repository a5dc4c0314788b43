import numpy as np
import pytest

from adamedu.analysis import angle_to_steepest_descent


def test_known_angles():
    grads = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    updates = np.array([[-3.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, -1.0]])
    np.testing.assert_allclose(angle_to_steepest_descent(updates, grads), [0.0, 90.0, 180.0, 45.0], atol=1e-12)


def test_zero_vectors_give_nan():
    angles = angle_to_steepest_descent(np.zeros((1, 2)), np.ones((1, 2)))
    assert np.isnan(angles).all()


@pytest.mark.parametrize("seed", range(5))
def test_positive_diagonal_preconditioning_is_a_descent_direction(seed):
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(50, 4))
    scales = rng.uniform(0.01, 100.0, size=(50, 4))
    angles = angle_to_steepest_descent(-scales * grads, grads)
    assert (angles < 90.0).all()
