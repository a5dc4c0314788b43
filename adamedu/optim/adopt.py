r"""ADOPT (Taniguchi et al., 2024), as ``optax.contrib.adopt``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_, ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["ADOPT"]


class ADOPT(Optimizer):
    r"""ADOPT (Taniguchi et al., 2024), as ``optax.contrib.adopt``: normalise first, by the old v.

    .. math::

        v_0 &= g_0^2 \qquad\text{(the first step only sets } v\text{; } \theta \text{ stays)} \\
        n_t &= \operatorname{clip}\Bigl(\frac{g_t}{\max(\sqrt{v_{t-1}},\ \epsilon)},\ \pm c_t\Bigr),
            \qquad c_t = t^{1/4} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, n_t \\
        \theta_t &= \theta_{t-1} - \gamma\, m_t \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2

    where :math:`t = 1, 2, \dots` counts the steps after the first (``step`` - 1 here). Two
    changes to Adam. The gradient is divided by :math:`\sqrt{v_{t-1}}`, which does not contain
    :math:`g_t`, so the size of the current gradient cannot shrink its own step; and the division
    comes before the momentum, so :math:`m_t` averages normalised gradients. With these, the
    authors prove convergence for *any* :math:`\beta_2` (Adam needs :math:`\beta_2` large
    enough for the problem, as Reddi et al.'s counterexample shows). The clipping at
    :math:`t^{1/4}` bounds the first steps, when :math:`v` rests on few gradients
    (``use_clipping=False`` removes it); ``nesterov=True`` steps by
    :math:`\beta_1 m_t + (1-\beta_1) n_t` instead of :math:`m_t`.
    There is no bias correction: :math:`m_t` starts at 0, so the first steps are short.

    Defaults (optax's, which are the paper's): :math:`\gamma = 10^{-3}`,
    :math:`\beta = (0.9, 0.9999)`, :math:`\epsilon = 10^{-6}`, clipping on. The authors'
    PyTorch implementation computes the same update with ``clip_lambda=lambda step: step**0.25``
    and adds optional (decoupled) weight decay; an earlier version of it replaced the clipping by
    a decaying lower bound on :math:`\sqrt v` (a third :math:`\beta`). ``maximize`` (not in
    optax) ascends.

    State: ``step``, ``exp_avg`` (:math:`m`; optax's ``mu``), ``exp_avg_sq`` (:math:`v`;
    optax's ``nu``).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "use_clipping": hp.flag,
        "nesterov": hp.flag,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.9999),
                 eps: float = 1e-6, *, use_clipping: bool = True, nesterov: bool = False,
                 maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, use_clipping=use_clipping,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, **options):
        return {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, betas, eps, use_clipping, nesterov,
                maximize):
        beta1, beta2 = betas
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t = state["step"] - 1                     # t = 0 at the first step
        g = -g if maximize else g
        if t == 0:
            v[...] = g * g                        # v₀ ← g₀²   (no step yet)
            return
        n = g / np.maximum(np.sqrt(v), eps)       # n ← g / max(√v, ε)  (old v)
        if use_clipping:
            n = np.clip(n, -(t**0.25), t**0.25)   # n ← clip(n, ±t^¼)
        ema_(m, n, beta1)                         # m ← β₁m + (1 − β₁)n
        if nesterov:
            nesterov_m = beta1 * m + (1 - beta1) * n
            p += -lr * nesterov_m                 # θ ← θ − γ(β₁m + (1 − β₁)n)
        else:
            p += -lr * m                          # θ ← θ − γm
        ema_sq_(v, g, beta2)                      # v ← β₂v + (1 − β₂)g²
