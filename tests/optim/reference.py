"""The committed PyTorch reference trajectories and how to run ``adamedu`` on the same problem."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np

from adamedu import optim

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_torch_reference", os.path.join(HERE, "..", "fixtures", "make_torch_reference.py")
)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

CLASSES = {name: getattr(optim, name) for name in ref.CLASSES}
FIXTURE = np.load(ref.FIXTURE)
META = json.loads(str(FIXTURE["meta"]))
CONFIGS = META["configs"]
DATA = {
    "A": FIXTURE["A"],
    "c": FIXTURE["c"],
    "noise": FIXTURE["noise"],
    "x0": [FIXTURE["x0_0"], FIXTURE["x0_1"]],
}

# Trajectory tolerance. Both implementations evaluate the same formulas in float64, but not with
# bitwise-identical rounding: PyTorch's vectorised CPU kernels use fused multiply-adds, and Adam's
# last line is written here as the paper writes it (m̂/(√v̂ + ε)) rather than in PyTorch's order.
# Each step differs by a few units in the last place and the parameter-dependent gradients feed
# these differences into every later step. Coordinates that pass near zero make a pure elementwise
# relative test meaningless, so errors are measured relative to |reference| + max|trajectory|. The
# largest error over all fixtures is about 1e-15 on that scale; 1e-12 leaves three orders of
# magnitude for other CPUs, while any algorithmic difference (a bias correction, where eps goes, a
# threshold, a state update, PyTorch's lerp formula) shows up at 1e-8 or more.
RTOL = 1e-12
# float32: every operation rounds at ~6e-8 and the two implementations round differently.
RTOL32 = 1e-5


def scaled_error(ours, theirs) -> float:
    """max |ours − theirs| / (|theirs| + max|theirs|): the error measure of the parity tests."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    scale = np.max(np.abs(theirs))
    return float(np.max(np.abs(ours - theirs) / (np.abs(theirs) + scale)))


def assert_traj_close(ours, theirs, rtol=RTOL):
    worst = scaled_error(ours, theirs)
    assert worst <= rtol, f"max scaled error {worst:.3e} exceeds {rtol:.0e}"


def constructor_args(params, kwargs):
    """``(params, kwargs)`` for an adamedu constructor from a fixture configuration."""
    spec, kw = ref.param_spec(params, kwargs)
    if kw.pop("tensor_lr", False):
        kw["lr"] = np.array(kw["lr"])  # PyTorch's tests pass a 0-d tensor: a one-element array here
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    return spec, kw


def run_ours(name, kwargs, data=DATA, steps=None, dtype=np.float64):
    """Run ``adamedu.optim.<name>`` on the fixture problem; return (trajectory, optimizer)."""
    steps = META["steps"] if steps is None else steps
    params = [np.array(x, dtype=dtype) for x in data["x0"]]
    spec, kw = constructor_args(params, kwargs)
    opt = CLASSES[name](spec, **kw)
    maximize = kwargs.get("maximize", False)
    rows = [np.concatenate([p.astype(np.float64).ravel() for p in params])]
    for t in range(steps):
        grads = ref.gradient(data, params, t, maximize)
        opt.step([g.astype(dtype) for g in grads])
        rows.append(np.concatenate([p.astype(np.float64).ravel() for p in params]))
    return np.array(rows), opt
