r"""The online convex problem on which Adam fails to converge (Reddi, Kale & Kumar, 2018).

Online learning: at each step :math:`t = 1, 2, \dots` the learner picks :math:`x_t \in [-1, 1]`, then
pays :math:`f_t(x_t)` where

.. math::

    f_t(x) = \begin{cases} C\,x & t \bmod 3 = 1,\\ -x & \text{otherwise,} \end{cases}
    \qquad C > 2.

Over each period of three steps the losses add up to :math:`(C - 2)\,x`, so the best fixed decision
in hindsight is :math:`x^\star = -1`. With :math:`\beta_1 = 0` and :math:`\beta_2 = 1/(1 + C^2)`
Adam (followed by projection onto :math:`[-1, 1]`) drifts to :math:`x = +1` instead, and its average
regret :math:`R_T / T` does not go to zero; AMSGrad converges to :math:`-1`.

:func:`run_online` drives any :mod:`adamedu.optim` optimizer on this problem with the projection
and an optional step-size schedule :math:`\alpha_t = \alpha/\sqrt t`, and returns an
:class:`OnlineTrace` with the decisions, the regret and the effective step sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from adamedu.experiments import inverse_sqrt
from adamedu.trace import run

__all__ = ["ReddiProblem", "OnlineTrace", "run_online"]


class ReddiProblem:
    r"""The linear online problem of Reddi, Kale & Kumar (2018), Theorem 1, on :math:`[-1, 1]`.

    Parameters
    ----------
    C : float
        Size of the rare large gradient; must be greater than 2 so that the average loss
        :math:`(C - 2)\,x / 3` increases with :math:`x`.
    """

    lower = -1.0
    upper = 1.0
    minimizer = -1.0

    def __init__(self, C: float = 3.0):
        C = float(C)
        if not (math.isfinite(C) and C > 2):
            raise ValueError(f"Invalid C: {C} (must be a finite number greater than 2)")
        self.C = C
        self.name = f"Reddi et al. online problem (C={C:g})"

    @property
    def critical_beta2(self) -> float:
        """The β2 = 1/(1 + C²) of the counterexample."""
        return 1.0 / (1.0 + self.C**2)

    def grad(self, t):
        """Gradient of f_t (constant in x): C when t mod 3 = 1, else -1. ``t`` may be an array."""
        t = np.asarray(t)
        return np.where(t % 3 == 1, self.C, -1.0)

    def gradient_at(self, x, t: int) -> np.ndarray:
        """The gradient of f_t at ``x`` (every entry of ``x`` is an independent copy of the problem)."""
        return np.full_like(np.asarray(x, dtype=np.float64), self.grad(t))

    def loss(self, x, t):
        """f_t(x) = grad(t) * x, broadcast over arrays of x and t."""
        return self.grad(t) * np.asarray(x, dtype=np.float64)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Euclidean projection onto [-1, 1], in place; returns ``x``."""
        np.clip(x, self.lower, self.upper, out=x)
        return x

    def regret(self, decisions) -> np.ndarray:
        r"""Cumulative regret :math:`R_T = \sum_{t\le T} f_t(x_t) - \min_{x} \sum_{t \le T} f_t(x)`.

        ``decisions[t-1]`` is :math:`x_t` (extra trailing axes are independent runs). Returns the
        array of :math:`R_T` for T = 1 .. len(decisions).
        """
        x = np.asarray(decisions, dtype=np.float64)
        t = np.arange(1, x.shape[0] + 1)
        g = self.grad(t).reshape((-1,) + (1,) * (x.ndim - 1))
        paid = np.cumsum(g * x, axis=0)
        total_grad = np.cumsum(g, axis=0)
        best = -np.abs(total_grad)  # min over x in [-1, 1] of (sum of gradients) * x
        return paid - best


@dataclass
class OnlineTrace:
    """A run on an online problem.

    ``x``: decisions, shape ``(steps + 1, *shape)``, row 0 the start and row t the decision
    :math:`x_{t+1}` made after seeing :math:`f_1, \\dots, f_t`; ``grad``: the gradients seen,
    shape ``(steps,)``; ``regret``: :math:`R_T` for T = 1 .. steps (decisions ``x[:-1]``);
    ``step_size``: the optimizer's effective per-coordinate step size η_t at each step (shape
    ``(steps, *shape)``), so that :math:`1/\\eta_t` is the quantity whose increase the convergence
    proofs need to be non-negative; ``lr``: the learning rate used at each step.
    """

    x: np.ndarray
    grad: np.ndarray
    regret: np.ndarray
    step_size: np.ndarray
    lr: np.ndarray

    @property
    def average_regret(self) -> np.ndarray:
        """R_T / T for T = 1 .. steps."""
        T = np.arange(1, len(self.regret) + 1).reshape((-1,) + (1,) * (self.regret.ndim - 1))
        return self.regret / T

    @property
    def inverse_step_increase(self) -> np.ndarray:
        r""":math:`\Gamma_t = 1/\eta_t - 1/\eta_{t-1}` for t = 2 .. steps (Reddi et al.'s Γ in 1-D)."""
        return np.diff(1.0 / self.step_size, axis=0)


def run_online(optimizer_cls, problem: ReddiProblem, steps: int, x0=0.0, lr: float = 0.1,
               decay: bool = True, **hyperparameters) -> OnlineTrace:
    r"""Run ``optimizer_cls`` on ``problem`` for ``steps`` rounds with projection onto [-1, 1].

    The learning rate is :math:`\alpha_t = \alpha/\sqrt t` when ``decay`` is true (the schedule of
    the counterexample's theorem), else constant. ``x0`` may be a scalar or an array: every entry is
    an independent copy of the problem (the optimizers act coordinate-wise), which is how several
    starts run in one vectorised pass. Remaining keyword arguments go to the optimizer (e.g.
    ``betas``, ``amsgrad``).
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"Invalid steps: {steps} (must be a positive integer)")
    x = np.array(x0, dtype=np.float64, ndmin=1)
    problem.project(x)
    trace = run(optimizer_cls, problem, steps, x0=x, record=("params", "step_size", "lr"),
                lr_schedule=inverse_sqrt(lr) if decay else None, project=problem.project,
                lr=lr, **hyperparameters)
    grads = problem.grad(np.arange(1, steps + 1)).astype(np.float64)
    return OnlineTrace(x=trace.params, grad=grads, regret=problem.regret(trace.params[:-1]),
                       step_size=trace.step_size, lr=trace.lr)
