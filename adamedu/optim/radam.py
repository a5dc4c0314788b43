r"""RAdam: Adam with a rectified adaptive step (Liu et al., 2020), as ``torch.optim.RAdam``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_, ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``.

    Algorithm (:math:`\gamma` = ``lr``; PyTorch's documentation)::

        m_0 <- 0, v_0 <- 0, rho_inf <- 2 / (1 - beta2) - 1
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:
                decoupled:  theta_{t-1} <- (1 - gamma * lambda) * theta_{t-1}
                otherwise:  g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            mhat_t <- m_t / (1 - beta1^t)
            rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
            if rho_t > 5:
                l_t <- sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
                r_t <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                theta_t <- theta_{t-1} - gamma * mhat_t * l_t * r_t
            else:
                theta_t <- theta_{t-1} - gamma * mhat_t

    :math:`\rho_t` is the length of a simple moving average that :math:`v_t` approximates; while
    it is small, the variance of the adaptive step :math:`l_t` is large (unbounded for
    :math:`\rho_t \le 4`), so RAdam takes plain momentum steps, then scales the adaptive step by
    :math:`r_t`, which rises towards 1.

    Differences from the paper: the paper switches to the adaptive step when :math:`\rho_t > 4`;
    PyTorch when :math:`\rho_t > 5`. With the default :math:`\beta_2 = 0.999` that first holds
    at step 6, so steps 1 to 5 are momentum SGD with bias correction. The paper's
    :math:`l_t = \sqrt{(1-\beta_2^t)/v_t}` has no ``eps``.

    State: ``step`` (t), ``exp_avg``, ``exp_avg_sq``.

    Step size (``track_updates``): :math:`\eta_t = \gamma r_t l_t / (1-\beta_1^t)` when
    :math:`\rho_t > 5`, else :math:`\gamma / (1-\beta_1^t)`; :math:`\Delta_t = -\eta_t \odot m_t`
    (minus :math:`\gamma\lambda\theta_{t-1}` with decoupled weight decay).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "decoupled_weight_decay": hp.flag,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False,
                 *, maximize: bool = False, track_updates: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, **options):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    @staticmethod
    def rectification(t: int, beta2: float) -> tuple[float, float | None]:
        r""":math:`(\rho_t, r_t)`; :math:`r_t` is None while :math:`\rho_t \le 5` (no adaptive step)."""
        rho_inf = 2 / (1 - beta2) - 1                                       # ρ_∞
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)                 # ρ_t
        if rho_t <= 5:
            return rho_t, None
        r_t = ((rho_t - 4) * (rho_t - 2) * rho_inf
               / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5            # r_t
        return rho_t, r_t

    def _update(self, p, g, state, *, lr, betas, eps, weight_decay,
                decoupled_weight_decay, maximize):
        beta1, beta2 = betas
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        g = -g if maximize else g
        if weight_decay and decoupled_weight_decay:
            p *= 1 - lr * weight_decay            # θ ← (1 − γλ)θ
        elif weight_decay:
            g = g + weight_decay * p              # g ← g + λθ
        ema_(m, g, beta1)                         # m ← β₁m + (1 − β₁)g
        ema_sq_(v, g, beta2)                      # v ← β₂v + (1 − β₂)g²
        m_hat = m / (1 - beta1**t)                # m̂ ← m / (1 − β₁ᵗ)
        rho_t, r_t = self.rectification(t, beta2)
        if r_t is not None:                       # ρₜ > 5: rectified step
            l_t = (1 - beta2**t) ** 0.5 / (np.sqrt(v) + eps)  # √(1−β₂ᵗ)/(√v+ε)
            p -= m_hat * lr * l_t * r_t           # θ ← θ − γ m̂ l r
        else:
            p -= m_hat * lr                       # θ ← θ − γ m̂

    def _moments(self, state, *, betas, **options):
        t = state["step"]
        return state["exp_avg"] / (1 - betas[0] ** t), state["exp_avg_sq"] / (1 - betas[1] ** t)

    def _step_size(self, p, state, *, lr, betas, eps, **options):
        beta1, beta2 = betas
        t = state["step"]
        _, r_t = self.rectification(t, beta2)
        if r_t is None:
            return np.full_like(p, lr / (1 - beta1**t))
        l_t = (1 - beta2**t) ** 0.5 / (np.sqrt(state["exp_avg_sq"]) + eps)
        return lr / (1 - beta1**t) * l_t * r_t
