r"""Yogi (Zaheer et al., 2018), as ``optax.yogi``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.optimizer import Optimizer

__all__ = ["Yogi"]


class Yogi(Optimizer):
    r"""Yogi (Zaheer et al., 2018), as ``optax.yogi``: Adam whose :math:`v_t` changes additively.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        v_t &= v_{t-1} - (1-\beta_2)\, \operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2 \\
        \hat m_t &= m_t / (1-\beta_1^t), \qquad \hat v_t = v_t / (1-\beta_2^t) \\
        \theta_t &= \theta_{t-1} - \gamma\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Adam's :math:`v_t = v_{t-1} - (1-\beta_2)(v_{t-1} - g_t^2)` moves :math:`v` towards
    :math:`g_t^2` by a fraction of the *gap*: after a burst of large gradients :math:`v` falls
    fast, and the effective step :math:`\gamma/\sqrt{\hat v}` grows fast. Yogi moves :math:`v` by
    :math:`(1-\beta_2)g_t^2` in the direction of the gap, whatever its size: when the gradients
    become small, :math:`v` decreases slowly (by :math:`(1-\beta_2)g_t^2` per step), so the
    effective learning rate cannot jump up; when they become large, :math:`v` still grows fast.

    Defaults (optax's): :math:`\epsilon = 10^{-3}`, much larger than Adam's, and
    :math:`\gamma = 10^{-2}`. Both :math:`m_0` and :math:`v_0` start at
    ``initial_accumulator_value`` :math:`= 10^{-6}` (optax and the ``pytorch-optimizer`` port
    agree), not at 0, so :math:`\hat m_t` carries a small bias that fades like
    :math:`\beta_1^t`. Some ports (TensorFlow Federated's) fold the bias corrections into the
    learning rate and add :math:`\epsilon` to :math:`\sqrt{v_t}` instead, a slightly different
    :math:`\epsilon`. ``maximize`` (not in optax) ascends.

    State: ``step`` (t), ``exp_avg`` (:math:`m_t`; optax's ``mu``), ``exp_avg_sq``
    (:math:`v_t`; optax's ``nu``).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "initial_accumulator_value": hp.nonnegative("Invalid initial_accumulator_value value"),
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-3, *, initial_accumulator_value: float = 1e-6,
                 maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, *, initial_accumulator_value, **options):
        return {"step": 0, "exp_avg": np.full_like(p, initial_accumulator_value),
                "exp_avg_sq": np.full_like(p, initial_accumulator_value)}

    def _update(self, p, g, state, *, lr, betas, eps, maximize,
                initial_accumulator_value):
        beta1, beta2 = betas
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        g = -g if maximize else g
        g2 = g * g
        m[...] = (1 - beta1) * g + beta1 * m      # m ← β₁m + (1 − β₁)g
        v -= (1 - beta2) * np.sign(v - g2) * g2  # v ← v − (1−β₂)sign(v − g²)g²
        m_hat = m / (1 - beta1**t)                # m̂ ← m / (1 − β₁ᵗ)
        v_hat = v / (1 - beta2**t)                # v̂ ← v / (1 − β₂ᵗ)
        p += -lr * (m_hat / (np.sqrt(v_hat) + eps))  # θ ← θ − γm̂/(√v̂ + ε)

    def _moments(self, state, *, betas, **options):
        t = state["step"]
        return state["exp_avg"] / (1 - betas[0] ** t), state["exp_avg_sq"] / (1 - betas[1] ** t)
