"""The online counterexample of Reddi, Kale & Kumar (2018) and its runner."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adamedu
from adamedu.online import ReddiProblem, run_online


@pytest.mark.parametrize("C", [2.0, 1.0, -3.0, math.nan, math.inf])
def test_invalid_C_is_rejected(C):
    with pytest.raises(ValueError, match="C"):
        ReddiProblem(C)


def test_gradients_follow_the_period_of_three():
    problem = ReddiProblem(C=4.0)
    assert problem.grad(np.arange(1, 7)).tolist() == [4.0, -1.0, -1.0, 4.0, -1.0, -1.0]
    assert problem.critical_beta2 == pytest.approx(1 / 17)
    assert problem.loss(0.5, 1) == pytest.approx(2.0) and problem.loss(0.5, 2) == pytest.approx(-0.5)


def test_projection_is_in_place():
    x = np.array([-3.0, 0.2, 1.5])
    out = ReddiProblem().project(x)
    assert out is x and x.tolist() == [-1.0, 0.2, 1.0]


def test_regret_matches_brute_force():
    problem = ReddiProblem(C=3.0)
    rng = np.random.default_rng(0)
    decisions = rng.uniform(-1, 1, size=20)
    regret = problem.regret(decisions)
    for T in range(1, 21):
        t = np.arange(1, T + 1)
        paid = np.sum(problem.loss(decisions[:T], t))
        best = min(np.sum(problem.loss(x, t)) for x in (-1.0, 1.0))  # linear: an endpoint is best
        assert regret[T - 1] == pytest.approx(paid - best, abs=1e-12)


def test_invalid_steps_are_rejected():
    with pytest.raises(ValueError, match="steps"):
        run_online(adamedu.Adam, ReddiProblem(), 0)


def test_adam_drifts_to_the_worst_point_and_amsgrad_recovers():
    problem = ReddiProblem(C=3.0)
    betas = (0.0, problem.critical_beta2)
    adam = run_online(adamedu.Adam, problem, 3000, x0=[-1.0, 0.0], lr=0.1, betas=betas)
    ams = run_online(adamedu.Adam, problem, 3000, x0=[-1.0, 0.0], lr=0.1, betas=betas, amsgrad=True)
    assert np.all(adam.x[-3:] > 0.99)
    assert np.all(ams.x[-3:] < -0.98)
    assert np.all(adam.average_regret[-1] > 0.4) and np.all(ams.average_regret[-1] < 0.15)
    # Gamma_t: negative for Adam after each large gradient, never for AMSGrad
    assert np.mean(adam.inverse_step_increase < 0) == pytest.approx(2 / 3, abs=0.01)
    assert np.all(ams.inverse_step_increase >= 0)


def test_sgd_with_decaying_steps_converges_and_never_increases_its_step():
    run = run_online(adamedu.SGD, ReddiProblem(C=3.0), 600, x0=0.5, lr=0.1)
    assert np.all(np.abs(run.x[-3:] + 1) < 0.01)
    assert np.all(run.inverse_step_increase > 0)  # 1/eta_t = sqrt(t)/alpha grows
    assert run.lr[3] == pytest.approx(0.1 / 2)


def test_constant_step_option_and_vectorised_starts_match_single_runs():
    problem = ReddiProblem(C=3.0)
    both = run_online(adamedu.Adam, problem, 60, x0=[0.3, -0.6], lr=0.05, decay=False, betas=(0.0, 0.1))
    assert np.all(both.lr == 0.05)
    for j, x0 in enumerate([0.3, -0.6]):
        single = run_online(adamedu.Adam, problem, 60, x0=x0, lr=0.05, decay=False, betas=(0.0, 0.1))
        np.testing.assert_array_equal(single.x[:, 0], both.x[:, j])
