r"""RMSprop (Hinton, 2012), with Graves' (2013) centred variant and momentum, as ``torch.optim``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_, ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012, lecture 6e), as ``torch.optim.RMSprop``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\alpha` = ``alpha``, :math:`\mu` = ``momentum``,
    :math:`\lambda` = ``weight_decay``; PyTorch's documentation)::

        v_0 <- 0, b_0 <- 0, g^ave_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            v_t <- alpha * v_{t-1} + (1 - alpha) * g_t^2
            if centered:
                g^ave_t <- alpha * g^ave_{t-1} + (1 - alpha) * g_t
                denom <- sqrt(v_t - (g^ave_t)^2) + eps
            else:
                denom <- sqrt(v_t) + eps
            if mu > 0:
                b_t <- mu * b_{t-1} + g_t / denom
                theta_t <- theta_{t-1} - gamma * b_t
            else:
                theta_t <- theta_{t-1} - gamma * g_t / denom

    Differences from the lecture: the lecture has no ``eps`` and no bias correction (there is
    none here either: early steps divide by a :math:`\sqrt{v_t}` biased towards zero);
    ``centered`` is Graves' (2013) variant, which divides by an estimate of the standard deviation
    instead of the root mean square; ``eps`` is added outside the square root.

    State: ``step`` (t), ``square_avg`` (:math:`v_t`), plus ``momentum_buffer`` if ``momentum > 0``
    and ``grad_avg`` if ``centered``.

    Step size (``track_updates``): without momentum :math:`\eta_t = \gamma / \mathrm{denom}_t`
    with :math:`\Delta_t = -\eta_t \odot g_t`; with momentum :math:`\eta_t = \gamma` and
    :math:`\Delta_t = -\gamma\, b_t` (the buffer already holds normalised gradients).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "alpha": hp.nonnegative("Invalid alpha value"),
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "momentum": hp.momentum,
        "centered": hp.flag,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False, track_updates: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, *, momentum, centered, **options):
        state = {"step": 0, "square_avg": np.zeros_like(p)}
        if momentum > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if centered:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, *, lr, alpha, eps, weight_decay, momentum,
                centered, maximize):
        v = state["square_avg"]
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p                    # g ← g + λθ
        ema_sq_(v, g, alpha)                            # v ← αv + (1 − α)g²
        if centered:
            g_ave = ema_(state["grad_avg"], g, alpha)   # ḡ ← αḡ + (1 − α)g
            denom = np.sqrt(v - g_ave * g_ave) + eps    # √(v − ḡ²) + ε
        else:
            denom = np.sqrt(v) + eps                    # √v + ε
        if momentum > 0:
            b = state["momentum_buffer"]
            b[...] = momentum * b + g / denom           # b ← μb + g / denom
            p -= lr * b                                 # θ ← θ − γb
        else:
            p -= lr * g / denom                         # θ ← θ − γg / denom

    def _step_size(self, p, state, *, lr, eps, momentum, centered, **options):
        if momentum > 0:
            return np.full_like(p, lr)
        v = state["square_avg"]
        if centered:
            v = v - state["grad_avg"] ** 2
        return lr / (np.sqrt(v) + eps)
