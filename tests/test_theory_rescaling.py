"""Tests for derive_rescaling_invariance: the symbolic results, and adamedu runs that obey them."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from adamedu import SGD, Adam, run
from adamedu import problems as P
from adamedu.theory import adam_step_factor, derive_rescaling_invariance


@pytest.fixture(scope="module")
def R():
    return derive_rescaling_invariance()


def test_symbolic_results(R):
    s = R.symbols
    c, k, r, r1, alpha, eps, delta = (s[n] for n in ("c", "k", "r", "r1", "alpha", "eps", "delta"))
    assert R.m_factor == c and R.v_factor == c**2
    assert R.update_factor_eps0 == 1 and R.update_factor_negative_c == -1
    assert R.coupling_free and R.coordinates == 3 and R.sequence_length == 4
    assert R.non_diagonal_first_steps[0] != R.non_diagonal_first_steps[1]
    assert sp.simplify(R.ratio_to_invariant - r / (1 + r)) == 0
    assert sp.simplify(R.relative_deviation - 1 / (1 + r)) == 0
    assert sp.simplify(R.ratio_to_sgd - 1 / (1 + r)) == 0
    assert sp.simplify(R.ratio_between_scales - c * (1 + r1) / (1 + c * r1)) == 0
    assert sp.simplify(R.r_invariant_within - (1 - delta) / delta) == 0
    assert sp.simplify(R.r_sgd_within - delta / (1 - delta)) == 0
    assert R.sgd_update_factor == c and R.reparam_gradient_factor == 1 / k
    assert R.adam_equivalent_lr == k * alpha and R.adam_equivalent_eps == eps / k
    assert R.sgd_equivalent_lr == k**2 * alpha and R.adam_fixed_eps_implied_eps == k * eps
    assert R.relu_step_factors == {"SGD": (1 / k**2, k**2), "Adam": (1 / k, k)}
    assert R.relu_equal_only_at["Adam"] == {1, s["a"] / s["w"]}
    # the explicit n-step update has no c in it and involves every gradient
    assert R.explicit_update.free_symbols >= set(s["gradients"])


def test_derivation_is_cached():
    assert derive_rescaling_invariance() is derive_rescaling_invariance()


def test_adam_step_factor():
    np.testing.assert_allclose(adam_step_factor([0.0, 1.0, 99.0]), [0.0, 0.5, 0.99])
    with pytest.raises(ValueError, match="Invalid r"):
        adam_step_factor(-1.0)


def adam_updates(grads, eps=0.0, **hp):
    x = np.zeros(grads.shape[1])
    opt = Adam([x], lr=0.1, eps=eps, track_updates=True, **hp)
    out = []
    for g in grads:
        opt.step([g])
        out.append(opt.last_update[0].copy())
    return np.array(out), opt


# non-zero entries: with eps = 0 a coordinate that has only seen zeros divides 0 by 0
entries = st.builds(lambda s, m: s * m, st.sampled_from([-1.0, 1.0]), st.floats(1e-3, 1e3))
gradient_sequences = st.integers(1, 30).flatmap(
    lambda n: st.lists(st.lists(entries, min_size=3, max_size=3), min_size=n, max_size=n))


@settings(max_examples=30, deadline=None)
@given(gradient_sequences, st.lists(st.integers(-20, 20), min_size=3, max_size=3))
def test_eps0_power_of_two_diagonal_rescaling_is_bitwise(grads, exponents):
    grads = np.array(grads)
    D = np.ldexp(1.0, exponents)  # exact: a power of two
    a, _ = adam_updates(grads)
    b, _ = adam_updates(grads * D)
    np.testing.assert_array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(gradient_sequences, st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=3))
def test_eps0_any_positive_diagonal_rescaling_within_rounding(grads, factors):
    grads = np.array(grads)
    a, _ = adam_updates(grads)
    b, _ = adam_updates(grads * np.array(factors))
    # Relative to the step, rounding is ~1e-16; relative to a coordinate whose m̂ nearly cancels
    # it can be larger, so the absolute floor is set against the step's scale (lr = 0.1).
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_non_diagonal_rescaling_changes_the_step():
    g = np.array([[1.0, -2.0]])
    M = np.array([[1.0, 1.0], [0.0, 1.0]])
    a, _ = adam_updates(g)
    b, _ = adam_updates(g @ M.T)
    np.testing.assert_allclose(a / 0.1, [[-1.0, 1.0]])
    np.testing.assert_allclose(b / 0.1, [[1.0, 1.0]])


@pytest.mark.parametrize("c", [1e-12, 1e-9, 1e-8, 1e-6, 1.0, 1e4])
def test_eps_effect_matches_r_over_one_plus_r(c):
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((25, 4))
    eps = 1e-8
    ideal, _ = adam_updates(grads)  # eps = 0: the invariant step
    actual, opt = adam_updates(c * grads, eps=eps)
    vhat = opt.state[0]["exp_avg_sq"] / (1 - 0.999**25)
    r = np.sqrt(vhat) / eps
    np.testing.assert_allclose(actual[-1] / ideal[-1], adam_step_factor(r), rtol=1e-10)
    # and against SGD-with-momentum's step lr/eps · m̂ in the small-r regime
    mhat = opt.state[0]["exp_avg"] / (1 - 0.9**25)
    np.testing.assert_allclose(actual[-1] / (-0.1 / eps * mhat), 1 / (1 + r), rtol=1e-10)


@pytest.mark.parametrize("k", [8.0, 10.0])
def test_parameter_rescaling_adam_needs_lr_times_k_and_eps_over_k(k):
    base = P.LogisticRegression()
    scaled = P.Rescaled(base, param_scale=k)
    a = run(Adam, base, 60, seed=2, lr=1e-3, eps=1e-8, record=("params",))
    b = run(Adam, scaled, 60, seed=2, lr=k * 1e-3, eps=1e-8 / k, record=("params",))
    if math.log2(k).is_integer():
        np.testing.assert_array_equal(b.params / k, a.params)
    else:
        np.testing.assert_allclose(b.params / k, a.params, rtol=1e-9, atol=1e-15)
    wrong = run(Adam, scaled, 60, seed=2, lr=1e-3, eps=1e-8 / k, record=("params",))
    assert np.max(np.abs(wrong.params / k - a.params)) > 0.1 * np.max(np.abs(a.params))


def test_parameter_rescaling_sgd_needs_lr_times_k_squared():
    base = P.LogisticRegression()
    k = 4.0
    scaled = P.Rescaled(base, param_scale=k)
    a = run(SGD, base, 40, seed=1, lr=0.1, momentum=0.9, record=("params",))
    b = run(SGD, scaled, 40, seed=1, lr=0.1 * k**2, momentum=0.9, record=("params",))
    np.testing.assert_allclose(b.params / k, a.params, rtol=1e-12, atol=1e-15)
    c = run(SGD, scaled, 40, seed=1, lr=0.1 * k, momentum=0.9, record=("params",))
    assert np.max(np.abs(c.params / k - a.params)) > 0.1 * np.max(np.abs(a.params))


def test_scale_jump_formula_matches_adam(R):
    s_ = R.symbols
    ratio = sp.lambdify((s_["s"], s_["steps_after"], s_["beta1"], s_["beta2"]), R.scale_jump_step_ratio)
    b1, b2, warm, after = 0.9, 0.99, 4000, 300  # warm-up long enough that 1 - b2**t == 1 in floats
    for s in (2.0, 0.5):
        x = np.zeros(1)
        opt = Adam([x], lr=1.0, betas=(b1, b2), eps=0.0, track_updates=True)
        for _ in range(warm):
            opt.step([np.ones(1)])
        steps = []
        for _ in range(after):
            opt.step([np.full(1, s)])
            steps.append(-opt.last_update[0][0])
        k = np.arange(1, after + 1)
        np.testing.assert_allclose(steps, ratio(s, k, b1, b2), rtol=1e-10)


def test_loss_scale_with_coupled_weight_decay_is_eps_and_decay_over_s(R):
    assert R.loss_scale_equivalents["weight_decay"] == R.symbols["lam"] / R.symbols["S"]
    p = P.NoisyQuadratic(noise=0.5, dim=5, x0=np.linspace(-1, 1, 5))
    S = 2.0**12
    a = run(Adam, P.Rescaled(p, grad_scale=S), 50, seed=3, lr=0.01, weight_decay=0.1, record=("params",))
    b = run(Adam, p, 50, seed=3, lr=0.01, weight_decay=0.1 / S, eps=1e-8 / S, record=("params",))
    np.testing.assert_array_equal(a.params, b.params)
