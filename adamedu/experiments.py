r"""Seeded, repeatable optimizer experiments: one training run, a comparison over seeds, a grid.

The book's experiment chapters use three layers:

- :func:`train` runs one optimizer on one problem from one seed, optionally with the step-size
  schedule :math:`\alpha_t = \alpha/\sqrt t`, and records the full training loss at chosen steps.
  A run whose parameters or loss stop being finite is marked *diverged*: its loss is ``inf`` from
  that point on (the optimizers refuse non-finite gradients with ``FloatingPointError``, which is
  caught here and recorded as a divergence).
- :func:`repeat` repeats a run over several seeds and returns :class:`Curves` (mean and spread).
- :class:`Rescaled` wraps a problem with rescaled parameters and/or a scaled loss.
- :func:`tune_lr` picks a learning rate from a grid on its own tuning seeds, so that the seeds that
  are reported are not the seeds that chose the hyperparameters.

Seeds: run ``s`` draws its minibatches from ``numpy.random.default_rng(s)``; when the problem has an
``init(seed)`` method (the MLP), the starting point is ``problem.init(s)`` as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["set_lr", "train", "Curves", "repeat", "tune_lr", "record_steps", "Rescaled"]


def set_lr(optimizer, lr: float) -> None:
    """Change an optimizer's learning rate between steps (a schedule), validating it."""
    lr = float(lr)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"Invalid lr: {lr} (must be a finite number >= 0)")
    optimizer.defaults["lr"] = lr


def record_steps(steps: int, points: int = 40) -> np.ndarray:
    """About ``points`` roughly log-spaced step counts from 0 to ``steps`` (0 and ``steps`` included)."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"Invalid steps: {steps} (must be a positive integer)")
    grid = np.unique(np.round(np.geomspace(1, steps, points)).astype(int))
    return np.concatenate(([0], grid))


def _scheduled_lr(lr: float, schedule: str, t: int) -> float:
    if schedule == "constant":
        return lr
    if schedule == "inv_sqrt":
        return lr / math.sqrt(t)
    raise ValueError(f"Invalid schedule: {schedule!r} (must be 'constant' or 'inv_sqrt')")


def train(optimizer_cls, problem, steps: int, seed: int = 0, lr: float = 1e-3,
          schedule: str = "constant", record_at=None, x0=None, metric=None, **hyperparameters):
    r"""Run ``optimizer_cls`` on ``problem`` for ``steps`` steps from one seed.

    Parameters
    ----------
    optimizer_cls : type
        An :mod:`adamedu.optim` class.
    problem : object
        Anything with ``loss``, ``stochastic_grad`` and ``x0`` (see :mod:`adamedu.problems`).
    steps : int
        Number of optimizer steps.
    seed : int
        Seeds the minibatch generator (and the initialisation, when ``problem`` has ``init``).
    lr : float
        The base learning rate :math:`\alpha`.
    schedule : {"constant", "inv_sqrt"}
        ``"inv_sqrt"`` uses :math:`\alpha_t = \alpha/\sqrt t` at step t (the paper's logistic
        regression experiment).
    record_at : array_like of int, optional
        Step counts at which to record ``metric`` (0 is the start); default :func:`record_steps`.
    x0 : array_like, optional
        Start (copied); default ``problem.init(seed)`` if available, else ``problem.x0``.
    metric : callable, optional
        ``metric(x) -> float``, default ``problem.loss`` (the full training loss).
    **hyperparameters
        Passed to the optimizer (``betas``, ``momentum``, ``bias_correction``, ...).

    Returns
    -------
    (record_at, values, x) :
        the recorded step counts, the metric at those steps (``inf`` after a divergence) and the
        final parameters.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"Invalid steps: {steps} (must be a positive integer)")
    record_at = record_steps(steps) if record_at is None else np.asarray(record_at, dtype=int)
    if record_at.size == 0 or np.any(np.diff(record_at) <= 0) or record_at[0] < 0 or record_at[-1] > steps:
        raise ValueError("Invalid record_at: must be increasing step counts within [0, steps]")
    metric = problem.loss if metric is None else metric
    if x0 is None:
        x0 = problem.init(seed) if hasattr(problem, "init") else problem.x0
    x = np.array(x0, dtype=np.float64)
    rng = np.random.default_rng(seed)
    opt = optimizer_cls([x], lr=lr, **hyperparameters)
    values = np.full(record_at.shape, np.inf)
    k = 0
    if record_at[0] == 0:
        values[0] = metric(x)
        k = 1
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(record_at[-1]) + 1):
            set_lr(opt, _scheduled_lr(lr, schedule, t))
            try:
                opt.step([problem.stochastic_grad(x, rng)])
            except FloatingPointError:
                break  # non-finite gradient: diverged, the remaining values stay inf
            if not np.all(np.isfinite(x)):
                break
            if t == record_at[k]:
                value = float(metric(x))
                if not math.isfinite(value):
                    break
                values[k] = value
                k += 1
    return record_at, values, x


@dataclass
class Curves:
    """One configuration repeated over seeds: ``values[i, j]`` is seed ``seeds[i]`` at ``steps[j]``."""

    label: str
    steps: np.ndarray
    values: np.ndarray
    seeds: tuple
    hyperparameters: dict

    @property
    def mean(self) -> np.ndarray:
        return self.values.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.values.std(axis=0, ddof=1) if len(self.seeds) > 1 else np.zeros(self.values.shape[1])

    @property
    def low(self) -> np.ndarray:
        return self.values.min(axis=0)

    @property
    def high(self) -> np.ndarray:
        return self.values.max(axis=0)

    @property
    def final(self) -> np.ndarray:
        """The last recorded value of every seed."""
        return self.values[:, -1]

    def at(self, step: int) -> np.ndarray:
        """The values of every seed at recorded step count ``step``."""
        j = np.flatnonzero(self.steps == step)
        if j.size == 0:
            raise ValueError(f"Invalid step: {step} (not recorded)")
        return self.values[:, j[0]]


def repeat(optimizer_cls, problem, steps: int, seeds=(0, 1, 2), label: str | None = None,
           record_at=None, **kwargs) -> Curves:
    """:func:`train` once per seed with the same settings; returns :class:`Curves`."""
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("Invalid seeds: need at least one")
    record_at = record_steps(steps) if record_at is None else np.asarray(record_at, dtype=int)
    rows = [train(optimizer_cls, problem, steps, seed=s, record_at=record_at, **kwargs)[1] for s in seeds]
    hyper = dict(kwargs)
    return Curves(label=label or optimizer_cls.__name__, steps=record_at, values=np.array(rows),
                  seeds=seeds, hyperparameters=hyper)


def tune_lr(optimizer_cls, problem, steps: int, lrs, seeds=(100,), **kwargs):
    """The learning rate from ``lrs`` with the lowest mean final training loss on ``seeds``.

    Diverged runs count as ``inf``. Returns ``(best_lr, final_losses)`` where ``final_losses[i]``
    is the mean final loss for ``lrs[i]``. Use tuning seeds that differ from the reported ones.
    """
    lrs = [float(lr) for lr in lrs]
    if not lrs:
        raise ValueError("Invalid lrs: need at least one learning rate")
    finals = np.array([
        np.mean([train(optimizer_cls, problem, steps, seed=s, lr=lr, record_at=[steps], **kwargs)[1][-1]
                 for s in seeds])
        for lr in lrs
    ])
    return lrs[int(np.argmin(finals))], finals


class Rescaled:
    r"""A problem seen through rescaled parameters and a scaled loss.

    With ``param_scale`` :math:`k` and ``loss_scale`` :math:`c`, the parameters are
    :math:`\theta' = k\,\theta` and the loss is :math:`c\,f(\theta'/k)`, so the gradient an
    optimizer sees is :math:`(c/k)\,\nabla f(\theta'/k)`. Rescaling the parameters is the
    reparametrisation :math:`y = (w'/k)\,x` of a weight :math:`w = w'/k`; scaling the loss is what
    mixed-precision *loss scaling* does. The minibatches are those of the wrapped problem with the same
    ``rng``, so a rescaled run and the original see the same data.
    """

    def __init__(self, problem, param_scale: float = 1.0, loss_scale: float = 1.0):
        for name, value in (("param_scale", param_scale), ("loss_scale", loss_scale)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Invalid {name}: {value} (must be a positive finite number)")
        self.problem = problem
        self.param_scale = float(param_scale)
        self.loss_scale = float(loss_scale)
        self.dim = problem.dim
        self.x0 = self.param_scale * np.asarray(problem.x0, dtype=np.float64)
        minimizer = getattr(problem, "minimizer", None)
        self.minimizer = None if minimizer is None else self.param_scale * np.asarray(minimizer)
        self.name = f"{problem.name} (θ'={self.param_scale:g}·θ, loss×{self.loss_scale:g})"

    def original(self, x):
        """The original problem's parameters θ = θ'/k."""
        return np.asarray(x, dtype=np.float64) / self.param_scale

    def loss(self, x):
        return self.loss_scale * self.problem.loss(self.original(x))

    def grad(self, x):
        return (self.loss_scale / self.param_scale) * self.problem.grad(self.original(x))

    def stochastic_grad(self, x, rng):
        return (self.loss_scale / self.param_scale) * self.problem.stochastic_grad(self.original(x), rng)

    def init(self, seed: int = 0):
        """``param_scale`` times the wrapped problem's ``init(seed)`` (or its ``x0``)."""
        base = self.problem.init(seed) if hasattr(self.problem, "init") else self.problem.x0
        return self.param_scale * np.asarray(base, dtype=np.float64)
