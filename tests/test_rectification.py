"""adamedu.rectification: ρ_t and r_t against the RAdam optimizer, the variance against sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import adamedu
from adamedu import rectification as rect


def test_rho_t_is_the_simple_average_with_the_same_mean_age():
    d = rect.derive_sma_length()
    b, t = d.symbols["beta2"], d.symbols["t"]
    for beta2 in (0.9, 0.99, 0.999):
        for step in (1, 2, 7, 50, 400):
            weights = (1 - beta2) * beta2 ** np.arange(step) / (1 - beta2**step)  # ages 0..t-1
            age = float(np.sum(weights * np.arange(step)))
            assert float(d.rho_t.subs({b: beta2, t: step})) == pytest.approx(2 * age + 1, rel=1e-9)
            assert rect.sma_length(step, beta2) == pytest.approx(2 * age + 1, rel=1e-9)


def test_rectification_is_the_one_radam_applies():
    """RAdam's step over Adam's (same moments, ε negligible) is r_t from step 6 on, 0-adapted before."""
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(40, 5))
    lr, eps = 1e-3, 1e-300
    radam = adamedu.RAdam([np.zeros(5)], lr=lr, eps=eps, track_updates=True)
    adam = adamedu.Adam([np.zeros(5)], lr=lr, eps=eps, track_updates=True)
    r = rect.rectification(np.arange(1, 41), 0.999)
    assert rect.first_rectified_step(0.999) == 6
    for t, g in enumerate(grads, start=1):
        radam.step([g])
        adam.step([g])
        if t >= 6:
            np.testing.assert_allclose(radam.last_update[0] / adam.last_update[0], r[t - 1], rtol=1e-9)
        else:
            assert r[t - 1] == 0
            m_hat = radam.state[0]["exp_avg"] / (1 - 0.9**t)
            np.testing.assert_allclose(radam.last_update[0], -lr * m_hat, rtol=1e-12)


def test_variance_formulas_against_sampling():
    """ψ = √(ρ/X), X ~ χ²_ρ: exact and first-order variances against 400,000 draws."""
    d = rect.derive_rectification()
    rng = np.random.default_rng(1)
    for rho in (6, 12, 40):
        psi = np.sqrt(rho / rng.chisquare(rho, size=400_000))
        exact = rect.exact_psi_variance(rho)
        assert float(d.exact_variance.subs({d.symbols["rho"]: rho, d.symbols["sigma"]: 1})) == pytest.approx(exact)
        assert abs(psi.var() / exact - 1) < 0.05
    assert rect.approximate_psi_variance(40) / rect.exact_psi_variance(40) == pytest.approx(1, abs=0.1)
    # the first-order formula overstates the variance for few degrees of freedom
    assert rect.approximate_psi_variance(6) > 1.5 * rect.exact_psi_variance(6)


def test_measured_spread_follows_the_degrees_of_freedom():
    spread = rect.adaptive_lr_spread(0.99, 300, replicas=8000, seed=2)
    t = np.arange(1, 301)
    rho = rect.sma_length(t, 0.99)
    later = rho > 20
    ratio = spread[later] / np.sqrt(rect.approximate_psi_variance(rho[later]))
    assert np.all(np.abs(ratio - 1) < 0.15)
    assert spread[0] > 10 * spread[-1]


def test_radam_never_adapts_with_small_beta2():
    assert rect.sma_length_limit(0.5) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        rect.first_rectified_step(0.5)
    assert np.all(rect.rectification(np.arange(1, 100), 0.5) == 0)


def test_linear_warmup_and_bad_input():
    np.testing.assert_allclose(rect.linear_warmup([0, 1000, 2000, 4000], 2000), [0, 0.5, 1, 1])
    with pytest.raises(ValueError):
        rect.linear_warmup(1, 0)
    with pytest.raises(ValueError):
        rect.sma_length(0, 0.9)
    assert math.isclose(rect.sma_length_limit(0.999), 1999.0)
    assert sp.simplify(rect.derive_sma_length().rho_inf - (2 / (1 - rect.derive_sma_length().symbols["beta2"]) - 1)) == 0
