r"""Adafactor (Shazeer and Stern, 2018), as ``torch.optim.Adafactor``."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_
from adamedu.optim.optimizer import Optimizer

__all__ = ["Adafactor"]


def _at_least(bound: float, message: str):
    def check(name: str, value: Any) -> float:
        x = hp.number(name, value)
        if not bound <= x < np.inf:
            raise ValueError(f"{message}: {value}")
        return x

    return check


def _beta2_decay(name: str, value: Any) -> float:
    x = hp.number(name, value)
    if not x <= 0.0:  # also refuses NaN
        raise ValueError(f"beta2_decay should be <= 0 but is: {value}")
    return x


def _eps_pair(name: str, value: Any) -> tuple[float | None, float]:
    try:
        eps1, eps2 = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (eps1 or None, eps2), got {value!r}") from None
    if eps1 is not None:
        eps1 = hp.number(f"{name}[0]", eps1)
        if not 0.0 <= eps1 < np.inf:
            raise ValueError(f"epsilon1 should be >= 0 but is: {value[0]}")
    eps2 = hp.number(f"{name}[1]", eps2)
    if not 0.0 <= eps2 < np.inf:
        raise ValueError(f"epsilon2 should be >= 0 but is: {value[1]}")
    return (eps1, eps2)


def _rms(x: np.ndarray) -> float:
    """Root mean square of all entries, :math:`\\lVert x\\rVert_2/\\sqrt{n}`."""
    return float(np.linalg.norm(x.reshape(-1))) / x.size**0.5


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018), as ``torch.optim.Adafactor``.

    Adafactor stores no first moment and, for every matrix, a *factored* second moment: one
    number per row and one per column instead of one per entry. For a parameter with at least
    two dimensions (the last two are factored; leading ones index independent matrices), with
    :math:`\gamma` = ``lr``, :math:`\tau` = ``beta2_decay``, :math:`d` = the clipping threshold
    ``d``, :math:`(\epsilon_1, \epsilon_2)` = ``eps`` and :math:`\lambda` = ``weight_decay``:

    .. math::

        \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad
        \rho_t = \min(\gamma,\, 1/\sqrt t), \qquad
        \alpha_t = \max(\epsilon_2,\, \mathrm{RMS}(\theta_{t-1}))\,\rho_t \\
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_j\, G_{t,ij}^2
            \quad\text{(a column vector)} \\
        C_t &= \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_i\, G_{t,ij}^2
            \quad\text{(a row vector)} \\
        \hat V_t &= \frac{R_t\, C_t}{\max(\mathrm{mean}_i R_{t,i},\ \epsilon_1)} \\
        U_t &= G_t / \max(\sqrt{\hat V_t},\ \epsilon_1) \\
        \theta_t &= \theta_{t-1} - \alpha_t\, U_t / \max(1,\ \mathrm{RMS}(U_t)/d)

    For a vector (or a scalar), :math:`\hat V_t = \hat\beta_{2,t}\hat V_{t-1} +
    (1-\hat\beta_{2,t})\, G_t^2` entry by entry. :math:`\hat V_t` is the rank-one matrix whose
    row and column means are those of the averaged :math:`G^2`. The step is *relative*: about
    :math:`\rho_t` times the RMS of the parameter, and the last line clips the update's RMS at
    :math:`d`. :math:`\epsilon_1` = ``None`` means the machine epsilon of the parameter's dtype.

    Differences from the paper (PyTorch's, followed here): the paper has no learning rate and caps
    the relative step at a constant, :math:`\rho_t = \min(10^{-2}, 1/\sqrt t)`; PyTorch caps it
    at ``lr`` (default :math:`10^{-2}`) and also uses ``lr`` to scale the decoupled weight decay.
    The paper adds :math:`\epsilon_1` to :math:`G^2` before averaging; PyTorch (and this class)
    applies it to :math:`\hat V_t` and :math:`U_t` instead, and averages (row and column *means*)
    where the paper sums, which gives the same :math:`\hat V_t`. The paper's optional first
    moment (:math:`\beta_1`) is not implemented, as in PyTorch.

    State: ``step`` (t), and ``row_var`` (:math:`R_t`, shape ``(..., n, 1)``) and ``col_var``
    (:math:`C_t`, shape ``(..., 1, m)``) for a parameter of shape ``(..., n, m)``, or
    ``variance`` (:math:`\hat V_t`) for a vector or a scalar.
    """

    hyperparameters = {
        "lr": _at_least(0.0, "Learning rate should be >= 0 but is"),
        "beta2_decay": _beta2_decay,
        "eps": _eps_pair,
        "d": _at_least(1.0, "Clipping threshold d should be >= 1 but is"),
        "weight_decay": _at_least(0.0, "weight_decay should be >= 0 but is"),
        "maximize": hp.flag,
    }
    elementwise = False  # RMS(θ), RMS(U) and the row and column means need whole parameters

    def __init__(self, params: Any, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, **options):
        if p.ndim > 1:
            return {"step": 0,
                    "row_var": np.zeros(p.shape[:-1] + (1,), dtype=p.dtype),
                    "col_var": np.zeros(p.shape[:-2] + (1, p.shape[-1]), dtype=p.dtype)}
        return {"step": 0, "variance": np.zeros_like(p)}

    def _update(self, p, g, state, *, lr, beta2_decay, eps, d, weight_decay,
                maximize):
        eps1, eps2 = eps
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        t = state["step"]
        g = -g if maximize else g
        beta2_t = 1 - t**beta2_decay               # β̂₂ₜ = 1 − t^τ
        rho_t = min(lr, 1 / t**0.5)                # ρₜ = min(γ, 1/√t)
        alpha_t = max(eps2, _rms(p)) * rho_t       # αₜ = max(ε₂, RMS(θ))ρₜ
        if weight_decay:
            p *= 1 - lr * weight_decay             # θ ← (1 − γλ)θ
        g2 = g * g
        if p.ndim > 1:
            R, C = state["row_var"], state["col_var"]
            row_mean = g2.mean(axis=-1, keepdims=True)
            col_mean = g2.mean(axis=-2, keepdims=True)
            ema_(R, row_mean, beta2_t)             # R ← β̂R + (1 − β̂)meanⱼG²
            ema_(C, col_mean, beta2_t)             # C ← β̂C + (1 − β̂)meanᵢG²
            mean_R = R.mean(axis=-2, keepdims=True)
            V = R @ C / np.maximum(mean_R, eps1)   # V̂ ← RC / max(mean R, ε₁)
        else:
            V = ema_(state["variance"], g2, beta2_t)  # V̂ ← β̂V̂ + (1 − β̂)G²
        U = g / np.sqrt(np.maximum(V, eps1**2))    # U ← G / max(√V̂, ε₁)
        clip = max(1.0, _rms(U) / d)               # max(1, RMS(U)/d)
        p -= alpha_t / clip * U                    # θ ← θ − αₜU / clip
