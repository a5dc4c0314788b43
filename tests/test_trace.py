"""Tests for adamedu.trace.run: shapes, what each field means, seeding, and record= subsets."""

import math
import tracemalloc

import numpy as np
import pytest

from adamedu import SGD, Adam, Adamax, AdamW, NAdam, RAdam, Trace, run
from adamedu import problems as P
from adamedu.trace import FIELDS

ROSEN = P.Rosenbrock()


def manual_run(cls, problem, steps, seed=0, **hp):
    """The loop run() promises, written out: the states and parameters after every step."""
    x = problem.x0.copy()
    opt = cls([x], **hp)
    rng = np.random.default_rng(seed)
    xs, states = [x.copy()], []
    for _ in range(steps):
        opt.step([problem.stochastic_grad(x, rng)])
        xs.append(x.copy())
        states.append({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in opt.state[0].items()})
    return np.array(xs), states


def test_shapes_and_row_zero_is_start():
    tr = run(Adam, ROSEN, 50, lr=0.01)
    assert isinstance(tr, Trace) and tr.steps == 50 and not tr.diverged
    assert tr.params.shape == (51, 2) and tr.loss.shape == (51,)
    for name in ("grad", "update", "m_hat", "v_hat", "snr"):
        assert getattr(tr, name).shape == (50, 2), name
    np.testing.assert_array_equal(tr.params[0], ROSEN.x0)
    np.testing.assert_array_equal(ROSEN.x0, [-1.2, 1.0])  # the problem's start is not touched
    assert tr.loss[0] == ROSEN.loss(ROSEN.x0)
    assert tr.optimizer == "Adam" and tr.hyperparameters == {"lr": 0.01} and tr.label == "Adam(lr=0.01)"


def test_fields_mean_what_they_say():
    tr = run(Adam, ROSEN, 200, lr=0.02)
    xs, states = manual_run(Adam, ROSEN, 200, lr=0.02)
    np.testing.assert_array_equal(tr.params, xs)  # same loop, bit for bit
    np.testing.assert_array_equal(tr.update, np.diff(xs, axis=0))
    np.testing.assert_array_equal(tr.grad, ROSEN.grad(xs[:-1]))
    np.testing.assert_allclose(tr.loss, [ROSEN.loss(x) for x in xs], rtol=1e-15, atol=0)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_moments_are_the_bias_corrected_state(amsgrad):
    b1, b2, lr, eps = 0.8, 0.99, 0.05, 1e-8
    tr = run(Adam, ROSEN, 100, lr=lr, betas=(b1, b2), amsgrad=amsgrad)
    _, states = manual_run(Adam, ROSEN, 100, lr=lr, betas=(b1, b2), amsgrad=amsgrad)
    v_key = "max_exp_avg_sq" if amsgrad else "exp_avg_sq"
    for t, s in enumerate(states, start=1):
        np.testing.assert_array_equal(tr.m_hat[t - 1], s["exp_avg"] / (1 - b1**t))
        np.testing.assert_array_equal(tr.v_hat[t - 1], s[v_key] / (1 - b2**t))
    np.testing.assert_array_equal(tr.snr, tr.m_hat / np.sqrt(tr.v_hat))
    # and they are exactly the quantities of Adam's update Δ = −lr·m̂/(√v̂ + ε)
    np.testing.assert_allclose(tr.update, -lr * tr.m_hat / (np.sqrt(tr.v_hat) + eps), rtol=1e-12,
                               atol=1e-15)  # Δ is a difference of iterates: rounding of size ε·|θ|


def test_adam_without_bias_correction_reports_raw_moments():
    tr = run(Adam, ROSEN, 30, lr=0.01, bias_correction=False)
    _, states = manual_run(Adam, ROSEN, 30, lr=0.01, bias_correction=False)
    np.testing.assert_array_equal(tr.m_hat, [s["exp_avg"] for s in states])
    np.testing.assert_array_equal(tr.v_hat, [s["exp_avg_sq"] for s in states])
    np.testing.assert_allclose(tr.update, -0.01 * tr.m_hat / (np.sqrt(tr.v_hat) + 1e-8), rtol=1e-12,
                               atol=1e-15)


def test_adamw_update_is_decay_plus_adam_step():
    lr, wd = 0.01, 0.1
    tr = run(AdamW, ROSEN, 50, lr=lr, weight_decay=wd)
    expected = -lr * wd * tr.params[:-1] - lr * tr.m_hat / (np.sqrt(tr.v_hat) + 1e-8)
    np.testing.assert_allclose(tr.update, expected, rtol=1e-10, atol=1e-15)


def test_adamax_snr_is_the_step_over_minus_lr():
    tr = run(Adamax, ROSEN, 50, lr=0.01)
    _, states = manual_run(Adamax, ROSEN, 50, lr=0.01)
    np.testing.assert_array_equal(np.sqrt(tr.v_hat), [s["exp_inf"] for s in states])
    np.testing.assert_allclose(tr.update, -0.01 * tr.snr, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", [NAdam, RAdam])
def test_nadam_radam_report_bias_corrected_moments(cls):
    tr = run(cls, ROSEN, 20, lr=0.01)
    _, states = manual_run(cls, ROSEN, 20, lr=0.01)
    for t, s in enumerate(states, start=1):
        np.testing.assert_allclose(tr.m_hat[t - 1], s["exp_avg"] / (1 - 0.9**t), rtol=1e-15)
        np.testing.assert_allclose(tr.v_hat[t - 1], s["exp_avg_sq"] / (1 - 0.999**t), rtol=1e-15)


def test_snr_is_zero_where_v_hat_is_zero():
    # the y-coordinate of the plain quadratic at y = 0 never sees a gradient
    q = P.IllConditionedQuadratic(x0=[1.0, 0.0])
    tr = run(Adam, q, 10, lr=0.1)
    assert np.all(tr.v_hat[:, 1] == 0) and np.all(tr.snr[:, 1] == 0)
    assert np.all(np.isfinite(tr.snr))


def test_non_adam_optimizers_have_no_moments():
    tr = run(SGD, ROSEN, 10, lr=1e-3, momentum=0.9)
    assert tr.m_hat is None and tr.v_hat is None and tr.snr is None
    assert tr.update.shape == (10, 2)


@pytest.mark.parametrize("problem", [P.NoisyQuadratic(noise=0.5, dim=3), P.LogisticRegression()],
                         ids=lambda p: p.name)
def test_stochastic_runs_are_reproducible_by_seed(problem):
    a = run(Adam, problem, 15, seed=3, lr=0.01, record=("params", "grad"))
    b = run(Adam, problem, 15, seed=3, lr=0.01, record=("params", "grad"))
    c = run(Adam, problem, 15, seed=4, lr=0.01, record=("params", "grad"))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert not np.array_equal(a.params[-1], c.params[-1])
    assert not np.array_equal(a.grad[0], c.grad[0])


def test_deterministic_runs_do_not_depend_on_seed():
    a = run(Adam, ROSEN, 20, seed=0, lr=0.01)
    b = run(Adam, ROSEN, 20, seed=99, lr=0.01)
    np.testing.assert_array_equal(a.params, b.params)


def test_noisy_grad_is_what_the_optimizer_received():
    p = P.NoisyQuadratic(noise=1.0, dim=2)
    tr = run(SGD, p, 5, lr=0.1, seed=7)
    rng = np.random.default_rng(7)
    expected = [p.grad(x) + rng.standard_normal(2) for x in tr.params[:-1]]
    np.testing.assert_allclose(tr.grad, expected, rtol=1e-15)
    np.testing.assert_allclose(tr.update, -0.1 * tr.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "record",
    [("loss",), ("update",), ("snr",), ("m_hat",), ("v_hat", "snr"), ("grad", "loss"), ("params",), "snr"],
)
def test_record_subsets_match_the_full_run(record):
    p = P.NoisyQuadratic(noise=0.3, dim=3)
    full = run(Adam, p, 40, seed=1, lr=0.05)
    part = run(Adam, p, 40, seed=1, lr=0.05, record=record)
    wanted = {record} if isinstance(record, str) else set(record)
    for name in FIELDS:
        if name in wanted:
            np.testing.assert_allclose(getattr(part, name), getattr(full, name), rtol=1e-15, atol=0,
                                       err_msg=name)
        else:
            assert getattr(part, name) is None, name


def test_record_rejects_unknown_fields():
    with pytest.raises(ValueError, match="Invalid record"):
        run(Adam, ROSEN, 5, record=("params", "momentum"))
    with pytest.raises(ValueError, match="Invalid steps"):
        run(Adam, ROSEN, -1)
    with pytest.raises(ValueError, match="Invalid x0"):
        run(Adam, ROSEN, 5, x0=[1.0, 2.0, 3.0])


def test_record_allocates_only_what_it_keeps():
    p = P.NoisyQuadratic(noise=1.0, dim=20_000)
    row = 20_000 * 8
    tracemalloc.start()
    run(Adam, p, 100, lr=1e-3, record=("loss",))
    small = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    run(Adam, p, 100, lr=1e-3, record=("params",))
    large = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert small < 20 * row  # optimizer state and a few temporaries, no per-step rows
    assert large > 100 * row  # the 101 recorded rows


def test_steps_zero_and_float32_start():
    tr = run(Adam, ROSEN, 0, x0=np.array([0.5, 0.5], dtype=np.float32))
    assert tr.params.shape == (1, 2) and tr.params.dtype == np.float64 and tr.update.shape == (0, 2)
    assert tr.loss[0] == ROSEN.loss(np.array([0.5, 0.5]))


def test_divergence_stops_or_raises():
    with pytest.raises(FloatingPointError):
        run(SGD, ROSEN, 100, lr=1.0)
    tr = run(SGD, ROSEN, 100, lr=1.0, on_nonfinite="stop")
    assert tr.diverged and 0 < tr.steps < 100
    assert tr.params.shape == (tr.steps + 1, 2) and tr.grad.shape == (tr.steps, 2)
    assert np.all(np.isfinite(tr.grad))
    # the step that was refused changed nothing: the run ends at the last finite iterate
    assert not np.all(np.isfinite(ROSEN.grad(tr.params[-1])))
    with pytest.raises(ValueError, match="on_nonfinite"):
        run(SGD, ROSEN, 5, on_nonfinite="ignore")


def test_long_two_d_run_is_cheap_and_converges():
    tr = run(Adam, P.IllConditionedQuadratic(), 10_000, lr=1e-2)
    assert tr.params.shape == (10_001, 2)
    assert tr.loss[-1] < 1e-6 * tr.loss[0]
    assert math.isfinite(tr.loss.sum())
