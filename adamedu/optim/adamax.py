r"""AdaMax, Adam's infinity-norm variant (Kingma and Ba, 2015, Sec. 7.1), as ``torch.optim``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_
from adamedu.optim.optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""AdaMax (Kingma and Ba, 2015, Sec. 7.1), as ``torch.optim.Adamax``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\lambda` = ``weight_decay``; PyTorch's
    documentation)::

        m_0 <- 0, u_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            u_t <- max(beta2 * u_{t-1}, |g_t| + eps)
            theta_t <- theta_{t-1} - gamma / (1 - beta1^t) * m_t / u_t

    Difference from the paper: the paper's :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` has no
    ``eps``; PyTorch adds it *inside* the maximum (so :math:`u_t \ge \epsilon`).

    State: ``step`` (t), ``exp_avg`` (:math:`m_t`), ``exp_inf`` (:math:`u_t`).

    Step size (``track_updates``): :math:`\eta_t = \gamma / ((1-\beta_1^t)\,u_t)`,
    :math:`\Delta_t = -\eta_t \odot m_t`.
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False,
                 track_updates: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, **options):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, betas, eps, weight_decay, maximize):
        beta1, beta2 = betas
        t, m, u = state["step"], state["exp_avg"], state["exp_inf"]
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p                   # g ← g + λθ
        ema_(m, g, beta1)                              # m ← β₁m + (1 − β₁)g
        np.maximum(beta2 * u, np.abs(g) + eps, out=u)  # u ← max(β₂u, |g| + ε)
        p -= lr / (1 - beta1**t) * m / u              # θ ← θ − γm/((1−β₁ᵗ)u)

    def _moments(self, state, *, betas, **options):
        # m̂ as Adam's; v̂ = u², so that √v̂ = u is what the step divides by.
        return state["exp_avg"] / (1 - betas[0] ** state["step"]), state["exp_inf"] ** 2

    def _step_size(self, p, state, *, lr, betas, **options):
        return lr / (1 - betas[0] ** state["step"]) / state["exp_inf"]
