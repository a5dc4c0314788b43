r"""Schedule-free AdamW (Defazio et al., 2024), as ``optax.contrib.schedule_free_adamw``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_sq_
from adamedu.optim.optimizer import Optimizer

__all__ = ["ScheduleFreeAdamW"]


def _warmup_steps(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"Invalid warmup_steps value: {value}")
    return int(value)


class ScheduleFreeAdamW(Optimizer):
    r"""Schedule-free AdamW (Defazio et al., 2024), as ``optax.contrib.schedule_free_adamw``.

    Three sequences instead of one: :math:`z_t` takes AdamW's steps (without momentum),
    :math:`x_t` is a weighted running average of the :math:`z`'s, and the gradient is evaluated
    at :math:`y_t`, a point between them. The arrays the optimizer updates in place hold
    :math:`y_t`; evaluate (validation loss, test accuracy) at :math:`x_t`, which
    :meth:`eval_params` returns. With :math:`\gamma_t` the learning rate after warmup
    (:math:`\gamma\min(t, W)/W` over ``warmup_steps`` :math:`= W`, else :math:`\gamma`):

    .. math::

        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad g_t = \nabla f(y_{t-1}) \\
        z_t &= z_{t-1} - \gamma_{t-1}\Bigl(\frac{g_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}
               + \lambda\, y_{t-1}\Bigr) \\
        \gamma^{\max}_t &= \max(\gamma^{\max}_{t-1}, \gamma_t), \qquad
        c_t = \frac{(\gamma^{\max}_t)^p}{\sum_{i\le t} (\gamma^{\max}_i)^p} \\
        x_t &= (1 - c_t)\, x_{t-1} + c_t\, z_t \\
        y_t &= \beta_1 x_t + (1-\beta_1)\, z_t

    with :math:`x_0 = y_0 = z_0 = \theta_0` and :math:`p` = ``weight_lr_power``. Without warmup
    the weights are equal and :math:`x_t` is the plain average of :math:`z_1, \dots, z_t`: the
    averaging does what a decaying schedule would, so there is no schedule and no stopping time
    to choose. :math:`x_{t-1}` is not stored but recovered from
    :math:`y_{t-1} = \beta_1 x_{t-1} + (1-\beta_1) z_{t-1}`, so the memory is AdamW's.

    Defaults (optax's): ``lr=0.0025``, ``betas=(0.9, 0.999)``, ``eps=1e-8``, no weight decay, no
    warmup, ``weight_lr_power=2``. Differences between optax and other versions:

    * ``warmup_steps=0`` here means no warmup, which is optax's ``warmup_steps=None``; in optax,
      ``warmup_steps=0`` holds the learning rate at 0 for ever (its linear schedule with zero
      transition steps keeps the initial value 0).
    * optax's :math:`z` step at step :math:`t` uses the rate of step :math:`t-1` (its schedule
      counts from 0 there, from 1 in the weights), so with warmup the first step does not move
      :math:`z`. optax also evaluates the warmup schedule in float32 even with x64 enabled; this
      class computes it in float64.
    * The authors' PyTorch package (``schedulefree.AdamWScheduleFree``) warms up with
      :math:`\gamma (t+1)/W` from the first step, puts :math:`\epsilon` outside
      :math:`\sqrt{v_t}` before the bias correction (which it folds into the rate,
      :math:`\gamma\sqrt{1-\beta_2^t}`), and computes the averaging weights from that
      bias-corrected rate, so that the first iterates, taken while :math:`v` is poorly
      estimated, weigh less. It switches the model between :math:`y` and :math:`x` with
      ``optimizer.train()`` and ``optimizer.eval()``.
    * Weight decay is applied at :math:`y` (in the gradient of the :math:`z` step), as in both.

    ``maximize`` (not in optax) ascends. :math:`\beta_1` must be positive (:math:`x` is
    recovered by dividing by it).

    State: ``step`` (t), ``z`` (:math:`z_t`), ``exp_avg_sq`` (:math:`v_t`; optax's ``nu``),
    ``weight_sum`` (:math:`\sum_{i\le t}(\gamma^{\max}_i)^p`) and ``lr_max``
    (:math:`\gamma^{\max}_t`), the last two per parameter (optax keeps one copy for all).
    """

    hyperparameters = {
        "lr": hp.learning_rate,
        "betas": hp.betas,
        "eps": hp.epsilon,
        "warmup_steps": _warmup_steps,
        "weight_decay": hp.weight_decay,
        "weight_lr_power": hp.nonnegative("Invalid weight_lr_power value"),
        "maximize": hp.flag,
    }

    def __init__(self, params: Any, lr: float = 0.0025, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, warmup_steps: int = 0, weight_decay: float = 0.0, *,
                 weight_lr_power: float = 2.0, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, warmup_steps=warmup_steps,
                        weight_decay=weight_decay, weight_lr_power=weight_lr_power,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, options):
        if not options["betas"][0] > 0:
            raise ValueError(
                "ScheduleFreeAdamW needs beta1 > 0 (the average x is recovered by dividing by "
                f"beta1), got betas={options['betas']}"
            )

    @staticmethod
    def _warmed_up(lr: float, warmup_steps: int, t: int) -> float:
        """The learning rate of step ``t`` after a linear warmup from 0 (``lr`` without warmup)."""
        return lr * min(t, warmup_steps) / warmup_steps if warmup_steps else lr

    def _init_state(self, p, **options):
        return {"step": 0, "z": p.copy(), "exp_avg_sq": np.zeros_like(p),
                "weight_sum": 0.0, "lr_max": 0.0}

    def _begin_step(self, p, state, *, lr, warmup_steps, weight_lr_power, **options):
        t = state["step"] = state["step"] + 1
        state["lr_max"] = max(state["lr_max"], self._warmed_up(lr, warmup_steps, t))  # γ^max_t
        weight = state["lr_max"] ** weight_lr_power                               # (γ^max_t)^p
        state["weight_sum"] += weight
        c = weight / state["weight_sum"] if state["weight_sum"] > 0 else 0.0          # c_t
        return {"c": c, "z_lr": self._warmed_up(lr, warmup_steps, t - 1)}          # γ_{t−1}

    def _update(self, p, g, state, *, lr, betas, eps, warmup_steps,
                weight_decay, weight_lr_power, maximize, c, z_lr):
        beta1, beta2 = betas
        t, z, v, y = state["step"], state["z"], state["exp_avg_sq"], p
        g = -g if maximize else g
        ema_sq_(v, g, beta2)                      # v ← β₂v + (1 − β₂)g²
        u = g / (np.sqrt(v / (1 - beta2**t)) + eps)  # u ← g/(√v̂ + ε)
        if weight_decay:
            u = u + weight_decay * y              #     + λy
        x = (y - (1 - beta1) * z) / beta1         # x from y = β₁x + (1 − β₁)z
        z -= z_lr * u                             # z ← z − γₜ₋₁u
        x = (1 - c) * x + c * z                   # x ← (1 − cₜ)x + cₜz
        y[...] = beta1 * x + (1 - beta1) * z      # y ← β₁x + (1 − β₁)z

    def eval_params(self) -> list[np.ndarray]:
        r"""The averaged iterates :math:`x_t = (y_t - (1-\beta_1) z_t)/\beta_1`, new arrays.

        Evaluate the model there (``optax.contrib.schedule_free_eval_params``); a parameter that
        has taken no step yet is returned as it is.
        """
        out = []
        for i, p in enumerate(self._params):
            state = self.state[i]
            if not state:
                out.append(p.copy())
                continue
            beta1 = self._groups[self._group_of[i]][2]["betas"][0]
            out.append((p - (1 - beta1) * state["z"]) / beta1)
        return out
