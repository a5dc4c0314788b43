"""The algorithms: what each optimizer computes beyond matching PyTorch (laws, extras, state)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamedu import optim
from adamedu.optim import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from tests.optim.reference import CLASSES, DATA, ref

def test_radam_threshold_fixtures_take_both_branches():
    # beta2 = 0.7: rho_t > 5 first at some step > 1; beta2 = 0.6: never (rho_inf = 4).
    for beta2, expect_switch in [(0.7, True), (0.6, False)]:
        rho_inf = 2 / (1 - beta2) - 1
        rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, 301)]
        switched = [r > 5 for r in rho]
        assert any(switched) == expect_switch
        if expect_switch:
            assert not switched[0] and switched[-1]


def test_radam_default_is_momentum_sgd_for_five_steps():
    # docstring claim: with beta2 = 0.999, rho_t > 5 first holds at step 6
    rng = np.random.default_rng(5)
    x = rng.standard_normal(4)
    y, m = x.copy(), np.zeros(4)
    opt = RAdam([x], lr=0.01, track_updates=True)
    for t in range(1, 7):
        g = rng.standard_normal(4)
        opt.step([g])
        m = 0.9 * m + 0.1 * g
        y = y - 0.01 * m / (1 - 0.9**t)
        const = np.all(opt.last_step_size[0] == opt.last_step_size[0][0])
        if t <= 5:
            assert const
            np.testing.assert_allclose(x, y, rtol=1e-14)
        else:
            assert not const and not np.allclose(x, y, rtol=1e-6)


# -------------------------------------------------------------------------------------------
# (d) Adam's invariance to diagonal rescaling of the gradient (eps = 0)
def adam_run(grads, d, **kwargs):
    x = np.zeros(grads.shape[1])
    opt = Adam([x], eps=0.0, **kwargs)
    for g in grads:
        opt.step([d * g])
    return x


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    exponents=st.lists(st.integers(-30, 30), min_size=4, max_size=4),
    amsgrad=st.booleans(),
    steps=st.integers(1, 30),
)
def test_adam_eps0_invariant_under_power_of_two_diagonal_scaling(seed, exponents, amsgrad, steps):
    # Multiplying by 2^k is exact, sqrt(4^k v) = 2^k sqrt(v) exactly (sqrt is correctly
    # rounded) and (2^k m) / (2^k s) = m / s exactly: the runs agree bitwise.
    rng = np.random.default_rng(seed)
    grads = rng.uniform(0.01, 10, (steps, 4)) * rng.choice([-1.0, 1.0], (steps, 4))
    d = np.ldexp(1.0, np.array(exponents))
    a = adam_run(grads, np.ones(4), lr=0.01, amsgrad=amsgrad)
    b = adam_run(grads, d, lr=0.01, amsgrad=amsgrad)
    assert np.array_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    factors=st.lists(st.floats(1e-3, 1e3), min_size=4, max_size=4),
    steps=st.integers(1, 30),
)
def test_adam_eps0_invariant_under_general_diagonal_scaling(seed, factors, steps):
    # For other factors every scaled operation rounds differently, so the update agrees only to
    # a few ulps per step: relative 1e-13 after up to 30 steps.
    rng = np.random.default_rng(seed)
    grads = rng.uniform(0.01, 10, (steps, 4)) * rng.choice([-1.0, 1.0], (steps, 4))
    a = adam_run(grads, np.ones(4), lr=0.01)
    b = adam_run(grads, np.array(factors), lr=0.01)
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_adam_with_eps_is_not_scale_invariant():
    # with eps > 0 and gradients far below eps the invariance fails, so the tests above can fail
    rng = np.random.default_rng(0)
    grads = rng.uniform(1e-9, 1e-8, (10, 4))
    x, y = np.zeros(4), np.zeros(4)
    o1, o2 = Adam([x], lr=0.01), Adam([y], lr=0.01)
    for g in grads:
        o1.step([g])
        o2.step([1024.0 * g])
    assert not np.allclose(x, y, rtol=1e-3)


# -------------------------------------------------------------------------------------------
# (e) track_updates
def direction_and_decay(opt, i, g, before):
    """The direction d_t documented for each class and the decoupled decay term."""
    d = opt.defaults
    st_ = opt.state[i]
    name = type(opt).__name__
    lam = d.get("weight_decay", 0)
    decoupled = name == "AdamW" or d.get("decoupled_weight_decay", False)
    gg = -g if d.get("maximize") else g
    if lam and not decoupled:
        gg = gg + lam * before
    decay = -d["lr"] * lam * before if (lam and decoupled) else 0.0
    if name == "SGD":
        if d["momentum"]:
            buf = st_["momentum_buffer"]
            return (gg + d["momentum"] * buf if d["nesterov"] else buf), decay
        return gg, decay
    if name == "Adagrad":
        return gg, decay
    if name == "RMSprop":
        return (st_["momentum_buffer"] if d["momentum"] > 0 else gg), decay
    if name == "NAdam":
        beta1 = d["betas"][0]
        t, psi, prod = st_["step"], d["momentum_decay"], st_["mu_product"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        return (1 - mu) / (1 - prod) * gg + mu_next / (1 - prod * mu_next) * st_["exp_avg"], decay
    return st_["exp_avg"], decay  # Adam, AdamW, Adamax, RAdam


def documented_step_size(opt, i):
    """The per-class formula for eta_t from the docstrings, evaluated from the state."""
    d = opt.defaults
    st_ = opt.state[i]
    name = type(opt).__name__
    t = st_.get("step")
    lr = d["lr"]
    if name == "SGD" or (name == "RMSprop" and d["momentum"] > 0):
        return np.full_like(opt.params[i], lr)
    if name == "Adagrad":
        return lr / (1 + (t - 1) * d["lr_decay"]) / (np.sqrt(st_["sum"]) + d["eps"])
    if name == "RMSprop":
        v = st_["square_avg"]
        if d["centered"]:
            v = v - st_["grad_avg"] ** 2
        return lr / (np.sqrt(v) + d["eps"])
    b1, b2 = d["betas"]
    if name in ("Adam", "AdamW"):
        v = st_["max_exp_avg_sq"] if d["amsgrad"] else st_["exp_avg_sq"]
        if d.get("bias_correction", True):
            return lr / (1 - b1**t) / (np.sqrt(v) / math.sqrt(1 - b2**t) + d["eps"])
        return lr / (np.sqrt(v) + d["eps"])
    if name == "Adamax":
        return lr / ((1 - b1**t) * st_["exp_inf"])
    if name == "NAdam":
        return lr / (np.sqrt(st_["exp_avg_sq"] / (1 - b2**t)) + d["eps"])
    if name == "RAdam":
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            l_t = math.sqrt(1 - b2**t) / (np.sqrt(st_["exp_avg_sq"]) + d["eps"])
            return lr * r * l_t / (1 - b1**t)
        return np.full_like(opt.params[i], lr / (1 - b1**t))
    raise AssertionError(name)


TRACK_CASES = [(n, kw) for n, kw in ref.OWN_CONFIGS if "groups" not in kw] + [("Adam", {"lr": 0.02, "bias_correction": False})]


@pytest.mark.parametrize("name, kwargs", TRACK_CASES, ids=[f"{n}-{kw}" for n, kw in TRACK_CASES])
def test_track_updates(name, kwargs):
    params = [np.array(x) for x in DATA["x0"]]
    opt = CLASSES[name](params, track_updates=True, **kwargs)
    assert opt.last_update is None and opt.last_step_size is None
    kept = []
    for t in range(12):
        grads = ref.gradient(DATA, params, t, kwargs.get("maximize", False))
        before = [p.copy() for p in params]
        opt.step(grads)
        kept.append(opt.last_update)
        for i, p in enumerate(params):
            delta, eta = opt.last_update[i], opt.last_step_size[i]
            assert delta.shape == eta.shape == p.shape and delta.dtype == p.dtype
            assert np.array_equal(delta, p - before[i])  # the actual change
            assert np.all(eta >= 0)
            np.testing.assert_allclose(eta, documented_step_size(opt, i), rtol=1e-13)
            d, decay = direction_and_decay(opt, i, grads[i], before[i])
            # Delta = -eta * d (+ decay) up to rounding of the subtraction theta_t - theta_{t-1}
            tol = 8 * np.spacing(np.maximum(np.abs(p), np.abs(before[i]))) + 1e-13 * np.abs(delta)
            assert np.all(np.abs(delta - (-eta * d + decay)) <= tol)
    # fresh arrays every step: earlier ones are not overwritten
    assert not np.array_equal(kept[0][0], kept[-1][0])


def test_track_updates_float32_and_chunked():
    n = 3 * optim.CHUNK_BYTES // 4 + 3
    x = np.linspace(-1, 1, n, dtype=np.float32)
    opt = Adam([x], lr=0.01, track_updates=True)
    g = np.cos(np.arange(n, dtype=np.float32))
    before = x.copy()
    opt.step([g])
    assert opt.last_update[0].dtype == np.float32
    assert np.array_equal(opt.last_update[0], x - before)
    np.testing.assert_allclose(opt.last_step_size[0], documented_step_size(opt, 0), rtol=1e-5)


# -------------------------------------------------------------------------------------------
# (f) bias_correction=False
def test_adam_without_bias_correction_is_the_hand_formula():
    rng = np.random.default_rng(7)
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    x = rng.standard_normal(5)
    y = x.copy()
    m, v = np.zeros(5), np.zeros(5)
    opt = Adam([x], lr=lr, betas=(b1, b2), eps=eps, bias_correction=False)
    assert opt.defaults["bias_correction"] is False
    for _ in range(200):
        g = 2.0 * x + rng.standard_normal(5)
        opt.step([g])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        y = y - lr * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], m, rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], v, rtol=1e-12)


def test_bias_correction_flag_matters_early():
    # first step: with correction |Delta| = lr (m_hat/sqrt(v_hat) = sign g); without it
    # m_1/sqrt(v_1) = (1 - b1)/sqrt(1 - b2) ~ 3.16 so the step is ~3.16 lr
    x, y = np.zeros(3), np.zeros(3)
    g = np.array([1.0, -2.0, 1e-3])
    Adam([x], lr=0.01, eps=0.0).step([g])
    Adam([y], lr=0.01, eps=0.0, bias_correction=False).step([g])
    np.testing.assert_allclose(x, -0.01 * np.sign(g), rtol=1e-14)
    np.testing.assert_allclose(y, -0.01 * np.sign(g) * 0.1 / math.sqrt(0.001), rtol=1e-14)


def test_zero_dimensional_and_multi_parameter():
    a = np.array(1.0)
    b = np.ones((2, 3, 4), dtype=np.float32)
    opt = Adam([a, b], lr=0.5)
    opt.step([np.array(2.0), np.ones((2, 3, 4), dtype=np.float32)])
    assert a.shape == () and np.isclose(a, 0.5) and np.allclose(b, 0.5)
    assert b.dtype == np.float32


def test_state_names_and_defaults():
    def state_after_one_step(opt):
        opt.step([np.ones_like(p) for p in opt.params])
        return set(opt.state[0])

    assert state_after_one_step(Adam([np.zeros(3)])) == {"step", "exp_avg", "exp_avg_sq"}
    assert state_after_one_step(Adam([np.zeros(3)], amsgrad=True)) == {
        "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"
    }
    assert state_after_one_step(RMSprop([np.zeros(3)], momentum=0.9, centered=True)) == {
        "step", "square_avg", "momentum_buffer", "grad_avg"
    }
    assert state_after_one_step(NAdam([np.zeros(3)])) == {"step", "mu_product", "exp_avg", "exp_avg_sq"}
    assert state_after_one_step(Adamax([np.zeros(3)])) == {"step", "exp_avg", "exp_inf"}
    ada = Adagrad([np.zeros(3)], initial_accumulator_value=0.5)
    assert state_after_one_step(ada) == {"step", "sum"}
    assert np.all(ada.state[0]["sum"] == 1.5)  # tau + g^2
    sgd = SGD([np.zeros(3)], momentum=0.9)
    assert sgd.state[0] == {}  # state appears at a parameter's first step, as in PyTorch
    sgd.step([np.ones(3)])
    assert np.array_equal(sgd.state[0]["momentum_buffer"], np.ones(3))
    assert AdamW([np.zeros(1)]).defaults["weight_decay"] == 1e-2
    assert AdamW([np.zeros(1)]).defaults["decoupled_weight_decay"] is True  # a flag, as in PyTorch
    assert Adam([np.zeros(1)]).defaults["betas"] == (0.9, 0.999)


def test_adamw_is_adam_with_the_decoupled_flag():
    x, y = np.ones(3), np.ones(3)
    a = AdamW([x], lr=0.1, weight_decay=0.1)
    b = Adam([y], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)
    for t in range(5):
        g = np.array([1.0, -2.0, 0.5]) * (t + 1)
        a.step([g])
        b.step([g])
    assert np.array_equal(x, y)
    a.param_groups[0]["decoupled_weight_decay"] = False
    with pytest.raises(ValueError, match="AdamW always decouples"):
        a.step([np.ones(3)])
