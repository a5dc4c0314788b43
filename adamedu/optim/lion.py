r"""Lion (Chen et al., 2023), as ``optax.lion``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.optimizer import Optimizer

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion, "evolved sign momentum" (Chen et al., 2023), as ``optax.lion``.

    Found by a program search, Lion keeps one moving average and steps by its *sign*:

    .. math::

        c_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
        \theta_t &= \theta_{t-1}
                    - \gamma\,\bigl(\operatorname{sign}(c_t) + \lambda\,\theta_{t-1}\bigr) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t

    (:math:`\gamma` = ``lr``, :math:`\lambda` = ``weight_decay``, decoupled as in AdamW). Every
    coordinate moves by exactly :math:`\gamma` (plus the decay), whatever the size of its
    gradient: Lion is sign descent on an interpolation between the momentum and the current
    gradient, with :math:`\beta_2 > \beta_1` so that the step reacts to the new gradient faster
    than the momentum forgets the old ones. Because its steps are as long as Adam's longest,
    Lion needs a learning rate 3 to 10 times smaller than AdamW's and, for the same decay
    :math:`\gamma\lambda`, a :math:`\lambda` 3 to 10 times larger (the paper's advice).

    Defaults: optax's, ``betas=(0.9, 0.99)`` as in the paper and ``weight_decay=1e-3``; the
    learning rate default ``1e-4`` is that of the popular PyTorch port (``lion-pytorch``), whose
    ``weight_decay`` default is 0 instead (optax has no default learning rate). ``maximize``
    (not in optax) ascends.

    State: ``step`` (t), ``exp_avg`` (:math:`m_t`; optax's ``mu``).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "weight_decay": hp.weight_decay,
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 1e-3, *, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, **options):
        return {"step": 0, "exp_avg": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, betas, weight_decay, maximize):
        beta1, beta2 = betas
        m = state["exp_avg"]
        g = -g if maximize else g
        c = (1 - beta1) * g + beta1 * m           # c ← β₁m + (1 − β₁)g
        u = np.sign(c)                            # u ← sign(c)
        if weight_decay:
            u = u + weight_decay * p              #     + λθ
        m[...] = (1 - beta2) * g + beta2 * m      # m ← β₂m + (1 − β₂)g
        p += -lr * u                              # θ ← θ − γu
