r"""AdaGrad (Duchi, Hazan and Singer, 2011), as ``torch.optim.Adagrad``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan and Singer, 2011), as ``torch.optim.Adagrad``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\eta` = ``lr_decay``, :math:`\lambda` =
    ``weight_decay``, :math:`\tau` = ``initial_accumulator_value``; PyTorch's documentation)::

        state_sum_0 <- tau
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            gamma_t <- gamma / (1 + (t - 1) * eta)
            state_sum_t <- state_sum_{t-1} + g_t^2
            theta_t <- theta_{t-1} - gamma_t * g_t / (sqrt(state_sum_t) + eps)

    Differences from the paper: the paper's diagonal AdaGrad divides by
    :math:`\delta + \sqrt{\sum g^2}` with no learning-rate decay; ``lr_decay`` and
    ``initial_accumulator_value`` are PyTorch's additions (``eps`` plays the role of
    :math:`\delta`, outside the square root).

    State: ``step`` (t), ``sum``. (PyTorch creates Adagrad's state when the optimizer is built;
    here, as for every optimizer in this package, at the parameter's first step.)

    Step size (``track_updates``): :math:`\eta_t = \gamma_t / (\sqrt{\mathrm{sum}_t} + \epsilon)`,
    :math:`\Delta_t = -\eta_t \odot g_t`.
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "lr_decay": hp.nonnegative("Invalid lr_decay value"),
        "weight_decay": hp.weight_decay,
        "initial_accumulator_value": hp.nonnegative("Invalid initial_accumulator_value value"),
        "eps": hp.epsilon,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False, track_updates: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, *, initial_accumulator_value, **options):
        return {"step": 0, "sum": np.full_like(p, initial_accumulator_value)}  # state_sum_0 = τ

    def _update(self, p, g, state, *, lr, lr_decay, weight_decay,
                initial_accumulator_value, eps, maximize):
        t, state_sum = state["step"], state["sum"]
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p                # g ← g + λθ
        lr_t = lr / (1 + (t - 1) * lr_decay)        # γₜ ← γ / (1 + (t − 1)η)
        state_sum += g * g                          # s ← s + g²
        p -= lr_t * g / (np.sqrt(state_sum) + eps)  # θ ← θ − γₜ g / (√s + ε)

    def _step_size(self, p, state, *, lr, lr_decay, eps, **options):
        lr_t = lr / (1 + (state["step"] - 1) * lr_decay)
        return lr_t / (np.sqrt(state["sum"]) + eps)
