"""adamedu.noise: the derived noise formulas against sampling and against the optimizers."""

from __future__ import annotations

import numpy as np
import pytest

import adamedu
from adamedu import noise
from adamedu.problems import LogisticRegression, NoisyQuadratic


@pytest.fixture(scope="module")
def digits():
    problem = LogisticRegression()
    x = np.random.default_rng(3).normal(scale=0.05, size=problem.dim)
    return problem, x, noise.per_example_gradients(problem, x)


def test_per_example_gradients_average_to_the_full_gradient(digits):
    problem, x, per_example = digits
    np.testing.assert_allclose(per_example.mean(axis=0), problem.grad(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 16, 256, 1000])
def test_minibatch_variance_formula_matches_sampling(digits, batch_size):
    noise.derive_minibatch_variance()
    problem, x, per_example = digits
    exact = noise.minibatch_noise(problem, x, batch_size, per_example)
    full = problem.grad(x)
    batches = LogisticRegression(batch_size=batch_size)  # the same data, minibatches of this size
    rng = np.random.default_rng(batch_size)
    draws = np.array([np.sum((batches.stochastic_grad(x, rng) - full) ** 2) for _ in range(1500)])
    assert abs(draws.mean() - exact) < 5 * draws.std() / np.sqrt(len(draws))


def test_minibatch_noise_factor_edges():
    assert noise.minibatch_noise_factor(1, 100) == 1.0
    assert noise.minibatch_noise_factor(100, 100) == 0.0
    with pytest.raises(ValueError):
        noise.minibatch_noise_factor(0, 100)


@pytest.mark.parametrize("lr,beta", [(0.1, 0.0), (0.5, 0.0), (0.05, 0.9), (0.02, 0.5)])
def test_expected_loss_matches_many_runs_of_the_optimizer(lr, beta):
    """4000 coordinates of NoisyQuadratic are 4000 independent runs of the 1-D problem."""
    lam = np.r_[np.full(2000, 1.0), np.full(2000, 4.0)]
    problem = NoisyQuadratic(curvature=lam, noise=0.7, dim=lam.size, x0=np.full(lam.size, 2.0))
    trace = adamedu.run(adamedu.SGD, problem, 150, seed=1, record=("params",), lr=lr, momentum=beta)
    predicted = noise.expected_loss(lr, beta, lam, 0.7, 2.0, 150)
    per_coordinate = 0.5 * lam * trace.params**2  # (steps+1, dim)
    for k in (1, 5, 30, 150):
        sample = per_coordinate[k]
        assert abs(sample.sum() - predicted[k]) < 5 * sample.std() * np.sqrt(sample.size)


def test_stationary_formulas_are_the_limits_of_the_recursion():
    lam, sigma = 2.0, 0.5
    for lr, beta in ((0.3, 0.0), (0.05, 0.8)):
        curve = noise.expected_loss(lr, beta, [lam], sigma, 1.0, 3000)
        d = noise.derive_momentum_noise_ball()
        s = d.symbols
        stationary = float(d.stationary.subs({s["alpha"]: lr, s["mu"]: beta, s["lam"]: lam, s["sigma"]: sigma}))
        assert curve[-1] == pytest.approx(0.5 * lam * stationary, rel=1e-9)


def test_ema_variance_matches_simulation():
    d = noise.derive_ema_noise()
    s = d.symbols
    rng = np.random.default_rng(0)
    beta, runs = 0.9, 20000
    m = np.zeros(runs)
    for t in range(1, 31):
        m = beta * m + (1 - beta) * rng.standard_normal(runs)
        m_hat = m / (1 - beta**t)
        target = float(d.corrected_variance.subs({s["beta"]: beta, s["sigma"]: 1, s["t"]: t}))
        # the sample variance of normal data has relative spread √(2/(n−1))
        assert abs(m_hat.var() / target - 1) < 5 * np.sqrt(2 / (runs - 1))


def test_expected_loss_refuses_bad_input():
    with pytest.raises(ValueError):
        noise.expected_loss(0.0, 0.0, [1.0], 1.0, 1.0, 5)
    with pytest.raises(ValueError):
        noise.expected_loss(0.1, 1.0, [1.0], 1.0, 1.0, 5)
