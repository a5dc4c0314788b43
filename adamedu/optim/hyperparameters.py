"""Checks for optimizer hyperparameters: one function per kind of value, one wording per error.

Every optimizer declares, for each of its hyperparameters, one of the checks below. The optimizer
runs them when it is built, when a parameter group is added, and before any step after a group's
values were edited (``opt.param_groups[0]["lr"] = 0.01``), so a bad value is refused before any
array changes. The range messages are PyTorch's own (``Invalid learning rate: -0.1``).

A number may be given as a Python number or as a one-element array-like (a NumPy array, or a
``torch.tensor(0.01)``), as PyTorch accepts a tensor learning rate; it is stored as a float.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Check",
    "number",
    "nonnegative",
    "learning_rate",
    "epsilon",
    "weight_decay",
    "momentum",
    "betas",
    "flag",
]

#: A check takes the hyperparameter's name and the value given, and returns the value to use
#: (a float, a pair of floats, a bool) or raises ``TypeError``/``ValueError``.
Check = Callable[[str, Any], Any]


def number(name: str, value: Any) -> float:
    """A real number, from a Python number or a one-element array-like; never a bool or a string."""
    if type(value) is float:  # the common case, first
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got the bool {value!r}")
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything NumPy cannot read is not a number
        array = None
    if array is None or array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must be a number (a float, or a one-element array), "
            f"got {type(value).__name__} {value!r}"
        )
    if array.size != 1:
        raise ValueError(f"{name} must be a single number, got an array of shape {array.shape}")
    return float(array.reshape(-1)[0])


def nonnegative(message: str) -> Check:
    """A finite number >= 0; ``message`` starts the error, e.g. ``"Invalid momentum value"``."""

    def check(name: str, value: Any) -> float:
        x = number(name, value)
        if not 0.0 <= x < math.inf:  # also refuses NaN
            raise ValueError(f"{message}: {value}")
        return x

    return check


learning_rate = nonnegative("Invalid learning rate")
epsilon = nonnegative("Invalid epsilon value")
weight_decay = nonnegative("Invalid weight_decay value")
momentum = nonnegative("Invalid momentum value")


def betas(name: str, value: Any) -> tuple[float, float]:
    """A pair (β1, β2) of numbers in [0, 1)."""
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {value!r}") from None
    if len(pair) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {value!r}")
    out = []
    for i, beta in enumerate(pair):
        b = number(f"{name}[{i}]", beta)
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        out.append(b)
    return (out[0], out[1])


def flag(name: str, value: Any) -> bool:
    """True or False (a NumPy bool is accepted); never a number or a string."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
