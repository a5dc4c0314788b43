"""Measurements on recorded runs that several chapters and figures share."""

from __future__ import annotations

import numpy as np

__all__ = ["angle_to_steepest_descent"]


def angle_to_steepest_descent(updates: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Angle in degrees between each update Δ_t and the steepest-descent direction −g_t.

    ``updates`` and ``grads`` have shape (steps, dim), one row per step, as in a
    :class:`adamedu.trace.Trace`. 0° means the step points straight downhill, 90° that it is
    orthogonal to the gradient (no first-order decrease), more than 90° that it goes uphill.
    Rows where either vector is zero give NaN: there is no direction to compare.
    """
    updates = np.asarray(updates, dtype=float)
    grads = np.asarray(grads, dtype=float)
    dot = -np.einsum("ij,ij->i", updates, grads)
    norms = np.linalg.norm(updates, axis=1) * np.linalg.norm(grads, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, dot / norms, np.nan)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
