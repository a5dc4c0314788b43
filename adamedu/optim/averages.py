r"""The exponential moving averages that Adam, NAdam, RAdam, Adamax and RMSprop share.

Both update the average **in place** (it is optimizer state) and return it, and both round exactly
as PyTorch's optimizers do, so that trajectories agree to the last few bits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ema_", "ema_sq_"]


def ema_(average: np.ndarray, x: np.ndarray, beta: float) -> np.ndarray:
    r"""First moment: :math:`a \leftarrow \beta a + (1-\beta) x`, in place.

    Computed as PyTorch's ``average.lerp_(x, 1 - beta)``: with weight :math:`w = 1-\beta`,
    :math:`a + w(x - a)` when :math:`w < 0.5`, else :math:`x - (x - a)(1 - w)`; the second form
    is the accurate one for small :math:`\beta` (with :math:`\beta = 0` it returns :math:`x`
    exactly).
    """
    weight = 1 - beta
    if abs(weight) < 0.5:
        average += weight * (x - average)
    else:
        average[...] = x - (x - average) * (1 - weight)
    return average


def ema_sq_(average: np.ndarray, x: np.ndarray, beta: float) -> np.ndarray:
    r"""Second moment: :math:`a \leftarrow \beta a + (1-\beta) x^2`, in place.

    Computed as PyTorch's ``average.mul_(beta).addcmul_(x, x, value=1 - beta)``.
    """
    average *= beta
    average += (1 - beta) * x * x
    return average
