r"""Stochastic gradient descent with (Nesterov) momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay``; PyTorch's documentation)::

        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            if mu != 0:
                b_t <- g_t                              if t = 1
                b_t <- mu * b_{t-1} + (1 - tau) * g_t   otherwise
                g_t <- g_t + mu * b_t  if nesterov  else  g_t <- b_t
            theta_t <- theta_{t-1} - gamma * g_t

    Differences from the literature: Sutskever et al. (2013) write momentum as a velocity,
    :math:`v \leftarrow \mu v - \gamma g`, :math:`\theta \leftarrow \theta + v`; the two agree while
    ``lr`` is constant (PyTorch multiplies the whole buffer by the current ``lr``). The first
    buffer is the gradient itself, not :math:`(1-\tau) g_1`. Nesterov's variant is the
    "look-ahead" rewriting of Bengio et al. (2013).

    State: ``momentum_buffer`` (:math:`b_t`), from the first step on, only when ``momentum != 0``.

    Step size (``track_updates``): :math:`\eta_t = \gamma` in every coordinate, and
    :math:`\Delta_t = -\gamma\, g_t` with the final :math:`g_t` above.
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "momentum": hp.momentum,
        "dampening": hp.nonnegative("Invalid dampening value"),
        "weight_decay": hp.weight_decay,
        "nesterov": hp.flag,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 track_updates: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _check_options(self, options):
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _init_state(self, p, **options):
        return {}

    def _begin_step(self, p, state, *, momentum, **options):
        first_step = momentum != 0 and "momentum_buffer" not in state
        if first_step:
            state["momentum_buffer"] = np.empty_like(p)
        return {"first_step": first_step}

    def _update(self, p, g, state, *, lr, momentum, dampening, weight_decay,
                nesterov, maximize, first_step):
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p                   # g ← g + λθ
        if momentum:
            b = state["momentum_buffer"]
            if first_step:
                b[...] = g                             # b ← g   (t = 1)
            else:
                b[...] = momentum * b + (1 - dampening) * g  # b ← μb + (1−τ)g
            g = g + momentum * b if nesterov else b    # g ← g + μb,  or  g ← b
        p -= lr * g                                    # θ ← θ − γg

    def _step_size(self, p, state, *, lr, **options):
        return np.full_like(p, lr)
