"""Tests for the derivations of the chapters on the Adam algorithm, bias correction and AdaMax.

The ``derive_*`` functions assert their identities symbolically; these tests check the returned
expressions once more, run the paper's algorithms literally (Algorithms 1 and 2 of Kingma & Ba)
against the formulas, and compare the formulas with :mod:`adamedu.optim`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import adamedu
from adamedu import theory

# --- The paper's algorithms, written out literally --------------------------------------------


def algorithm1_updates(grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    """Δ_t for t = 1..T of Algorithm 1 on a 1-D gradient sequence (θ does not enter)."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t) if bias_correction else m
        v_hat = v / (1 - beta2**t) if bias_correction else v
        out.append(-lr * m_hat / (math.sqrt(v_hat) + eps))
    return np.array(out)


def efficient_updates(grads, epshat, lr=1e-3, beta1=0.9, beta2=0.999):
    """Δ_t of the paper's efficient form; ``epshat(t)`` gives ε̂ at step t."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        alpha_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        out.append(-alpha_t * m / (math.sqrt(v) + epshat(t)))
    return np.array(out)


def algorithm2_updates(grads, lr=2e-3, beta1=0.9, beta2=0.999, eps=0.0):
    """Δ_t of Algorithm 2 (AdaMax); ``eps`` > 0 adds PyTorch's ε to |g_t| inside the max."""
    m = u = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, abs(g) + eps)
        out.append(-lr / (1 - beta1**t) * m / u)
    return np.array(out)


def adamedu_updates(cls, grads, **hyper):
    x = np.zeros(1)
    opt = cls([x], **hyper)
    out = []
    for g in grads:
        before = x.copy()
        opt.step([np.array([g])])
        out.append(x[0] - before[0])
    return np.array(out)


gradient_sequences = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).filter(lambda g: abs(g) > 1e-6),
    min_size=1,
    max_size=40,
)
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))


# --- The Adam algorithm: the efficient one-line form -------------------------------------------


def test_efficient_form_matches_algorithm1_exactly_at_the_derived_epshat():
    d = theory.derive_efficient_form()
    s = d.symbols
    assert sp.simplify(d.matching_epshat - s["eps"] * sp.sqrt(1 - s["beta2"] ** s["t"])) == 0
    assert sp.simplify(d.step_size_t - s["alpha"] * sp.sqrt(1 - s["beta2"] ** s["t"])
                       / (1 - s["beta1"] ** s["t"])) == 0
    diff = d.algorithm1_update - d.efficient_update.subs(s["epshat"], d.matching_epshat)
    assert sp.simplify(diff) == 0
    # Any other epshat gives a different update (here: the constant epshat = eps, at t = 1).
    other = (d.algorithm1_update - d.efficient_update.subs(s["epshat"], s["eps"])).subs(s["t"], 1)
    assert sp.simplify(other) != 0


@settings(max_examples=60, deadline=None)
@given(grads=gradient_sequences, b=betas, eps=st.sampled_from([1e-8, 1e-3, 1.0]))
def test_efficient_form_numerically_equals_algorithm1(grads, b, eps):
    beta1, beta2 = b
    exact = algorithm1_updates(grads, beta1=beta1, beta2=beta2, eps=eps)
    efficient = efficient_updates(grads, lambda t: eps * math.sqrt(1 - beta2**t),
                                  beta1=beta1, beta2=beta2)
    np.testing.assert_allclose(efficient, exact, rtol=1e-9, atol=0)


@settings(max_examples=60, deadline=None)
@given(grads=gradient_sequences, b=betas, eps=st.sampled_from([1e-8, 1e-3, 1.0]))
def test_constant_epshat_ratio_formula_and_never_longer(grads, b, eps):
    beta1, beta2 = b
    d = theory.derive_efficient_form()
    s = d.symbols
    ratio = sp.lambdify((s["vhat"], s["eps"], s["beta2"], s["t"]), d.constant_epshat_ratio)
    exact = algorithm1_updates(grads, beta1=beta1, beta2=beta2, eps=eps)
    constant = efficient_updates(grads, lambda t: eps, beta1=beta1, beta2=beta2)
    v = 0.0
    for t, g in enumerate(grads, start=1):
        v = beta2 * v + (1 - beta2) * g * g
        expected = ratio(v / (1 - beta2**t), eps, beta2, t)
        assert expected <= 1.0 + 1e-15
        assert constant[t - 1] == pytest.approx(expected * exact[t - 1], rel=1e-9)


def test_constant_epshat_is_algorithm1_with_a_larger_eps():
    d = theory.derive_efficient_form()
    s = d.symbols
    implied = d.implied_eps_for_constant_epshat
    assert sp.simplify(implied - s["eps"] / sp.sqrt(1 - s["beta2"] ** s["t"])) == 0
    at_first_step = float(implied.subs({s["eps"]: 1e-8, s["beta2"]: 0.999, s["t"]: 1}))
    assert at_first_step == pytest.approx(1e-8 * math.sqrt(1000))


def test_adamedu_adam_is_algorithm1():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=50) * np.logspace(0, -9, 50)
    ours = adamedu_updates(adamedu.Adam, grads, lr=1e-3)
    np.testing.assert_allclose(ours, algorithm1_updates(grads), rtol=1e-10, atol=1e-17)


def test_adam_defaults_are_the_papers():
    import inspect

    params = inspect.signature(adamedu.Adam).parameters
    assert params["lr"].default == 1e-3
    assert params["betas"].default == (0.9, 0.999)
    assert params["eps"].default == 1e-8


# --- Bias correction --------------------------------------------------------------------------


def test_geometric_series_and_unbiasedness():
    d = theory.derive_bias_correction()
    s = d.symbols
    beta, beta1, beta2, t = s["beta"], s["beta1"], s["beta2"], s["t"]
    assert sp.simplify(d.geometric_sum.doit() - (1 - beta**t)) == 0
    assert sp.simplify(d.geometric_sum_value - (1 - beta**t)) == 0
    assert d.expected_vhat_stationary == s["second_moment"]
    assert d.expected_mhat_stationary == s["mean"]
    assert d.expected_v.subs(d.zeta, 0) == s["second_moment"] * (1 - beta2**t)
    assert sp.simplify(d.expected_vhat_with_init - s["second_moment"]
                       - beta2**t * s["v0"] / (1 - beta2**t)) == 0
    assert sp.simplify(d.uncorrected_step_ratio - (1 - beta1**t) / sp.sqrt(1 - beta2**t)) == 0
    assert d.corrected_step_ratio == 1
    assert sp.simplify(d.first_step_ratio - (1 - beta1) / sp.sqrt(1 - beta2)) == 0
    assert sp.simplify(d.near_one_scaled_ratio - (1 - beta1**t) / sp.sqrt(t)) == 0


def test_closed_form_of_v_matches_the_recursion():
    d = theory.derive_bias_correction()
    s = d.symbols
    rng = np.random.default_rng(1)
    g = rng.normal(size=7)
    v = 0.0
    for t in range(1, 8):
        v = 0.95 * v + 0.05 * g[t - 1] ** 2
        closed = d.v_closed_form.subs({s["beta2"]: sp.Rational(95, 100), s["t"]: t}).doit()
        closed = closed.subs({s["g"][k]: sp.Float(g[k - 1], 30) for k in range(1, t + 1)})
        assert float(closed) == pytest.approx(v, rel=1e-12)


def test_corrected_estimates_are_unbiased_for_stationary_gradients():
    # g ~ N(mu, sigma^2): E[g] = mu, E[g^2] = mu^2 + sigma^2. 20,000 independent runs of 30 steps.
    beta1, beta2, mu, sigma, runs, steps = 0.9, 0.999, 0.5, 2.0, 20_000, 30
    rng = np.random.default_rng(2)
    g = mu + sigma * rng.standard_normal((runs, steps))
    m = np.zeros(runs)
    v = np.zeros(runs)
    for t in range(1, steps + 1):
        m = beta1 * m + (1 - beta1) * g[:, t - 1]
        v = beta2 * v + (1 - beta2) * g[:, t - 1] ** 2
        if t in (1, 5, 30):
            v_hat, m_hat = v / (1 - beta2**t), m / (1 - beta1**t)
            tol_v = 5 * v_hat.std() / math.sqrt(runs)
            tol_m = 5 * m_hat.std() / math.sqrt(runs)
            assert abs(v_hat.mean() - (mu**2 + sigma**2)) < tol_v
            assert abs(m_hat.mean() - mu) < tol_m
            # The uncorrected v_t has mean E[g^2](1 - beta2^t): checked within its own standard
            # error (v's spread, not v̂'s, which is 1/(1 - beta2^t) times larger) ...
            tol_raw = 5 * v.std() / math.sqrt(runs)
            assert abs(v.mean() - (1 - beta2**t) * (mu**2 + sigma**2)) < tol_raw
            # ... and that target is far outside the noise of the corrected one's target.
            assert abs((1 - beta2**t) * (mu**2 + sigma**2) - (mu**2 + sigma**2)) > 100 * tol_raw
            assert v.mean() < 0.1 * (mu**2 + sigma**2)


def test_step_size_without_bias_correction_matches_the_derivation_and_algorithm1():
    d = theory.derive_bias_correction()
    s = d.symbols
    formula = sp.lambdify((s["beta1"], s["beta2"], s["t"]), d.uncorrected_step_ratio)
    t = np.arange(1, 200)
    for beta1, beta2 in [(0.9, 0.999), (0.9, 0.9999), (0.5, 0.99), (0.0, 0.999)]:
        ours = theory.step_size_without_bias_correction(beta1, beta2, t)
        np.testing.assert_allclose(ours, formula(beta1, beta2, t), rtol=1e-12)
        steps = algorithm1_updates(np.full(199, 3.7), lr=1.0, beta1=beta1, beta2=beta2, eps=0.0,
                                   bias_correction=False)
        np.testing.assert_allclose(-steps, ours, rtol=1e-9)
        corrected = algorithm1_updates(np.full(199, 3.7), lr=1.0, beta1=beta1, beta2=beta2,
                                       eps=0.0)
        np.testing.assert_allclose(-corrected, 1.0, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(g1=st.floats(1e-6, 1e6) | st.floats(-1e6, -1e-6), b=betas)
def test_first_uncorrected_step_is_independent_of_the_gradient(g1, b):
    beta1, beta2 = b
    step = algorithm1_updates([g1], lr=1.0, beta1=beta1, beta2=beta2, eps=0.0,
                              bias_correction=False)[0]
    assert abs(step) == pytest.approx(theory.step_size_without_bias_correction(beta1, beta2),
                                      rel=1e-9)


def test_adamedu_adam_without_bias_correction():
    steps = adamedu_updates(adamedu.Adam, np.full(30, 0.25), lr=1.0, eps=0.0,
                            bias_correction=False)
    expected = theory.step_size_without_bias_correction(0.9, 0.999, np.arange(1, 31))
    np.testing.assert_allclose(-steps, expected, rtol=1e-9)


def test_bias_correction_numbers_in_the_chapter():
    ratio = theory.step_size_without_bias_correction
    assert ratio(0.9, 0.999) == pytest.approx(math.sqrt(10))
    assert ratio(0.9, 0.9999) == pytest.approx(10.0)
    assert ratio(0.9, 0.99) == pytest.approx(1.0)
    t = np.arange(1, 20_001)
    r = ratio(0.9, 0.999, t)
    assert int(np.argmax(r)) + 1 == 12 and 6.5 < r.max() < 6.6
    assert int(np.argmax(ratio(0.9, 0.9999, t))) + 1 == 12


@pytest.mark.parametrize("bad", [dict(beta1=1.0, beta2=0.9), dict(beta1=0.9, beta2=-0.1)])
def test_step_size_without_bias_correction_rejects_bad_betas(bad):
    with pytest.raises(ValueError, match="beta"):
        theory.step_size_without_bias_correction(**bad)


def test_step_size_without_bias_correction_rejects_bad_steps():
    with pytest.raises(ValueError, match="Invalid t"):
        theory.step_size_without_bias_correction(0.9, 0.999, 0)
    with pytest.raises(ValueError, match="Invalid t"):
        theory.step_size_without_bias_correction(0.9, 0.999, np.array([1, 2, 0]))


# --- AdaMax -----------------------------------------------------------------------------------


def test_adamax_limit_results():
    d = theory.derive_adamax_limit()
    s = d.symbols
    beta1, beta2, t = s["beta1"], s["beta2"], s["t"]
    assert d.scale_factor_limit == 1
    assert d.count_factor_limit == 1
    assert d.bias_correction_limit == 1
    assert d.max_homogeneity == 0
    assert d.recursion.rhs == sp.Max(beta2 * s["u_prev"], sp.Abs(s["g"][t]))
    assert sp.simplify(d.step_ratio_supremum.subs(t, 1) - 1) == 0
    assert sp.simplify(d.step_ratio_supremum_limit - beta2 * (1 - beta1) / (beta2 - beta1)) == 0
    assert sp.simplify(d.step_ratio_supremum_second_step
                       - (beta1 + beta2) / (beta2 * (1 + beta1))) == 0


@settings(max_examples=40, deadline=None)
@given(grads=st.lists(st.just(0.0) | st.floats(0.05, 10) | st.floats(-10, -0.05),
                     min_size=1, max_size=20),
       beta2=st.floats(0.9, 0.999), p=st.sampled_from([2, 8, 32, 64]))
def test_lp_moment_is_sandwiched_around_the_max(grads, beta2, p):
    # v_t^(1/p) from the L^p recursion lies between (1-beta2^p)^(1/p)·M and n^(1/p)·M,
    # M = max_i beta2^(t-i)|g_i| = u_t from AdaMax's recursion.
    v = u = 0.0
    for g in grads:
        v = beta2**p * v + (1 - beta2**p) * abs(g) ** p
        u = max(beta2 * u, abs(g))
    n = len(grads)
    weighted = [beta2 ** (n - i) * abs(g) for i, g in enumerate(grads, start=1)]
    assert u == pytest.approx(max(weighted), rel=1e-12, abs=0)
    root = v ** (1 / p)
    assert (1 - beta2**p) ** (1 / p) * u * (1 - 1e-9) <= root <= n ** (1 / p) * u * (1 + 1e-9)


def test_adamax_supremum_is_attained():
    for beta1, beta2 in [(0.9, 0.999), (0.5, 0.9), (0.9, 0.95)]:
        for t in (1, 2, 10, 100):
            grads = beta2 ** (np.arange(1, t + 1) - t)
            steps = algorithm2_updates(grads, lr=1.0, beta1=beta1, beta2=beta2)
            expected = theory.adamax_step_ratio_supremum(beta1, beta2, t)
            assert abs(steps[-1]) == pytest.approx(expected, rel=1e-12)
    assert theory.adamax_step_ratio_supremum(0.9, 0.999, 1) == pytest.approx(1.0)
    assert theory.adamax_step_ratio_supremum(0.9, 0.999) == pytest.approx(0.0999 / 0.099)
    assert theory.adamax_step_ratio_supremum(0.9, 0.9) == math.inf
    assert theory.adamax_step_ratio_supremum(0.95, 0.9) == math.inf
    # Without momentum the step alpha * g_t / u_t never exceeds alpha, at any step.
    assert all(theory.adamax_step_ratio_supremum(0.0, 0.99, t) == 1.0 for t in (1, 2, 50))
    assert theory.adamax_step_ratio_supremum(0.0, 0.99) == 1.0


def test_adamax_supremum_matches_the_derivation_and_grows_with_t():
    d = theory.derive_adamax_limit()
    s = d.symbols
    formula = sp.lambdify((s["beta1"], s["beta2"], s["t"]), d.step_ratio_supremum)
    for beta1, beta2 in [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]:
        values = [theory.adamax_step_ratio_supremum(beta1, beta2, t) for t in range(1, 300)]
        np.testing.assert_allclose(values, [formula(beta1, beta2, t) for t in range(1, 300)],
                                   rtol=1e-10)
        assert np.all(np.diff(values) >= 0)
        assert values[-1] <= theory.adamax_step_ratio_supremum(beta1, beta2) * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(grads=gradient_sequences, b=st.tuples(st.floats(0.0, 0.95), st.floats(0.96, 0.9999)))
def test_no_gradient_sequence_beats_the_adamax_supremum(grads, b):
    beta1, beta2 = b
    steps = np.abs(algorithm2_updates(grads, lr=1.0, beta1=beta1, beta2=beta2))
    for t, step in enumerate(steps, start=1):
        assert step <= theory.adamax_step_ratio_supremum(beta1, beta2, t) * (1 + 1e-12)


def test_adamedu_adamax_is_algorithm2_with_eps_inside_the_max():
    rng = np.random.default_rng(3)
    grads = rng.normal(size=60) * np.logspace(0, -9, 60)
    ours = adamedu_updates(adamedu.Adamax, grads)
    np.testing.assert_allclose(ours, algorithm2_updates(grads, eps=1e-8), rtol=1e-10, atol=1e-17)
    # The worst-case sequence through adamedu.Adamax with eps = 0 reaches the supremum.
    grads = 0.999 ** (np.arange(1, 501) - 500.0)
    steps = adamedu_updates(adamedu.Adamax, grads, lr=1.0, eps=0.0)
    assert abs(steps[-1]) == pytest.approx(theory.adamax_step_ratio_supremum(0.9, 0.999, 500),
                                           rel=1e-12)
    assert abs(steps[-1]) > 1.0


@pytest.mark.parametrize("bad", [dict(beta1=1.0, beta2=0.9), dict(beta1=0.5, beta2=1.0),
                                 dict(beta1=0.5, beta2=0.9, t=0), dict(beta1=0.5, beta2=0.9, t=1.5)])
def test_adamax_supremum_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        theory.adamax_step_ratio_supremum(**bad)


# --- Readings of Adam: the AdaGrad limit, the Fisher reading, sign descent ----------------------


def test_adagrad_limit_weights_and_step():
    d = theory.derive_adagrad_limit()
    s = d.symbols
    assert sp.simplify(d.weight_limit - 1 / s["t"]) == 0
    assert d.uncorrected_weight_limit == 0
    # The limit is reached numerically: weights for beta2 close to 1 are all close to 1/t.
    w = sp.lambdify((s["beta2"], s["t"], s["i"]), d.weight)
    t = 50
    weights = np.array([w(1 - 1e-9, t, i) for i in range(1, t + 1)])
    np.testing.assert_allclose(weights, 1 / t, rtol=1e-6)
    assert abs(weights.sum() - 1) < 1e-9


def test_adagrad_limit_matches_adagrad_runs():
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(200, 2)) * [5.0, 1e-3]
    x_adam, x_ada = np.zeros(2), np.zeros(2)
    adam = adamedu.Adam([x_adam], lr=0.05, betas=(0.0, 1 - 1e-8), eps=0.0)
    ada = adamedu.Adagrad([x_ada], lr=0.05, eps=0.0)
    from adamedu.experiments import set_lr

    for step, g in enumerate(grads, start=1):
        set_lr(adam, 0.05 / math.sqrt(step))
        adam.step([g.copy()])
        ada.step([g.copy()])
    np.testing.assert_allclose(x_adam, x_ada, rtol=1e-5)


def test_fisher_reading_against_samples():
    d = theory.derive_fisher_reading()
    s = d.symbols
    rng = np.random.default_rng(4)
    tau, sigma = 1.5, 0.7
    x = tau * rng.standard_normal(500_000)
    e = sigma * rng.standard_normal(500_000)
    for delta in (0.0, 0.3):
        g = -(e - delta * x) * x / sigma**2
        values = {s["tau"]: tau, s["sigma"]: sigma, s["delta"]: delta}
        assert np.mean(g) == pytest.approx(float(d.mean_gradient.subs(values)), abs=5 * np.std(g) / math.sqrt(g.size))
        assert np.mean(g**2) == pytest.approx(float(d.second_moment.subs(values)), rel=0.02)
    assert float(d.hessian.subs({s["tau"]: tau, s["sigma"]: sigma})) == pytest.approx(tau**2 / sigma**2)
    assert sp.simplify(d.excess_over_hessian.subs(s["delta"], 0)) == 0


def test_sign_reading_matches_adam_steps():
    d = theory.derive_sign_reading()
    assert sp.simplify(d.model_limit - d.factor_in_r) == 0
    rng = np.random.default_rng(5)
    x = np.zeros(300)
    opt = adamedu.Adam([x], lr=1.0, eps=0.0, track_updates=True)
    for _ in range(40):
        opt.step([-0.2 + rng.standard_normal(x.size)])
    state = opt.state[0]
    m_hat = state["exp_avg"] / (1 - 0.9**40)
    v_hat = state["exp_avg_sq"] / (1 - 0.999**40)
    ratio = sp.lambdify((d.symbols["m"], d.symbols["s"]), d.sign_form)
    np.testing.assert_allclose(-opt.last_update[0], ratio(m_hat, np.sqrt(v_hat - m_hat**2)), rtol=1e-9)
