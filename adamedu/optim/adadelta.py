r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["Adadelta"]


def _rho(name: str, value: Any) -> float:
    rho = hp.number(name, value)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"Invalid rho value: {value}")
    return rho


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    Adadelta divides the gradient by a running RMS of past gradients, as RMSprop does, and
    multiplies it by a running RMS of past *updates*, so that the step has the units of the
    parameter and, in the paper, needs no learning rate.

    .. math::

        E[g^2]_t &= \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t^2 \\
        \Delta x_t &= \frac{\sqrt{E[\Delta x^2]_{t-1} + \epsilon}}
                          {\sqrt{E[g^2]_t + \epsilon}}\; g_t \\
        E[\Delta x^2]_t &= \rho\, E[\Delta x^2]_{t-1} + (1-\rho)\, \Delta x_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma\, \Delta x_t

    with :math:`\gamma` = ``lr``, :math:`g_t \leftarrow -g_t` if ``maximize`` and
    :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` if ``weight_decay`` :math:`\lambda \ne 0`
    (an L2 penalty in the gradient).

    Differences from the paper: the paper has no learning rate (PyTorch's default ``lr=1.0``
    reproduces it) and adds :math:`\epsilon` inside both square roots, as here; its
    recommended :math:`\rho = 0.95` and :math:`\epsilon = 10^{-6}` differ from PyTorch's default
    :math:`\rho = 0.9`.

    State: ``step`` (t), ``square_avg`` (:math:`E[g^2]_t`), ``acc_delta``
    (:math:`E[\Delta x^2]_t`).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "rho": _rho,
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, **options):
        return {"step": 0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, rho, eps, weight_decay, maximize):
        Eg2, Edx2 = state["square_avg"], state["acc_delta"]
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p                  # g ← g + λθ
        ema_sq_(Eg2, g, rho)                   # E[g²] ← ρE[g²] + (1 − ρ)g²
        rms_dx = np.sqrt(Edx2 + eps)           # RMS[Δx] (of the steps so far)
        rms_g = np.sqrt(Eg2 + eps)             # RMS[g]  (with this gradient)
        dx = rms_dx / rms_g * g                # Δx ← RMS[Δx]/RMS[g]·g
        ema_sq_(Edx2, dx, rho)                 # E[Δx²] ← ρE[Δx²] + (1 − ρ)Δx²
        p -= lr * dx                           # θ ← θ − γΔx
