r"""AdaBelief (Zhuang et al., 2020), as ``optax.adabelief``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.optimizer import Optimizer

__all__ = ["AdaBelief"]


class AdaBelief(Optimizer):
    r"""AdaBelief (Zhuang et al., 2020), as ``optax.adabelief``: Adam with the spread around m.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        s_t &= \beta_2 s_{t-1} + (1-\beta_2)\, (g_t - m_t)^2 + \epsilon_{\mathrm{root}} \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat s_t = s_t / (1-\beta_2^t) \\
        \theta_t &= \theta_{t-1} - \gamma\, \hat m_t / (\sqrt{\hat s_t} + \epsilon)

    Adam divides by the root of the average :math:`g^2`; AdaBelief by the root of the average
    *surprise* :math:`(g_t - m_t)^2`, how far the gradient lands from the prediction
    :math:`m_t`. When the gradient is consistent (large :math:`g`, small surprise) the step is
    large, larger than Adam's; when it is noisy, the two behave alike.

    Defaults (optax's): :math:`\epsilon = \epsilon_{\mathrm{root}} = 10^{-16}`, where optax
    notes that the paper's are :math:`\epsilon = 10^{-8}` and nothing added inside. The
    :math:`\epsilon_{\mathrm{root}}` accumulates in :math:`s_t` (it is added every step, and
    decays like the rest). The authors' PyTorch package (``adabelief-pytorch`` 0.2) also uses
    :math:`\epsilon = 10^{-16}` added in both places, but by default decouples weight decay and
    *rectifies* the step as RAdam does (``rectify=True``), which optax (and this class) do not.
    ``maximize`` (not in optax) ascends.

    State: ``step`` (t), ``exp_avg`` (:math:`m_t`; optax's ``mu``), ``exp_avg_var``
    (:math:`s_t`, the name the authors' package uses; optax's ``nu``).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "eps_root": hp.nonnegative("Invalid eps_root value"),
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16, *, eps_root: float = 1e-16, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, eps_root=eps_root, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, **options):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_var": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, betas, eps, eps_root, maximize):
        beta1, beta2 = betas
        t, m, s = state["step"], state["exp_avg"], state["exp_avg_var"]
        g = -g if maximize else g
        m[...] = (1 - beta1) * g + beta1 * m      # m ← β₁m + (1 − β₁)g
        surprise = (g - m) ** 2                   # (g − m)²
        s[...] = (1 - beta2) * surprise + beta2 * s + eps_root  # s ← β₂s + ...
        m_hat = m / (1 - beta1**t)                # m̂ ← m / (1 − β₁ᵗ)
        s_hat = s / (1 - beta2**t)                # ŝ ← s / (1 − β₂ᵗ)
        p += -lr * (m_hat / (np.sqrt(s_hat) + eps))  # θ ← θ − γm̂/(√ŝ + ε)

    def _moments(self, state, *, betas, **options):
        t = state["step"]
        return state["exp_avg"] / (1 - betas[0] ** t), state["exp_avg_var"] / (1 - betas[1] ** t)
