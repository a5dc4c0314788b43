"""adamedu.nesterov: the look-ahead form, the quadratic rate and NAdam's direction, against the optimizers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adamedu
from adamedu import nesterov
from adamedu.problems import IllConditionedQuadratic, Rosenbrock


def test_pytorch_nesterov_iterates_are_sutskevers_lookahead_points():
    """On a non-quadratic function: φ_t = θ_t + μ v_t at every step."""
    nesterov.derive_lookahead_equivalence()
    problem = Rosenbrock()
    lr, mu, steps = 1e-3, 0.9, 200
    trace = adamedu.run(adamedu.SGD, problem, steps, lr=lr, momentum=mu, nesterov=True)
    theta, v = problem.x0.copy(), np.zeros(2)
    for t in range(1, steps + 1):
        v = mu * v - lr * problem.grad(theta + mu * v)
        theta = theta + v
        np.testing.assert_allclose(trace.params[t], theta + mu * v, rtol=1e-10, atol=1e-12)


@given(lr=st.floats(1e-3, 0.04), mu=st.floats(0.0, 0.98), lam=st.floats(0.5, 49.0))
def test_mode_rate_is_the_spectral_radius(lr, mu, lam):
    q = 1 - lr * lam
    matrix = np.array([[mu, lam], [-lr * mu**2, 1 - lr * lam - lr * mu * lam]])
    roots = np.roots([1.0, -(1 + mu) * q, mu * q])
    np.testing.assert_allclose(sorted(abs(np.linalg.eigvals(matrix))), sorted(abs(roots)), rtol=1e-6, atol=1e-9)
    assert nesterov.nesterov_mode_rate(lr, mu, lam) == pytest.approx(max(abs(roots)), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("kappa", [4.0, 49.0, 1000.0])
def test_standard_parameters_give_one_minus_one_over_root_kappa(kappa):
    nesterov.derive_nesterov_quadratic()
    lam = np.linspace(1.0, kappa, 2000)
    mu = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    rate = np.max(nesterov.nesterov_mode_rate(1 / kappa, mu, lam))
    assert rate == pytest.approx(1 - 1 / np.sqrt(kappa), rel=1e-7)
    heavy_ball = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    assert heavy_ball < rate  # tuned heavy ball is faster on a quadratic


def test_sgd_nesterov_converges_at_the_predicted_rate():
    kappa = 49.0
    problem = IllConditionedQuadratic(condition_number=kappa, angle=0.3)
    mu = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    trace = adamedu.run(adamedu.SGD, problem, 600, lr=1 / kappa, momentum=mu, nesterov=True)
    err = np.linalg.norm(trace.params, axis=1)
    measured = (err[600] / err[300]) ** (1 / 300)
    assert 1 - 1 / np.sqrt(kappa) < measured < (1 - 1 / np.sqrt(kappa)) * 1.003


def test_nadam_with_constant_momentum_steps_along_the_derived_direction():
    d = nesterov.derive_nadam_direction()
    beta1, beta2, lr, eps = 0.9, 0.999, 1e-2, 1e-8
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(30, 3))
    theta = np.zeros(3)
    opt = adamedu.NAdam([theta], lr=lr, betas=(beta1, beta2), eps=eps, momentum_decay=1e6)  # μ_t = β1
    m = np.zeros(3)
    v = np.zeros(3)
    for t, g in enumerate(grads, start=1):
        before = theta.copy()
        opt.step([g])
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        direction = (1 - beta1) / (1 - beta1**t) * g + beta1 / (1 - beta1 ** (t + 1)) * m
        expected = -lr * direction / (np.sqrt(v / (1 - beta2**t)) + eps)
        np.testing.assert_allclose(theta - before, expected, rtol=1e-10)
    assert str(d.long_run) == "beta_1*m_t + g_t*(1 - beta_1)"


def test_nadam_momentum_schedule_matches_the_optimizer_state():
    psi = 4e-3
    opt = adamedu.NAdam([np.zeros(1)], momentum_decay=psi)
    product = 1.0
    for t in range(1, 50):
        opt.step([np.ones(1)])
        product *= float(nesterov.nadam_momentum_schedule(0.9, psi, t))
        assert opt.state[0]["mu_product"] == pytest.approx(product, rel=1e-12)
    half = nesterov.nadam_half_way_step(psi)
    assert nesterov.nadam_momentum_schedule(0.9, psi, half) == pytest.approx(0.675)
    with pytest.raises(ValueError):
        nesterov.nadam_half_way_step(0.0)


def test_tuned_heavy_ball_cycles_on_the_counterexample_nesterov_converges():
    problem = nesterov.HeavyBallCounterexample()
    xs = np.linspace(-3, 4, 701)
    values = np.array([problem.loss(x) for x in xs])
    slopes = np.array([problem.grad(x)[0] for x in xs])
    assert np.all(np.diff(slopes) / np.diff(xs) >= 1 - 1e-9) and np.all(np.diff(slopes) / np.diff(xs) <= 25 + 1e-9)
    np.testing.assert_allclose(np.gradient(values, xs)[1:-1], slopes[1:-1], atol=0.1)
    heavy = adamedu.run(adamedu.SGD, problem, 300, lr=1 / 9, momentum=4 / 9)
    tail = heavy.params[-30:, 0]
    np.testing.assert_allclose(tail[3:], tail[:-3], atol=1e-9)  # a cycle of period 3
    assert np.min(np.abs(tail)) > 0.5
    nest = adamedu.run(adamedu.SGD, problem, 300, lr=1 / 25, momentum=4 / 6, nesterov=True)
    assert abs(nest.params[-1, 0]) < 1e-12
