"""``adamedu.optim`` against PyTorch: committed trajectories always, a live comparison with torch."""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest

from tests.optim.reference import (
    CLASSES,
    CONFIGS,
    DATA,
    FIXTURE,
    META,
    RTOL32,
    assert_traj_close,
    constructor_args,
    ref,
    run_ours,
)

IDS = [f"{c['name']}-{c['source']}-{c['kwargs']}" for c in CONFIGS]


def test_fixture_covers_torchs_own_test_inputs_and_every_option():
    torch_inputs = [c for c in CONFIGS if c["source"].startswith("torch:")]
    assert {c["name"] for c in torch_inputs} == set(ref.CLASSES)
    assert len(torch_inputs) == 52  # optim_inputs_func_* of torch 2.13 for these classes, CPU
    assert any(c["kwargs"].get("tensor_lr") for c in torch_inputs)
    assert META["torch_version"].startswith("2.13")
    assert os.path.getsize(ref.FIXTURE) < 1.5e6
    options = {(c["name"], k) for c in CONFIGS for k in c["kwargs"]}
    for name, cls in CLASSES.items():
        for option in cls.hyperparameters:
            if option in ("lr", "bias_correction") or (name == "AdamW" and option == "decoupled_weight_decay"):
                continue
            assert (name, option) in options, (name, option)
        assert (name, "groups") in options, name  # several parameter groups


@pytest.mark.parametrize("k", range(len(CONFIGS)), ids=IDS)
def test_matches_torch_fixture(k):
    cfg = CONFIGS[k]
    ours, opt = run_ours(cfg["name"], cfg["kwargs"])
    theirs = FIXTURE[f"c{k}_traj"]
    assert ours.shape == theirs.shape == (META["steps"] + 1, 7)
    # the run must move by far more than the tolerance, or matching would prove nothing
    assert np.max(np.abs(theirs[-1] - theirs[0])) > 1e-3
    assert_traj_close(ours, theirs)
    # final state: the same names and values
    torch_keys = {(i, key) for i, key in cfg["state_keys"]}
    our_keys = {(i, key) for i, st in enumerate(opt.state) for key in st}
    assert our_keys == torch_keys
    for i, key in torch_keys:
        expected = FIXTURE[f"c{k}_p{i}_{key}"]
        got = np.asarray(opt.state[i][key], dtype=np.float64)
        if key == "step":
            assert got == expected == META["steps"]
        else:
            assert_traj_close(got.ravel(), expected.ravel())


@pytest.mark.parametrize("k", range(len(META["sequences"])))
def test_extreme_gradient_sequences_round_as_torchs_lerp(k):
    # beta1 = 0 and gradients 1e8 then 1e-8: PyTorch's lerp switches formula for weight >= 0.5,
    # and the textbook m + w(g - m) loses the small gradient entirely.
    seq = META["sequences"][k]
    x = np.array([seq["x0"]])
    opt = CLASSES[seq["name"]]([x], **{k2: (tuple(v) if k2 == "betas" else v)
                                        for k2, v in seq["kwargs"].items()})
    rows = [x[0]]
    for g in seq["grads"]:
        opt.step([np.array([g])])
        rows.append(x[0])
    theirs = FIXTURE[f"s{k}_traj"]
    np.testing.assert_allclose(rows, theirs, rtol=1e-14, atol=0)


def test_textbook_lerp_would_fail_the_sequence_test():
    # The check above can fail: with the one-formula moving average m + (1 - beta1)(g - m), the
    # Adamax sequence ends elsewhere.
    seq = META["sequences"][0]
    assert seq["name"] == "Adamax" and tuple(seq["kwargs"]["betas"]) == (0.0, 0.0)
    x, m, u = seq["x0"], 0.0, 0.0
    lr = seq["kwargs"]["lr"]
    for t, g in enumerate(seq["grads"], start=1):
        m = m + 1.0 * (g - m)
        u = max(0.0 * u, abs(g) + 1e-8)
        x = x - lr / (1 - 0.0**t) * m / u
    assert abs(x - FIXTURE["s0_traj"][-1]) > 1e-3


# -------------------------------------------------------------------------------------------
# live comparison with torch, when it is installed
LIVE = [k for k, c in enumerate(CONFIGS) if c["source"] == "adamedu"][::3]


@pytest.mark.parametrize("k", LIVE, ids=[IDS[k] for k in LIVE])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_live_against_torch(k, dtype):
    torch = pytest.importorskip("torch")
    cfg = CONFIGS[k]
    steps = 100
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # keep PyTorch's scalar state in float64
    try:
        theirs, _ = ref.torch_trajectory(cfg["name"], cfg["kwargs"], DATA, steps=steps, dtype=dtype)
    finally:
        torch.set_default_dtype(old)
    ours, _ = run_ours(cfg["name"], cfg["kwargs"], steps=steps, dtype=np.dtype(dtype))
    if dtype == "float64":
        assert_traj_close(ours, theirs)
    else:
        assert_traj_close(ours, theirs, rtol=RTOL32)


@pytest.mark.parametrize("name", ref.CLASSES)
def test_signature_and_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    cls = CLASSES[name]
    tsig = inspect.signature(getattr(torch.optim, name).__init__).parameters
    osig = inspect.signature(cls.__init__).parameters
    torch_only = {"foreach", "fused", "capturable", "differentiable"}
    ours_only = {"track_updates", "bias_correction"}
    assert set(tsig) - torch_only == set(osig) - ours_only
    for option in set(tsig) - torch_only - {"self", "params"}:
        assert osig[option].default == tsig[option].default, option


@pytest.mark.parametrize("name", ref.CLASSES)
def test_state_dict_layout_matches_torch(name):
    torch = pytest.importorskip("torch")
    cfg = next(c for c in CONFIGS if c["name"] == name and "groups" in c["kwargs"])
    tparams = [torch.tensor(x, requires_grad=True) for x in DATA["x0"]]
    spec, kw = ref.param_spec(tparams, cfg["kwargs"])
    topt = getattr(torch.optim, name)(spec, **kw)
    for p in tparams:
        p.grad = torch.ones_like(p)
    topt.step()
    theirs = topt.state_dict()
    params = [np.array(x) for x in DATA["x0"]]
    spec, kw = constructor_args(params, cfg["kwargs"])
    opt = CLASSES[name](spec, **kw)
    opt.step([np.ones_like(p) for p in params])
    ours = opt.state_dict()
    assert set(ours) == set(theirs)
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    torch_only = {"foreach", "fused", "capturable", "differentiable"}
    for og, tg in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(og) - {"bias_correction"} == set(tg) - torch_only
        for key in set(og) & set(tg) - {"params"}:
            assert og[key] == (tuple(tg[key]) if key == "betas" else tg[key]), key
    assert set(ours["state"]) == set(theirs["state"])
    for i in ours["state"]:
        assert set(ours["state"][i]) == set(theirs["state"][i])
