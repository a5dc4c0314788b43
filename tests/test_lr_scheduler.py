"""Tests for adamedu.lr_scheduler: PyTorch parity (fixtures and live), state, warnings, errors."""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import os
import warnings

import numpy as np
import pytest

from adamedu import lr_scheduler as lrs
from adamedu.optim import SGD, Adam

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_scheduler_reference", os.path.join(HERE, "fixtures", "make_scheduler_reference.py")
)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

FIXTURE = np.load(ref.FIXTURE)
META = json.loads(str(FIXTURE["meta"]))
NAMES = [c["scheduler"][0] for c in ref.CONFIGS]
IDS = [f"{k}-{name}" for k, name in enumerate(NAMES)]
# Learning rates are Python floats computed by the same formulas in the same order as PyTorch's,
# so they agree to the last bit; 1e-12 relative leaves room for a different libm's cos and pow.
RTOL = 1e-12


def make_optimizer(config):
    """An adamedu optimizer with one parameter group per rate, and a function that steps it."""
    params = [np.zeros(2) for _ in config["lrs"]]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, config["lrs"])]
    if config["optimizer"] == "SGD":
        opt = SGD(groups, lr=config["lrs"][0], momentum=0.9)
    else:
        opt = Adam(groups, lr=config["lrs"][0])
    zeros = [np.zeros(2) for _ in params]
    return opt, lambda: opt.step(zeros)


def run_ours(config):
    opt, step = make_optimizer(config)
    return ref.run(lrs, opt, config, step_optimizer=step)


def max_relative_error(ours, theirs, base=None):
    """Largest |ours - theirs| / |theirs| over entries (NaN where a group has no momentum).

    Where PyTorch's rate is a rounding residue within ROUNDING_ZERO of zero (relative to the
    group's base rate ``base``), ours must be exactly 0 (see lr_scheduler._write_lrs).
    """
    assert ours.shape == theirs.shape
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    ours, theirs = ours.copy(), theirs.copy()
    if base is not None:
        residue = np.abs(theirs[:, :, :2]) <= lrs.ROUNDING_ZERO * np.abs(base)[None, :, None]
        residue &= theirs[:, :, :2] < 0
        assert np.all(ours[:, :, :2][residue] == 0), "a rounding residue was not written as 0"
        theirs[:, :, :2][residue] = 0.0
    ok = ~np.isnan(theirs)
    a, b = ours[ok], theirs[ok]
    err = np.abs(a - b)
    scale = np.abs(b)
    assert np.all(err[scale == 0] == 0), "a rate that should be exactly 0 is not"
    nz = scale > 0
    return float(np.max(err[nz] / scale[nz])) if nz.any() else 0.0


def base_rates(config):
    """The base rate of each group (``initial_lr``, or the starting rate where none is stored)."""
    opt, _ = make_optimizer(config)
    start = [g["lr"] for g in opt.param_groups]
    ref.build(lrs, opt, config["scheduler"])
    return np.array([g.get("initial_lr", lr) for g, lr in zip(opt.param_groups, start)])


# -------------------------------------------------------------------------------------------
# (a) parity with the committed PyTorch fixtures
def test_fixture_covers_every_scheduler_and_matches_the_script():
    assert META["torch_version"].startswith("2.13")
    assert json.loads(json.dumps(ref.CONFIGS)) == META["configs"]
    assert META["metrics"] == ref.METRICS
    assert set(NAMES) == set(lrs.__all__) - {"LRScheduler"}
    for name in set(NAMES):
        # every scheduler with several parameter groups, and in a configuration of its own
        assert any(c["scheduler"][0] == name and len(c["lrs"]) == 3 for c in ref.CONFIGS), name
    for name in ("CyclicLR", "OneCycleLR"):  # momentum cycling with SGD's momentum and betas
        kinds = {c["optimizer"] for c in ref.CONFIGS if c["scheduler"][0] == name}
        assert kinds == {"SGD", "Adam"}, name
    assert os.path.getsize(ref.FIXTURE) < 200_000


@pytest.mark.parametrize("k", range(len(ref.CONFIGS)), ids=IDS)
def test_matches_torch_fixture(k):
    config = ref.CONFIGS[k]
    theirs = FIXTURE[f"c{k}"]
    ours = run_ours(config)
    assert theirs.shape == (config["steps"] + 1, len(config["lrs"]), 3)
    # the schedule must change the rate, or matching would prove little
    assert np.ptp(theirs[:, :, 1]) > 0
    err = max_relative_error(ours, theirs, base_rates(config))
    assert err <= RTOL, f"max relative error {err:.2e}"


def test_cycling_schedules_move_the_momentum():
    for k, config in enumerate(ref.CONFIGS):
        if config["scheduler"][0] in ("CyclicLR", "OneCycleLR"):
            momentum = FIXTURE[f"c{k}"][:, :, 2]
            cycles = config["scheduler"][1].get("cycle_momentum", True)
            assert (np.ptp(momentum) > 0.01) == cycles, k


def test_get_last_lr_is_what_the_groups_hold():
    for k in range(len(ref.CONFIGS)):
        data = FIXTURE[f"c{k}"]
        np.testing.assert_array_equal(data[:, :, 0], data[:, :, 1])


def parity_table():
    """Max relative error per configuration against the fixtures (printed by ``__main__``)."""
    rows = []
    for k, config in enumerate(ref.CONFIGS):
        err = max_relative_error(run_ours(config), FIXTURE[f"c{k}"], base_rates(config))
        rows.append((k, config["scheduler"][0], config["optimizer"], len(config["lrs"]), err))
    return rows


# -------------------------------------------------------------------------------------------
# (b) live comparison with torch, when it is installed
@pytest.mark.parametrize("k", range(len(ref.CONFIGS)), ids=IDS)
def test_live_against_torch(k):
    pytest.importorskip("torch")
    import torch.optim.lr_scheduler as tlib

    config = ref.CONFIGS[k]
    topt = ref.torch_optimizer(config)
    theirs = ref.run(tlib, topt, config)
    ours = run_ours(config)
    assert max_relative_error(ours, theirs, base_rates(config)) <= RTOL
    # the same state_dict keys (PyTorch's layout) and the same keys added to the groups
    opt, _ = make_optimizer(config)
    topt = ref.torch_optimizer(config)
    ours_before, theirs_before = set(opt.param_groups[0]), set(topt.param_groups[0])
    mine = ref.build(lrs, opt, config["scheduler"])
    tsched = ref.build(tlib, topt, config["scheduler"])
    assert set(mine.state_dict()) == set(tsched.state_dict())
    assert set(opt.param_groups[0]) - ours_before == set(topt.param_groups[0]) - theirs_before


@pytest.mark.parametrize("name", [n for n in lrs.__all__ if n != "LRScheduler"])
def test_signature_and_defaults_match_torch(name):
    pytest.importorskip("torch")
    import torch.optim.lr_scheduler as tlib

    theirs = inspect.signature(getattr(tlib, name).__init__).parameters
    ours = inspect.signature(getattr(lrs, name).__init__).parameters
    assert list(theirs) == list(ours)
    for arg in theirs:
        assert theirs[arg].default == ours[arg].default, arg


# -------------------------------------------------------------------------------------------
# (c) the closed forms the docstrings state
def one_group(lr=0.1, kind="SGD"):
    p = np.zeros(2)
    opt = SGD([p], lr=lr, momentum=0.9) if kind == "SGD" else Adam([p], lr=lr)
    return opt, lambda: opt.step([np.zeros(2)])


def rates(scheduler, opt, step, n):
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        step()
        scheduler.step()
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


CLOSED_FORMS = [
    (lambda o: lrs.StepLR(o, step_size=4, gamma=0.5), lambda t: 0.1 * 0.5 ** (t // 4)),
    (lambda o: lrs.MultiStepLR(o, [3, 7, 7]), lambda t: 0.1 * 0.1 ** ((t >= 3) + 2 * (t >= 7))),
    (lambda o: lrs.ConstantLR(o, factor=0.25, total_iters=6), lambda t: 0.1 * (0.25 if t < 6 else 1)),
    (lambda o: lrs.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=12),
     lambda t: 0.1 * (0.1 + 0.7 * min(t, 12) / 12)),
    (lambda o: lrs.ExponentialLR(o, gamma=0.9), lambda t: 0.1 * 0.9**t),
    (lambda o: lrs.PolynomialLR(o, total_iters=15, power=1.7),
     lambda t: 0.1 * (1 - min(t, 15) / 15) ** 1.7),
    (lambda o: lrs.CosineAnnealingLR(o, T_max=10, eta_min=0.01),  # periodic past T_max
     lambda t: 0.01 + 0.5 * (0.1 - 0.01) * (1 + math.cos(math.pi * t / 10))),
    (lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
     lambda t: 0.05 * (1 + math.cos(math.pi * _since_restart(t, 3, 2)[0] / _since_restart(t, 3, 2)[1]))),
    (lambda o: lrs.LambdaLR(o, lambda t: 1 / (1 + t)), lambda t: 0.1 / (1 + t)),
    (lambda o: lrs.MultiplicativeLR(o, lambda t: 0.8), lambda t: 0.1 * 0.8**t),
]  # fmt: skip


def _since_restart(t, T0, mult):
    T = T0
    while t >= T:
        t -= T
        T *= mult
    return t, T


@pytest.mark.parametrize("k", range(len(CLOSED_FORMS)))
def test_documented_closed_form(k):
    make, formula = CLOSED_FORMS[k]
    opt, step = one_group()
    got = rates(make(opt), opt, step, 40)
    want = np.array([formula(t) for t in range(41)])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)


def test_warmup_then_cosine_with_sequential_lr():
    opt, step = one_group(lr=1.0, kind="Adam")
    warmup = lrs.LinearLR(opt, start_factor=0.1, total_iters=5)
    cosine = lrs.CosineAnnealingLR(opt, T_max=20)
    sched = lrs.SequentialLR(opt, [warmup, cosine], milestones=[5])
    got = rates(sched, opt, step, 25)
    want = [0.1 + 0.9 * t / 5 for t in range(5)]
    want += [0.5 * (1 + math.cos(math.pi * s / 20)) for s in range(21)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_one_cycle_endpoints_and_momentum():
    opt, step = one_group(lr=0.5)
    sched = lrs.OneCycleLR(opt, max_lr=0.4, total_steps=20, pct_start=0.25)
    lr, mom = [], []
    for _ in range(20):
        lr.append(opt.param_groups[0]["lr"])
        mom.append(opt.param_groups[0]["momentum"])
        step()
        if len(lr) < 20:
            sched.step()
    assert lr[0] == pytest.approx(0.4 / 25) and mom[0] == pytest.approx(0.95)
    assert max(lr) == pytest.approx(0.4) and lr.index(max(lr)) == 4  # pct_start * 20 - 1
    assert mom[4] == pytest.approx(0.85)
    assert lr[-1] == pytest.approx(0.4 / 25 / 1e4)
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        sched.step()
        sched.step()


# -------------------------------------------------------------------------------------------
# (d) state_dict, resuming, warnings, errors
def _hyper(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


@pytest.mark.parametrize(
    "k",
    [k for k, c in enumerate(ref.CONFIGS) if "epochs" not in c and "resume_at" not in c],
    ids=[IDS[k] for k, c in enumerate(ref.CONFIGS) if "epochs" not in c and "resume_at" not in c],
)
def test_state_dict_round_trip_continues_the_schedule(k):
    config = dict(ref.CONFIGS[k], scale_lr_at={})
    half = config["steps"] // 2
    whole = run_ours(config)

    opt, step = make_optimizer(config)
    sched = ref.build(lrs, opt, config["scheduler"])
    for t in range(half):
        step()
        sched.step(ref.METRICS[config["metrics"]][t]) if "metrics" in config else sched.step()
    saved_sched = json.loads(json.dumps(sched.state_dict(), default=_jsonable))
    saved_groups = _hyper(opt)

    opt2, step2 = make_optimizer(config)
    sched2 = ref.build(lrs, opt2, config["scheduler"])
    for g, saved in zip(opt2.param_groups, saved_groups):
        g.update(saved)
    sched2.load_state_dict(_restored(saved_sched))
    got = []
    for t in range(half, config["steps"]):
        step2()
        if "metrics" in config:
            sched2.step(ref.METRICS[config["metrics"]][t])
        else:
            sched2.step()
        got.append([g["lr"] for g in opt2.param_groups])
    np.testing.assert_array_equal(np.array(got), whole[half + 1 :, :, 1])


def _jsonable(obj):
    """The state dict must survive serialisation: Counters and tuples become plain data."""
    if isinstance(obj, set):
        return sorted(obj)
    raise TypeError(type(obj))


def _restored(state):
    state = dict(state)
    if "milestones" in state:  # MultiStepLR keeps a Counter, whose keys JSON makes strings
        from collections import Counter

        state["milestones"] = Counter({int(k): v for k, v in state["milestones"].items()})
    if "_schedulers" in state:
        state["_schedulers"] = [_restored(s) for s in state["_schedulers"]]
    return state


def test_state_dict_saves_callable_objects_not_functions():
    opt, _ = one_group()
    halving = ref.Halving(5)
    sched = lrs.LambdaLR(opt, halving)
    assert sched.state_dict()["lr_lambdas"] == [{"every": 5}]
    assert lrs.LambdaLR(opt, lambda t: 1.0).state_dict()["lr_lambdas"] == [None]
    other = ref.Halving(2)
    lrs.LambdaLR(opt, other).load_state_dict(sched.state_dict())
    assert other.every == 5
    assert "optimizer" not in sched.state_dict()


def test_initial_lr_is_stored_and_required_for_resuming():
    opt, _ = one_group(lr=0.3)
    lrs.ExponentialLR(opt, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.3
    fresh, _ = one_group()
    with pytest.raises(KeyError, match="initial_lr"):
        lrs.ExponentialLR(fresh, gamma=0.5, last_epoch=3)


def test_warns_when_scheduler_steps_before_optimizer():
    opt, step = one_group()
    sched = lrs.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt, step = one_group()
    sched = lrs.StepLR(opt, step_size=2)
    step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # the right order: no warning


def test_get_lr_outside_step_warns():
    opt, _ = one_group()
    sched = lrs.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_step_with_epoch_is_deprecated_and_uses_the_closed_form():
    opt, step = one_group(lr=1.0)
    sched = lrs.ExponentialLR(opt, gamma=0.5)
    step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(3)
    assert opt.param_groups[0]["lr"] == 0.125


def test_linear_decay_to_zero_ends_at_zero_not_below():
    # PyTorch's recursion ends a few units in the last place below zero; adamedu writes 0 there,
    # because its optimizers refuse a negative learning rate.
    opt, step = one_group(lr=0.4)
    sched = lrs.LinearLR(opt, start_factor=0.1, end_factor=0.0, total_iters=8)
    got = rates(sched, opt, step, 12)
    assert got[8:].tolist() == [0.0] * 5
    step()  # and the optimizer accepts it


def test_pytorch_leaves_the_residue_that_adamedu_removes():
    torch = pytest.importorskip("torch")

    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.4)
    tsched = torch.optim.lr_scheduler.LinearLR(
        topt, start_factor=0.1, end_factor=0.0, total_iters=8
    )
    for _ in range(8):
        topt.step()
        tsched.step()
    assert -1e-12 * 0.4 < topt.param_groups[0]["lr"] < 0  # the residue adamedu removes


def test_a_truly_negative_rate_is_refused_by_the_optimizer():
    opt, step = one_group(lr=0.1)
    sched = lrs.LambdaLR(opt, lambda t: 1.0 - t)  # negative from t = 2 on
    for _ in range(2):
        step()
        sched.step()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        step()


def test_chainable_schedule_follows_a_rate_changed_by_hand():
    opt, step = one_group(lr=1.0)
    sched = lrs.ExponentialLR(opt, gamma=0.5)
    step()
    sched.step()
    opt.param_groups[0]["lr"] = 10.0
    step()
    sched.step()
    assert opt.param_groups[0]["lr"] == 5.0


BAD = [
    (lambda o: lrs.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda o: lrs.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda o: lrs.LinearLR(o, end_factor=2), ValueError, "between 0 and 1"),
    (lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ValueError, "T_mult"),
    (lambda o: lrs.CyclicLR(o, 0.1, 1.0, mode="sawtooth"), ValueError, "mode is invalid"),
    (lambda o: lrs.CyclicLR(o, [0.1, 0.2], 1.0), ValueError, "same length"),
    (lambda o: lrs.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps OR"),
    (lambda o: lrs.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1), ValueError, "pct_start"),
    (lambda o: lrs.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda o: lrs.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: lrs.ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode lowest is unknown"),
    (lambda o: lrs.LambdaLR(o, [lambda t: 1, lambda t: 1]), ValueError, "Expected 1 lr_lambdas"),
    (lambda o: lrs.MultiplicativeLR(o, 0.9), TypeError, "should be a function"),
    (lambda o: lrs.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda o: lrs.SequentialLR(o, [lrs.StepLR(o, 2)], [3]), ValueError, "one more"),
    (lambda o: lrs.ChainedScheduler([lrs.ReduceLROnPlateau(o)]), ValueError, "ReduceLROnPlateau"),
]  # fmt: skip


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_arguments(k):
    make, exc, message = BAD[k]
    opt, _ = one_group()
    with pytest.raises(exc, match=message):
        make(opt)


def test_schedulers_of_another_optimizer_are_refused():
    a, _ = one_group()
    b, _ = one_group()
    with pytest.raises(ValueError, match="same optimizer"):
        lrs.SequentialLR(a, [lrs.StepLR(a, 2), lrs.StepLR(b, 2)], milestones=[3])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lrs.StepLR(object(), 2)


def test_cycling_momentum_needs_momentum_or_betas():
    from adamedu.optim import Adagrad

    opt = Adagrad([np.zeros(2)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lrs.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lrs.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


if __name__ == "__main__":  # print the parity table
    print(f"{'#':>3} {'scheduler':28} {'optimizer':9} {'groups':>6} {'max rel. error':>15}")
    for k, name, kind, groups, err in parity_table():
        print(f"{k:3d} {name:28} {kind:9} {groups:6d} {err:15.1e}")
