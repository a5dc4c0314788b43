r"""Seeded, repeatable optimizer experiments: one training run, a comparison over seeds, a grid.

The book's experiment chapters use three layers:

- :func:`train` runs one optimizer on one problem from one seed, optionally with the step-size
  schedule :math:`\alpha_t = \alpha/\sqrt t`, and records the full training loss at chosen steps.
  It is :func:`adamedu.trace.run` with ``record=("loss",)``: a run that diverges (the optimizer
  refuses a non-finite gradient, or the parameters end non-finite) has loss ``inf`` from that
  point on.
- :func:`repeat` repeats a run over several seeds and returns :class:`Curves` (mean and spread).
- :func:`tune_lr` picks a learning rate from a grid on its own tuning seeds, so that the seeds that
  are reported are not the seeds that chose the hyperparameters.

Seeds: run ``s`` draws its minibatches from ``numpy.random.default_rng(s)``; when the problem has an
``init(seed)`` method (the MLP), the starting point is ``problem.init(s)`` as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamedu.trace import run

__all__ = ["set_lr", "train", "Curves", "repeat", "tune_lr", "record_steps"]


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (a schedule's one line).

    The same as ``for group in optimizer.param_groups: group["lr"] = lr``; the optimizer checks
    the value before its next step, so a bad one is refused before anything changes.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr


def record_steps(steps: int, points: int = 40) -> np.ndarray:
    """About ``points`` roughly log-spaced step counts from 0 to ``steps`` (0 and ``steps`` included)."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"Invalid steps: {steps} (must be a positive integer)")
    grid = np.unique(np.round(np.geomspace(1, steps, points)).astype(int))
    return np.concatenate(([0], grid))


def inverse_sqrt(lr: float) -> Callable[[int], float]:
    r"""The schedule :math:`\alpha_t = \alpha/\sqrt t` of the paper's convergence theorem."""
    return lambda t: lr / math.sqrt(t)


def train(optimizer_cls, problem, steps: int, seed: int = 0, lr: float | None = None,
          schedule: str = "constant", record_at: Iterable[int] | None = None, x0=None,
          metric: Callable[[np.ndarray], float] | None = None, **hyperparameters: Any):
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
    lr : float, optional
        The base learning rate :math:`\alpha`; by default the optimizer's own default.
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
    if schedule not in ("constant", "inv_sqrt"):
        raise ValueError(f"Invalid schedule: {schedule!r} (must be 'constant' or 'inv_sqrt')")
    if schedule == "inv_sqrt" and lr is None:
        raise ValueError("Invalid lr: the 'inv_sqrt' schedule needs a base learning rate")
    record_at = record_steps(steps) if record_at is None else np.asarray(record_at, dtype=int)
    if lr is not None:
        hyperparameters["lr"] = lr
    trace = run(optimizer_cls, problem, int(record_at[-1]) if record_at.size else 0, x0=x0,
                seed=seed, record=("loss",), record_at=record_at, metric=metric,
                lr_schedule=inverse_sqrt(lr) if schedule == "inv_sqrt" else None,
                on_nonfinite="stop", **hyperparameters)
    values = np.full(record_at.shape, np.inf)
    values[: len(trace.loss)] = trace.loss
    values[~np.isfinite(values)] = np.inf
    if trace.diverged:
        values[np.searchsorted(record_at, trace.steps, side="right"):] = np.inf
    return record_at, values, trace.final


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
