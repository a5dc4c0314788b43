"""adamedu.momentum: the derived rates against the optimizer itself and against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import adamedu
from adamedu import momentum
from adamedu.problems import IllConditionedQuadratic


def test_derivations_return_the_stated_formulas():
    gd = momentum.derive_gradient_descent()
    k = gd.symbols["kappa"]
    assert sp.simplify(gd.optimal_rate - (k - 1) / (k + 1)) == 0
    hb = momentum.derive_heavy_ball()
    k = hb.symbols["kappa"]
    assert sp.simplify(hb.optimal_rate - (sp.sqrt(k) - 1) / (sp.sqrt(k) + 1)) == 0
    assert sp.simplify(hb.optimal_momentum - hb.optimal_rate**2) == 0
    dec = momentum.derive_decoupling()
    assert dec.heavy_ball_matrix_eigenbasis[0, 2] == 0 and dec.heavy_ball_matrix_eigenbasis[1, 3] == 0


def test_sgd_with_momentum_follows_the_mode_recurrence_exactly():
    """adamedu.SGD(momentum=μ) on a rotated quadratic = R^t applied to each eigen-coordinate."""
    problem = IllConditionedQuadratic(condition_number=49.0, angle=0.5)
    lr, mu, steps = 0.05, 0.7, 40
    trace = adamedu.run(adamedu.SGD, problem, steps, lr=lr, momentum=mu)
    values, vectors = momentum.eigenmodes(problem)
    np.testing.assert_allclose(values, [1.0, 49.0], rtol=1e-12)
    x = momentum.mode_errors(problem, trace.params)
    for i, lam in enumerate(values):
        R = momentum.heavy_ball_matrix(lr, mu, lam)
        state = np.array([0.0, x[0, i]])  # buffer y = 0 before the first step
        for t in range(1, steps + 1):
            state = R @ state
            assert state[1] == pytest.approx(x[t, i], rel=1e-9, abs=1e-12)


@given(lr=st.floats(1e-3, 0.08), mu=st.floats(0.0, 0.98), lam=st.floats(0.5, 60.0))
def test_mode_rate_is_the_spectral_radius(lr, mu, lam):
    expected = max(abs(np.linalg.eigvals(momentum.heavy_ball_matrix(lr, mu, lam))))
    assert momentum.heavy_ball_mode_rate(lr, mu, lam) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("kappa", [4.0, 49.0, 1000.0])
def test_no_grid_setting_beats_the_optimal_heavy_ball(kappa):
    lam = np.linspace(1.0, kappa, 400)  # the whole spectrum, so every λ in between counts
    lr_star, mu_star, rate_star = momentum.optimal_heavy_ball(1.0, kappa)
    # (a double root: rounding in the discriminant costs about 1e-8)
    assert momentum.heavy_ball_rate(lr_star, mu_star, lam) == pytest.approx(rate_star, rel=1e-7)
    best = min(momentum.heavy_ball_rate(a, b, lam)
               for a in np.linspace(0.05, 2.0, 160) * lr_star
               for b in np.linspace(0.0, 0.995, 200))
    assert best >= rate_star - 1e-7


@pytest.mark.parametrize("kappa", [4.0, 49.0, 1000.0])
def test_no_learning_rate_beats_the_optimal_gradient_descent(kappa):
    lr_star, rate_star = momentum.optimal_gradient_descent(1.0, kappa)
    lrs = np.linspace(1e-4, 2.5 / kappa, 5000)
    rates = [momentum.gradient_descent_rate(a, [1.0, kappa]) for a in lrs]
    assert min(rates) >= rate_star - 1e-12
    assert momentum.gradient_descent_rate(lr_star, [1.0, kappa]) == pytest.approx(rate_star)


def test_measured_decay_matches_the_optimal_rate():
    problem = IllConditionedQuadratic(condition_number=49.0, angle=np.pi / 6)
    lr, mu, rate = momentum.optimal_heavy_ball(1.0, 49.0)
    trace = adamedu.run(adamedu.SGD, problem, 400, lr=lr, momentum=mu, record=("params",))
    err = np.linalg.norm(trace.params - problem.minimizer, axis=1)
    measured = (err[400] / err[200]) ** (1 / 200)
    # critical damping at both ends adds a factor t: (400/200)^(1/200) ≈ 1.0035
    assert rate < measured < rate * 1.005
    gd_lr, gd_rate = momentum.optimal_gradient_descent(1.0, 49.0)
    gd = adamedu.run(adamedu.SGD, problem, 400, lr=gd_lr, record=("params",))
    gd_err = np.linalg.norm(gd.params - problem.minimizer, axis=1)
    assert (gd_err[400] / gd_err[200]) ** (1 / 200) == pytest.approx(gd_rate, rel=1e-6)


def test_damping_regimes_follow_critical_momentum():
    lr, lam = 0.01, 25.0  # αλ = 0.25, critical β = (1 − 0.5)² = 0.25
    assert momentum.damping(lr, 0.25, lam) == "critical"
    assert momentum.damping(lr, 0.1, lam) == "overdamped"
    assert momentum.damping(lr, 0.5, lam) == "underdamped"
    assert momentum.damping(lr, 0.5, 2 * (1 + 0.5) / lr + 1) == "unstable"
    # underdamped modes converge at √β whatever λ
    assert momentum.heavy_ball_mode_rate(lr, 0.5, lam) == pytest.approx(np.sqrt(0.5))


def test_stability_limit():
    mu = 0.6
    lam_edge = 2 * (1 + mu) / 0.1
    assert momentum.heavy_ball_mode_rate(0.1, mu, lam_edge * 0.999) < 1
    assert momentum.heavy_ball_mode_rate(0.1, mu, lam_edge * 1.001) > 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        momentum.heavy_ball_mode_rate(0.1, 1.0, 1.0)
    with pytest.raises(ValueError):
        momentum.optimal_heavy_ball(2.0, 1.0)
    with pytest.raises(ValueError):
        momentum.eigenmodes(adamedu.problems.Rosenbrock())
