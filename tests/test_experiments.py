"""The seeded experiment runner used by the experiment chapters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adamedu
from adamedu.experiments import record_steps, repeat, set_lr, train, tune_lr
from adamedu.problems import IllConditionedQuadratic, LogisticRegression, NoisyQuadratic, Rescaled


@pytest.fixture(scope="module")
def logreg():
    return LogisticRegression(l2=1e-4, batch_size=128)


def test_set_lr_changes_the_next_step_and_is_validated_before_it():
    x = np.zeros(2)
    opt = adamedu.Adam([{"params": [x]}, {"params": [np.zeros(1)], "lr": 0.5}], lr=0.1)
    set_lr(opt, 0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01]
    opt.step([np.array([1.0, -2.0]), None])
    np.testing.assert_allclose(x, [-0.01, 0.01], rtol=1e-6)
    for bad in (-1.0, math.nan, math.inf):
        set_lr(opt, bad)
        with pytest.raises(ValueError, match="Invalid learning rate"):
            opt.step([np.array([1.0, -2.0]), None])
        np.testing.assert_allclose(x, [-0.01, 0.01], rtol=1e-6)


def test_record_steps():
    steps = record_steps(474)
    assert steps[0] == 0 and steps[-1] == 474 and np.all(np.diff(steps) > 0)
    with pytest.raises(ValueError, match="steps"):
        record_steps(0)


def test_train_is_reproducible_and_seeds_differ(logreg):
    a = train(adamedu.Adam, logreg, 30, seed=3, lr=0.01, record_at=[0, 10, 30])
    b = train(adamedu.Adam, logreg, 30, seed=3, lr=0.01, record_at=[0, 10, 30])
    c = train(adamedu.Adam, logreg, 30, seed=4, lr=0.01, record_at=[0, 10, 30])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    assert a[1][0] == c[1][0] and a[1][-1] != c[1][-1]
    assert a[1][0] == pytest.approx(logreg.loss(logreg.x0))
    assert a[1][-1] == pytest.approx(logreg.loss(a[2]))


def test_inverse_sqrt_schedule_matches_a_hand_written_loop(logreg):
    _, _, x = train(adamedu.SGD, logreg, 20, seed=1, lr=0.5, schedule="inv_sqrt", record_at=[20],
                    momentum=0.9, nesterov=True)
    y = logreg.x0.copy()
    opt = adamedu.SGD([y], lr=0.5, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(1)
    for t in range(1, 21):
        opt.param_groups[0]["lr"] = 0.5 / math.sqrt(t)
        opt.step([logreg.stochastic_grad(y, rng)])
    np.testing.assert_array_equal(x, y)


def test_divergence_is_recorded_as_inf():
    problem = NoisyQuadratic(curvature=1.0, noise=0.0, dim=2)
    _, values, _ = train(adamedu.SGD, problem, 3000, lr=3.0, record_at=[0, 10, 3000])
    assert np.isfinite(values[:2]).all() and values[-1] == math.inf


def test_train_validates_its_arguments(logreg):
    with pytest.raises(ValueError, match="schedule"):
        train(adamedu.Adam, logreg, 5, schedule="cosine")
    with pytest.raises(ValueError, match="record_at"):
        train(adamedu.Adam, logreg, 5, record_at=[3, 2])
    with pytest.raises(ValueError, match="steps"):
        train(adamedu.Adam, logreg, 0)


def test_repeat_and_curves(logreg):
    curves = repeat(adamedu.Adam, logreg, 20, seeds=(0, 1, 2), lr=0.01, record_at=[0, 5, 20])
    assert curves.values.shape == (3, 3) and curves.seeds == (0, 1, 2)
    np.testing.assert_allclose(curves.mean, curves.values.mean(axis=0))
    np.testing.assert_allclose(curves.std, curves.values.std(axis=0, ddof=1))
    assert np.all(curves.low <= curves.mean) and np.all(curves.mean <= curves.high)
    np.testing.assert_array_equal(curves.at(20), curves.final)
    with pytest.raises(ValueError, match="step"):
        curves.at(7)
    with pytest.raises(ValueError, match="seeds"):
        repeat(adamedu.Adam, logreg, 5, seeds=())


def test_tune_lr_picks_the_lowest_final_loss(logreg):
    lrs = [1e-5, 1e-2, 1e2]
    best, finals = tune_lr(adamedu.Adam, logreg, 30, lrs, seeds=(100,))
    assert best == lrs[int(np.argmin(finals))] == 1e-2
    expected = train(adamedu.Adam, logreg, 30, seed=100, lr=1e-2, record_at=[30])[1][-1]
    assert finals[1] == pytest.approx(expected)


@settings(max_examples=25, deadline=None)
@given(k=st.floats(0.01, 100.0), lr=st.floats(1e-3, 0.3))
def test_adam_reparametrisation_law(k, lr):
    """Adam on theta' = k*theta with (k*lr, eps/k) is Adam on theta with (lr, eps), step for step."""
    problem = IllConditionedQuadratic(condition_number=20.0)
    _, _, x = train(adamedu.Adam, problem, 40, lr=lr, record_at=[40])
    _, _, y = train(adamedu.Adam, Rescaled(problem, param_scale=k), 40, lr=k * lr, eps=1e-8 / k, record_at=[40])
    np.testing.assert_allclose(y / k, x, rtol=1e-9, atol=1e-12)


def test_train_keeps_the_optimizers_default_lr():
    problem = IllConditionedQuadratic(condition_number=20.0)
    _, _, x = train(adamedu.Adagrad, problem, 5, record_at=[5])
    trace = adamedu.run(adamedu.Adagrad, problem, 5)  # lr = 1e-2, Adagrad's default
    np.testing.assert_array_equal(x, trace.params[-1])
