r"""Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter, 2019), as ``torch.optim``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_, ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    Algorithm (:math:`\gamma` = ``lr``, :math:`\lambda` = ``weight_decay``; PyTorch's
    documentation, which is the paper's Algorithm 1 plus the options)::

        m_0 <- 0, v_0 <- 0, v^max_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})                (-grad if maximize)
            if lambda != 0:
                decoupled (AdamW):  theta_{t-1} <- (1 - gamma * lambda) * theta_{t-1}
                otherwise (L2):     g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            if amsgrad:  v_t <- v^max_t <- max(v^max_{t-1}, v_t)
            mhat_t <- m_t / (1 - beta1^t)
            vhat_t <- v_t / (1 - beta2^t)
            theta_t <- theta_{t-1} - gamma * mhat_t / (sqrt(vhat_t) + eps)

    Where PyTorch differs from the papers (and this class follows PyTorch):

    * ``eps`` is added to :math:`\sqrt{\hat v_t}`, outside the square root, as in the paper's
      Algorithm 1. The paper's "more efficient" one-line form with a constant
      :math:`\hat\epsilon` (TensorFlow's ``epsilon``) equals it only if
      :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}`.
    * ``amsgrad``: the running maximum is of the raw :math:`v_t`, bias-corrected afterwards;
      Reddi et al. (2018) use no bias correction at all.
    * ``weight_decay`` without ``decoupled_weight_decay`` is an L2 penalty added to the gradient
      (so :math:`\sqrt{\hat v_t}` rescales it); see :class:`AdamW` for the decoupled form.
    * ``bias_correction=False`` (a teaching extra, not in PyTorch) divides by neither
      :math:`1-\beta_1^t` nor :math:`1-\beta_2^t`: the paper's experiment without bias correction.

    State: ``step`` (t), ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`), and
    ``max_exp_avg_sq`` (:math:`v^{max}_t`) with ``amsgrad``.

    Step size (``track_updates``): :math:`\eta_t = \gamma / ((1-\beta_1^t)(\sqrt{\hat v_t} +
    \epsilon))` in every coordinate, so that :math:`\Delta_t = -\eta_t \odot m_t`
    (:math:`-\gamma\lambda\theta_{t-1}` more with decoupled weight decay).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "weight_decay": hp.weight_decay,
        "amsgrad": hp.flag,
        "maximize": hp.flag,
        "decoupled_weight_decay": hp.flag,
        "bias_correction": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False,
                 bias_correction: bool = True, track_updates: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                        bias_correction=bias_correction)
        super().__init__(params, defaults, track_updates=track_updates)

    def _init_state(self, p, *, amsgrad, **options):
        state = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, *, lr, betas, eps, weight_decay, amsgrad,
                maximize, decoupled_weight_decay, bias_correction):
        beta1, beta2 = betas
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        g = -g if maximize else g
        if weight_decay and decoupled_weight_decay:
            p *= 1 - lr * weight_decay            # θ ← (1 − γλ)θ    (AdamW)
        elif weight_decay:
            g = g + weight_decay * p              # g ← g + λθ       (L2)
        ema_(m, g, beta1)                         # m ← β₁m + (1 − β₁)g
        ema_sq_(v, g, beta2)                      # v ← β₂v + (1 − β₂)g²
        if amsgrad:
            v_max = state["max_exp_avg_sq"]
            v = np.maximum(v_max, v, out=v_max)   # v ← max(vᵐᵃˣ, v)
        if bias_correction:
            m_hat = m / (1 - beta1**t)            # m̂ ← m / (1 − β₁ᵗ)
            v_hat = v / (1 - beta2**t)            # v̂ ← v / (1 − β₂ᵗ)
        else:                                     # (the paper's test
            m_hat, v_hat = m, v                   #  without correction)
        p -= lr * m_hat / (np.sqrt(v_hat) + eps)  # θ ← θ − γ m̂ / (√v̂ + ε)

    def _moments(self, state, *, betas, amsgrad, bias_correction, **options):
        beta1, beta2 = betas
        t = state["step"]
        v = state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"]
        if not bias_correction:
            return state["exp_avg"].copy(), v.copy()
        return state["exp_avg"] / (1 - beta1**t), v / (1 - beta2**t)

    def _step_size(self, p, state, *, lr, betas, eps, bias_correction, **options):
        m_hat, v_hat = self._moments(state, betas=betas, bias_correction=bias_correction, **options)
        correction1 = 1 - betas[0] ** state["step"] if bias_correction else 1.0
        return lr / correction1 / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``.

    :class:`Adam` with ``decoupled_weight_decay=True`` (always, in every group) and a default
    ``weight_decay`` of 0.01: before the Adam step the parameters shrink,
    :math:`\theta_{t-1} \leftarrow (1-\gamma\lambda)\,\theta_{t-1}`, instead of
    :math:`\lambda\theta` being added to the gradient, so the decay is not rescaled by
    :math:`\sqrt{\hat v_t}`.

    Difference from the paper: the paper decays by :math:`\eta_t\lambda\theta` with
    :math:`\eta_t` the schedule multiplier, independent of the base learning rate; PyTorch
    multiplies :math:`\lambda` by the learning rate :math:`\gamma` itself, so a schedule that
    lowers ``lr`` lowers the decay with it.
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, track_updates: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         track_updates=track_updates)

    def _check_options(self, options):
        if not options["decoupled_weight_decay"]:
            raise ValueError("AdamW always decouples its weight decay; use Adam for an L2 penalty")
