r"""NAdam: Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_, ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\psi` = ``momentum_decay``; PyTorch's
    documentation)::

        m_0 <- 0, v_0 <- 0, mu_product_0 <- 1
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:
                decoupled:  theta_{t-1} <- (1 - gamma * lambda) * theta_{t-1}
                otherwise:  g_t <- g_t + lambda * theta_{t-1}
            mu_t     <- beta1 * (1 - 0.5 * 0.96^(t * psi))
            mu_{t+1} <- beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
            mu_product_t <- mu_product_{t-1} * mu_t                (= prod_{i<=t} mu_i)
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            denom <- sqrt(v_t / (1 - beta2^t)) + eps
            theta_t <- theta_{t-1} - gamma * (1 - mu_t) / (1 - mu_product_t) * g_t / denom
                                   - gamma * mu_{t+1} / (1 - mu_product_t * mu_{t+1}) * m_t / denom

    The two terms are Nesterov's look-ahead: the current gradient, weighted as if it were the
    newest term of a bias-corrected average, plus the momentum the *next* step will apply.

    Differences from the paper: Dozat's moving average uses the scheduled :math:`\mu_t`
    (:math:`m_t = \mu_t m_{t-1} + (1-\mu_t) g_t`); PyTorch keeps the constant :math:`\beta_1`
    in the average and uses the schedule only in the two coefficients. PyTorch keeps
    ``mu_product`` in the default tensor dtype (float32 unless changed); here it is a Python float.

    State: ``step`` (t), ``mu_product`` (:math:`\prod_{i\le t}\mu_i`), ``exp_avg``,
    ``exp_avg_sq``.

    Step size (``track_updates``): :math:`\eta_t = \gamma / \mathrm{denom}_t`, with
    :math:`\Delta_t = -\eta_t \odot d_t`, :math:`d_t = \frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\, g_t +
    \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\, m_t` (minus :math:`\gamma\lambda\theta_{t-1}`
    with decoupled weight decay).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "momentum_decay": hp.nonnegative("Invalid momentum_decay value"),
        "decoupled_weight_decay": hp.flag,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 track_updates: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, **options):
        return {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(p),
                "exp_avg_sq": np.zeros_like(p)}

    def _begin_step(self, p, state, *, betas, momentum_decay, **options):
        t = state["step"] = state["step"] + 1
        beta1 = betas[0]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))             # μ_t
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))  # μ_{t+1}
        state["mu_product"] *= mu                                               # Π_{i≤t} μ_i
        return {"mu": mu, "mu_next": mu_next}

    def _update(self, p, g, state, *, lr, betas, eps, weight_decay,
                momentum_decay, decoupled_weight_decay, maximize, mu, mu_next):
        beta1, beta2 = betas
        t, mu_product = state["step"], state["mu_product"]  # Π = μ₁⋯μₜ
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = -g if maximize else g
        if weight_decay and decoupled_weight_decay:
            p *= 1 - lr * weight_decay            # θ ← (1 − γλ)θ
        elif weight_decay:
            g = g + weight_decay * p              # g ← g + λθ
        ema_(m, g, beta1)                         # m ← β₁m + (1 − β₁)g
        ema_sq_(v, g, beta2)                      # v ← β₂v + (1 − β₂)g²
        denom = np.sqrt(v / (1 - beta2**t)) + eps  # √v̂ + ε
        # θ ← θ − γ(1 − μₜ)/(1 − Π)·g/denom − γμₜ₊₁/(1 − Πμₜ₊₁)·m/denom:
        p -= lr * (1 - mu) / (1 - mu_product) * g / denom
        p -= lr * mu_next / (1 - mu_product * mu_next) * m / denom

    def _moments(self, state, *, betas, **options):
        t = state["step"]
        return state["exp_avg"] / (1 - betas[0] ** t), state["exp_avg_sq"] / (1 - betas[1] ** t)

    def _step_size(self, p, state, *, lr, betas, eps, **options):
        return lr / (np.sqrt(state["exp_avg_sq"] / (1 - betas[1] ** state["step"])) + eps)
