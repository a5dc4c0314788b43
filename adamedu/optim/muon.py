r"""Muon: momentum orthogonalised by Newton–Schulz (Jordan et al., 2024), as ``torch.optim``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adamedu.optim import hyperparameters as hp
from adamedu.optim.averages import ema_
from adamedu.optim.optimizer import Optimizer

__all__ = ["Muon", "newton_schulz", "NS_COEFFICIENTS"]

#: Keller Jordan's quintic coefficients (a, b, c): chosen to make the iteration's slope at zero
#: as large as possible, so that five steps push every singular value above 0.3% of the matrix's
#: Frobenius norm into [0.68, 1.21].
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(G: np.ndarray, coefficients=NS_COEFFICIENTS, steps: int = 5,
                  eps: float = 1e-7) -> np.ndarray:
    r"""Approximately orthogonalise a matrix :math:`G = U\Sigma V^\top`.

    The result is :math:`U\,\mathrm{diag}(\phi(\sigma_i))\,V^\top` with
    :math:`\phi(\sigma) \approx 1`.

    Divides :math:`G` by its Frobenius norm (so every singular value is at most 1), then
    applies ``steps`` times the odd polynomial :math:`X \leftarrow aX + (bA + cA^2)X` with
    :math:`A = XX^\top`, which maps each singular value :math:`\sigma` to
    :math:`a\sigma + b\sigma^3 + c\sigma^5` and leaves the singular vectors alone. With the
    default coefficients and five steps, every singular value above 0.3% of the Frobenius norm
    ends between 0.68 and 1.21 rather than at exactly 1 (the iteration is tuned to be fast, not
    to converge); smaller ones grow by a factor of about :math:`a` per step. A tall matrix is
    handled through its transpose, so that :math:`A` is the smaller Gram matrix.
    """
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if G.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / max(float(np.linalg.norm(X)), eps)       # ‖X‖₂ ≤ ‖X‖_F ≤ 1
    for _ in range(steps):
        A = X @ X.T                                   # A = X Xᵀ
        B = b * A + c * (A @ A)                       # B = bA + cA²
        X = a * X + B @ X                             # X ← aX + BX
    return X.T if tall else X


def _adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """The learning rate for a matrix of ``shape`` (PyTorch's ``_adjust_lr``)."""
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, A / B))          # Keller Jordan: √max(1, rows/cols)
    return lr * 0.2 * math.sqrt(max(A, B))            # Moonshot: match AdamW's update RMS


def _at_least_zero(message: str):
    def check(name: str, value: Any) -> float:
        x = hp.number(name, value)
        if not 0.0 <= x < math.inf:
            raise ValueError(f"{message}: {value}")
        return x

    return check


def _coefficients(name: str, value: Any) -> tuple[float, float, float]:
    try:
        values = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be three numbers (a, b, c), got {value!r}") from None
    if len(values) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    return tuple(hp.number(f"{name}[{i}]", v) for i, v in enumerate(values))


def _ns_steps(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not 0 <= value < 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    return int(value)


def _adjust_lr_fn(name: str, value: Any) -> str | None:
    if value is not None and value not in ("original", "match_rms_adamw"):
        raise ValueError(f"Adjust learning rate function {value} is not supported")
    return value


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024), as ``torch.optim.Muon``: momentum with an orthogonalised update.

    For a weight matrix :math:`\theta` with gradient :math:`g_t` (:math:`\gamma` = ``lr``,
    :math:`\mu` = ``momentum``, :math:`\lambda` = ``weight_decay``):

    .. math::

        B_t &= \mu B_{t-1} + (1-\mu)\, g_t \\
        \tilde B_t &= (1-\mu)\, g_t + \mu B_t \quad\text{(Nesterov), or } B_t \\
        O_t &= \mathrm{NS}_k(\tilde B_t) \approx U V^\top
               \quad\text{for } \tilde B_t = U\Sigma V^\top \\
        \theta_t &= (1 - \gamma\lambda)\,\theta_{t-1} - \gamma'\, O_t

    :math:`\mathrm{NS}_k` is :func:`newton_schulz` with ``ns_coefficients`` and ``ns_steps``
    :math:`= k`. Orthogonalising replaces every singular value of the momentum by about 1: the
    update moves the weights by the same amount along every direction the momentum points to,
    however small its component there. The scaled rate :math:`\gamma'` makes updates of
    differently shaped matrices comparable: :math:`\gamma\sqrt{\max(1, A/B)}` for an
    :math:`A\times B` matrix (``adjust_lr_fn=None`` or ``"original"``, Keller Jordan's choice), or
    :math:`0.2\,\gamma\sqrt{\max(A, B)}` (``"match_rms_adamw"``, Moonshot's, which gives updates
    the RMS of AdamW's so that AdamW's learning rate and weight decay can be reused).

    Muon is for the 2-D weight matrices of hidden layers; biases, gains, embeddings and usually
    the output layer belong to another optimizer (such as :class:`adamedu.optim.AdamW`), in a
    second optimizer object. Every parameter must be a matrix.

    Differences from PyTorch: PyTorch runs the Newton–Schulz iteration in bfloat16 (as Keller
    Jordan's reference does, for speed); this class runs it in the parameter's dtype, so float64
    results match PyTorch's code with the bfloat16 casts removed (the tests compare both).
    PyTorch's documentation writes the buffer as :math:`B_t = \mu B_{t-1} + g_t`; its code, and
    this class, average as above. Muon has no ``maximize`` option in PyTorch, nor here.

    State: ``momentum_buffer`` (:math:`B_t`), created at the first step (no ``step`` count, as
    in PyTorch).
    """

    hyperparameters = {
        "lr": _at_least_zero("Learning rate should be >= 0 but is"),
        "weight_decay": _at_least_zero("weight decay should be >= 0 but is"),
        "momentum": _at_least_zero("momentum should be >= 0 but is"),
        "nesterov": hp.flag,
        "ns_coefficients": _coefficients,
        "eps": hp.epsilon,
        "ns_steps": _ns_steps,
        "adjust_lr_fn": _adjust_lr_fn,
    }
    elementwise = False  # Newton–Schulz needs the whole matrix

    def __init__(self, params: Any, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: str | None = None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """As :meth:`Optimizer.add_param_group`; every parameter must be a matrix."""
        params = param_group.get("params", []) if isinstance(param_group, dict) else []
        for p in [params] if isinstance(params, np.ndarray) else params:
            if isinstance(p, np.ndarray) and p.ndim != 2:
                raise ValueError(
                    "Muon only supports 2D parameters whereas we found a parameter with shape: "
                    f"{p.shape}"
                )
        super().add_param_group(param_group)

    def _init_state(self, p, **options):
        return {"momentum_buffer": np.zeros_like(p)}

    def _begin_step(self, p, state, **options):
        return {}  # PyTorch's Muon keeps no step count

    def _update(self, p, g, state, *, lr, weight_decay, momentum, nesterov,
                ns_coefficients, eps, ns_steps, adjust_lr_fn):
        mu, B = momentum, state["momentum_buffer"]
        ema_(B, g, mu)                            # B ← μB + (1 − μ)g
        if nesterov:
            B_tilde = (1 - mu) * g + mu * B       # B̃ ← (1 − μ)g + μB
        else:
            B_tilde = B                           # B̃ ← B
        O = newton_schulz(B_tilde, ns_coefficients, ns_steps, eps)  # O ≈ UVᵀ
        p *= 1 - lr * weight_decay                # θ ← (1 − γλ)θ
        p -= _adjusted_lr(lr, adjust_lr_fn, p.shape) * O  # θ ← θ − γ′O
