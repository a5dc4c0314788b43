"""The step-size supremum (trust region) and the SNR noise model in adamedu.theory."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from adamedu import Adam
from adamedu.theory import (
    derive_snr_model,
    derive_step_bound,
    expected_abs_snr,
    paper_step_bound,
    snr_noise_scale,
    step_ratio,
    worst_case_gradients,
    worst_case_step_ratio,
)

BETAS = [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9), (0.0, 0.999), (0.95, 0.95), (0.99, 0.999), (0.8, 0.6)]


def adam_step_ratios(gradients, beta1, beta2, lr=1.0):
    """|Δ_t|/lr for every step of adamedu.Adam (eps = 0) fed the given scalar gradients."""
    x = np.zeros(1)
    opt = Adam([x], lr=lr, betas=(beta1, beta2), eps=0.0, track_updates=True)
    out = []
    for g in gradients:
        opt.step([np.array([g])])
        out.append(abs(opt.last_update[0][0]) / lr)
    return np.array(out)


# --- The symbolic derivation -------------------------------------------------------------------


def test_derive_step_bound_closed_forms_match_the_numeric_functions():
    d = derive_step_bound()
    b1, b2, t = d.symbols["beta1"], d.symbols["beta2"], d.symbols["t"]
    S_t = sp.lambdify((b1, b2, t), d.supremum.rhs)
    S_inf = sp.lambdify((b1, b2), d.supremum_limit.rhs)
    S_eq = sp.lambdify((b1, b2, t), d.supremum_at_equality.rhs)
    for beta1, beta2 in [(0.9, 0.999), (0.5, 0.9), (0.3, 0.2), (0.95, 0.95)]:
        for steps in (1, 2, 7, 50, 400):
            assert S_t(beta1, beta2, steps) == pytest.approx(worst_case_step_ratio(beta1, beta2, steps), rel=1e-12)
        if beta1**2 < beta2:
            assert S_inf(beta1, beta2) == pytest.approx(worst_case_step_ratio(beta1, beta2), rel=1e-14)
    # beta1² = beta2: the q = 1 branch.
    assert S_eq(0.5, 0.25, 30) == pytest.approx(worst_case_step_ratio(0.5, 0.25, 30), rel=1e-13)


def test_derive_step_bound_paper_figure_and_excess():
    d = derive_step_bound()
    b1, b2 = d.symbols["beta1"], d.symbols["beta2"]
    figure = d.paper_sparse_limit.rhs
    assert float(figure.subs({b1: 0.9, b2: 0.999})) == pytest.approx(paper_step_bound(0.9, 0.999), rel=1e-14)
    excess = d.excess_factor.rhs
    assert float((figure * excess).subs({b1: 0.9, b2: 0.999})) == pytest.approx(worst_case_step_ratio(0.9, 0.999))
    assert d.constant_ratio.rhs == 1


# --- paper_step_bound and worst_case_step_ratio ------------------------------------------------


def test_paper_step_bound_as_stated():
    assert paper_step_bound(0.9, 0.999) == pytest.approx(0.1 / math.sqrt(0.001))
    assert paper_step_bound(0.9, 0.99) == 1.0  # 1 - beta1 = sqrt(1 - beta2): the "otherwise" case
    assert paper_step_bound(0.99, 0.9) == 1.0
    assert paper_step_bound(0.0, 0.999) == pytest.approx(1 / math.sqrt(0.001))


@pytest.mark.parametrize("bad", [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, float("nan"))])
def test_invalid_betas_raise_value_error_naming_them(bad):
    name = "beta1" if not 0 <= bad[0] < 1 else "beta2"
    for fn in (paper_step_bound, worst_case_step_ratio):
        with pytest.raises(ValueError, match=name):
            fn(*bad)
    with pytest.raises(ValueError, match=name):
        worst_case_gradients(*bad, 5)


@pytest.mark.parametrize("bad_t", [0, -3, 2.5, True])
def test_invalid_step_raises(bad_t):
    with pytest.raises(ValueError, match="step t"):
        worst_case_step_ratio(0.9, 0.999, bad_t)


def test_special_cases_of_the_supremum():
    for beta1, beta2 in BETAS:
        assert worst_case_step_ratio(beta1, beta2, 1) == pytest.approx(1.0, rel=1e-15)
    # beta1 = beta2: a/b is constant, the constant sequence is the worst case, the supremum is 1.
    for beta in (0.5, 0.9, 0.999):
        for steps in (2, 10, 1000):
            assert worst_case_step_ratio(beta, beta, steps) == pytest.approx(1.0, rel=1e-12)
        assert worst_case_step_ratio(beta, beta) == pytest.approx(1.0, rel=1e-12)
    # beta1 = 0: the single spike at step t, whose limit is the paper's figure.
    assert worst_case_step_ratio(0.0, 0.999, 10) == pytest.approx(math.sqrt((1 - 0.999**10) / 0.001))
    assert worst_case_step_ratio(0.0, 0.999) == pytest.approx(paper_step_bound(0.0, 0.999))
    # beta1² >= beta2: unbounded in t; sqrt(t) growth at equality.
    assert worst_case_step_ratio(0.9, 0.81) == math.inf
    assert worst_case_step_ratio(0.95, 0.81) == math.inf
    ratio = worst_case_step_ratio(0.9, 0.81, 40_000) / worst_case_step_ratio(0.9, 0.81, 10_000)
    assert ratio == pytest.approx(2.0, rel=1e-6)
    assert worst_case_step_ratio(0.95, 0.81, 10**6) == math.inf  # overflow of q**t reported as inf
    assert worst_case_step_ratio(0.5, 0.0, 1) == 1.0 and worst_case_step_ratio(0.5, 0.0, 3) == math.inf
    assert worst_case_step_ratio(0.0, 0.0, 3) == 1.0


def test_defaults_supremum_is_far_above_the_paper():
    sup = worst_case_step_ratio(0.9, 0.999)
    assert sup == pytest.approx(7.2703, abs=1e-4)
    assert sup > 2.29 * paper_step_bound(0.9, 0.999)


def test_supremum_exceeds_one_unless_beta1_equals_beta2():
    for beta1, beta2 in BETAS:
        if beta1 != beta2:
            assert worst_case_step_ratio(beta1, beta2, 2) > 1.0


# --- Attained: the worst-case sequence, by recurrences and through adamedu.Adam ----------------


@pytest.mark.parametrize("beta1,beta2", [b for b in BETAS])
@pytest.mark.parametrize("steps", [1, 2, 10, 100, 1000])
def test_worst_case_gradients_attain_the_supremum(beta1, beta2, steps):
    g = worst_case_gradients(beta1, beta2, steps)
    assert g.shape == (steps,) and g[-1] == 1.0
    assert step_ratio(g, beta1, beta2) == pytest.approx(worst_case_step_ratio(beta1, beta2, steps), rel=1e-12)


@pytest.mark.parametrize("beta1,beta2", [(0.9, 0.999), (0.5, 0.9), (0.9, 0.99), (0.8, 0.6)])
def test_adam_reaches_the_supremum(beta1, beta2):
    steps, lr = 200, 1e-3
    observed = adam_step_ratios(worst_case_gradients(beta1, beta2, steps), beta1, beta2, lr=lr)
    assert observed[-1] == pytest.approx(worst_case_step_ratio(beta1, beta2, steps), rel=1e-12)


def test_perturbing_the_worst_case_lowers_the_ratio():
    rng = np.random.default_rng(0)
    g = worst_case_gradients(0.9, 0.999, 50)
    sup = worst_case_step_ratio(0.9, 0.999, 50)
    for _ in range(20):
        assert step_ratio(g * (1 + 0.1 * rng.standard_normal(50)), 0.9, 0.999) < sup


betas_strategy = st.tuples(
    st.floats(0.0, 0.99, allow_nan=False), st.floats(0.01, 0.999, allow_nan=False)
)
gradient_values = st.one_of(
    st.just(0.0), st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
)


@settings(max_examples=300, deadline=None)
@given(betas=betas_strategy, grads=st.lists(gradient_values, min_size=1, max_size=60))
def test_no_sequence_beats_the_supremum(betas, grads):
    beta1, beta2 = betas
    g = np.array(grads)
    if not np.any(g != 0):
        return  # v̂_t = 0: the ratio is undefined (Adam's eps handles it)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = abs(step_ratio(g, beta1, beta2))
    if not np.isfinite(ratio):
        return  # every non-zero gradient underflowed in v̂_t
    assert ratio <= worst_case_step_ratio(beta1, beta2, len(g)) * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    betas=betas_strategy,
    grads=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=40),
    signs=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_no_sequence_beats_the_supremum_in_adam(betas, grads, signs):
    beta1, beta2 = betas
    g = np.array([x if s else -x for x, s in zip(grads, signs)])
    observed = adam_step_ratios(g, beta1, beta2)
    bounds = np.array([worst_case_step_ratio(beta1, beta2, k) for k in range(1, len(g) + 1)])
    assert np.all(observed <= bounds * (1 + 1e-9))


# --- The SNR noise model ----------------------------------------------------------------------


def test_derive_snr_model_matches_expected_abs_snr():
    d = derive_snr_model()
    r, c = d.symbols["r"], d.symbols["c"]
    model = sp.lambdify((r, c), d.expected_abs_snr.rhs, "math")
    for beta1 in (0.0, 0.5, 0.9, 0.99):
        scale = snr_noise_scale(beta1)
        for ratio in (1e-3, 0.1, 0.5, 1.0, 3.0, 20.0):
            assert expected_abs_snr(ratio, beta1) == pytest.approx(model(ratio, scale), rel=1e-12)
    floor = sp.lambdify(c, d.floor.rhs)
    assert expected_abs_snr(0.0, 0.9) == pytest.approx(floor(snr_noise_scale(0.9)), rel=1e-12)
    assert expected_abs_snr(0.0, 0.9) == pytest.approx(math.sqrt(0.2 / (1.9 * math.pi)), rel=1e-12)
    assert d.ceiling.rhs == 1


def test_snr_noise_scale_matches_the_derived_variance():
    d = derive_snr_model()
    b1, t, sigma = d.symbols["beta1"], d.symbols["t"], d.symbols["sigma"]
    var = sp.lambdify((b1, t), d.var_m_hat.rhs.subs(sigma, 1))
    for beta1 in (0.5, 0.9):
        for steps in (1, 5, 100):
            assert snr_noise_scale(beta1, steps) ** 2 == pytest.approx(var(beta1, steps), rel=1e-12)
    assert snr_noise_scale(0.9, 1) == pytest.approx(1.0)  # m̂_1 = g_1
    with pytest.raises(ValueError, match="beta1"):
        snr_noise_scale(1.0)


def test_expected_abs_snr_increases_with_the_distance():
    r = np.linspace(0.0, 10.0, 2001)
    for beta1 in (0.0, 0.5, 0.9, 0.99):
        values = expected_abs_snr(r, beta1)
        assert np.all(np.diff(values) > 0)
        assert values[0] == pytest.approx(snr_noise_scale(beta1) * math.sqrt(2 / math.pi))
        assert 0.99 < values[-1] < 1.0


def simulate_abs_snr(ratio, beta1, beta2, steps, paths, seed):
    """Mean and standard error of |m̂_t/sqrt(v̂_t)| over independent paths of g = ratio + ξ."""
    rng = np.random.default_rng(seed)
    m = np.zeros(paths)
    v = np.zeros(paths)
    for _ in range(steps):
        g = ratio + rng.standard_normal(paths)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
    x = np.abs(m / (1 - beta1**steps) / np.sqrt(v / (1 - beta2**steps)))
    return x.mean(), x.std(ddof=1) / math.sqrt(paths)


@pytest.mark.parametrize("beta1,beta2", [(0.9, 0.999), (0.9, 0.99), (0.0, 0.999)])
@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0, 3.0])
def test_expected_abs_snr_against_monte_carlo(beta1, beta2, ratio):
    # Tolerance: 4 standard errors of the Monte-Carlo mean plus 1% for the approximations (v̂_t
    # replaced by its mean, m̂_t treated as normal), whose second-order size is
    # (3/4)(1 - beta2)/(1 + beta2) <= 0.4% here.
    steps = 200
    mean, se = simulate_abs_snr(ratio, beta1, beta2, steps, paths=20_000, seed=1)
    predicted = expected_abs_snr(ratio, beta1, t=steps)
    assert abs(mean - predicted) <= 4 * se + 0.01 * predicted


def test_constant_gradient_ratio_without_bias_correction():
    d = derive_snr_model()
    b1, b2, t = d.symbols["beta1"], d.symbols["beta2"], d.symbols["t"]
    uncorrected = sp.lambdify((b1, b2, t), d.constant_uncorrected.rhs)
    x = np.zeros(1)
    opt = Adam([x], lr=1.0, eps=0.0, bias_correction=False, track_updates=True)
    corrected_x = np.zeros(1)
    corrected = Adam([corrected_x], lr=1.0, eps=0.0, track_updates=True)
    for step in range(1, 31):
        opt.step([np.array([2.5])])
        corrected.step([np.array([2.5])])
        assert -opt.last_update[0][0] == pytest.approx(uncorrected(0.9, 0.999, step), rel=1e-12)
        assert -corrected.last_update[0][0] == pytest.approx(1.0, rel=1e-12)
    assert uncorrected(0.9, 0.999, 1) == pytest.approx(paper_step_bound(0.9, 0.999))
    assert d.constant_corrected.rhs == 1


def test_pure_noise_with_beta1_zero_has_unit_scale():
    # beta1 = 0, E[g] = 0: m̂_t/sqrt(v̂_t) = g_t/sqrt(v̂_t) has standard deviation close to 1.
    rng = np.random.default_rng(3)
    paths, steps, beta2 = 20_000, 300, 0.999
    v = np.zeros(paths)
    for _ in range(steps):
        g = rng.standard_normal(paths)
        v = beta2 * v + (1 - beta2) * g * g
    snr = g / np.sqrt(v / (1 - beta2**steps))
    assert snr.std() == pytest.approx(1.0, abs=0.03)
    assert derive_snr_model().pure_noise_second_moment.rhs == 1


def test_snr_model_fluctuation_of_v_hat_and_noise_ball_fields():
    d = derive_snr_model()
    assert d.long_run_variance.rhs == 1
    b2, r, t = d.symbols["beta2"], d.symbols["r"], d.symbols["t"]
    rel = sp.lambdify((b2, t, r), d.rel_var_v_hat.rhs)
    rel_inf = sp.lambdify((b2, r), d.rel_var_v_hat_stationary.rhs)
    assert rel(0.999, 10**6, 0.0) == pytest.approx(rel_inf(0.999, 0.0)) == pytest.approx(2 * 0.001 / 1.999)
    # Sampled relative variance of v̂_t for pure noise matches the formula.
    rng = np.random.default_rng(11)
    paths, steps, beta2 = 20_000, 100, 0.99
    v = np.zeros(paths)
    for _ in range(steps):
        g = rng.standard_normal(paths)
        v = beta2 * v + (1 - beta2) * g * g
    v_hat = v / (1 - beta2**steps)
    assert v_hat.var() / v_hat.mean() ** 2 == pytest.approx(rel(beta2, steps, 0.0), rel=0.05)
    alpha, a, sigma = d.symbols["alpha"], d.symbols["a"], d.symbols["sigma"]
    radius = sp.lambdify((alpha, a, sigma), d.noise_ball_mean_abs.rhs)
    assert radius(1e-3, 10.0, 1.0) == pytest.approx(math.sqrt(1e-3 / (10 * math.pi)))


def test_noise_ball_on_the_noisy_quadratic():
    from adamedu import run
    from adamedu.problems import NoisyQuadratic

    d = derive_snr_model()
    radius = sp.lambdify((d.symbols["alpha"], d.symbols["a"], d.symbols["sigma"]), d.noise_ball_mean_abs.rhs)
    problem = NoisyQuadratic(curvature=10.0, noise=1.0, dim=100, x0=np.zeros(100))
    trace = run(Adam, problem, 3000, seed=2, lr=1e-3, record=("params",))
    assert np.abs(trace.params[1000:]).mean() == pytest.approx(radius(1e-3, 10.0, 1.0), rel=0.1)


# --- Trains of equal spikes after a quiet history ------------------------------------------------


def test_spike_train_formula_matches_adam_runs():
    from adamedu.theory import spike_train_step_ratio

    d = derive_step_bound()
    b1, b2, t, k = (d.symbols[n] for n in ("beta1", "beta2", "t", "k"))
    closed = sp.lambdify((b1, b2, t, k), d.spike_train.rhs)
    for beta1, beta2 in [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9), (0.0, 0.999)]:
        for spikes, steps in [(1, 50), (2, 50), (3, 400), (12, 400)]:
            x = np.zeros(1)
            # eps = 1e-300 turns the 0/0 of the quiet steps into zero steps and nothing else
            opt = Adam([x], lr=1.0, betas=(beta1, beta2), eps=1e-300, track_updates=True)
            for step in range(steps):
                opt.step([np.array([-2.5 if step >= steps - spikes else 0.0])])
            observed = abs(opt.last_update[0][0])
            expected = spike_train_step_ratio(beta1, beta2, spikes, steps)
            assert observed == pytest.approx(expected, rel=1e-9)
            assert expected == pytest.approx(closed(beta1, beta2, steps, spikes), rel=1e-12)
            assert expected <= worst_case_step_ratio(beta1, beta2, steps) * (1 + 1e-12)


def test_adjacent_spikes_beat_the_papers_figure_at_the_defaults():
    from adamedu.theory import spike_train_step_ratio

    assert spike_train_step_ratio(0.9, 0.999, 1) == pytest.approx(paper_step_bound(0.9, 0.999), rel=1e-12)
    assert round(spike_train_step_ratio(0.9, 0.999, 2), 2) == 4.25
    assert round(spike_train_step_ratio(0.9, 0.999, 3), 2) == 4.95
    d = derive_step_bound()
    limit = sp.lambdify((d.symbols["beta1"], d.symbols["beta2"], d.symbols["k"]), d.spike_train_limit.rhs)
    assert limit(0.9, 0.999, 2) == pytest.approx(spike_train_step_ratio(0.9, 0.999, 2), rel=1e-12)
    with pytest.raises(ValueError):
        spike_train_step_ratio(0.9, 0.999, 3, t=2)


def test_noise_ball_exact_ar1_variance_against_simulation():
    # x_(t+1) = rho x_t - alpha e_t with e an AR(1) noise of variance c² and correlation beta1^|k|.
    d = derive_snr_model()
    s = d.symbols
    exact = sp.lambdify((s["alpha"], s["c"], s["rho"], s["beta1"]), d.ar1_variance.rhs)
    alpha, rho, beta1, c = 0.05, 0.9, 0.8, 0.6
    rng = np.random.default_rng(6)
    n, chains = 4000, 2000
    e = np.zeros(chains)
    x = np.zeros(chains)
    samples = []
    for t in range(n):
        e = beta1 * e + c * math.sqrt(1 - beta1**2) * rng.standard_normal(chains)
        x = rho * x - alpha * e
        if t > 500:
            samples.append(x.copy())
    var = np.var(np.array(samples))
    assert var == pytest.approx(exact(alpha, c, rho, beta1), rel=0.03)
