"""A named error for a claim of the book that turned out false.

Derivations and numerical checks in the modules raise :class:`ClaimError` (never a bare
``assert``), so that they still fail under ``python -O`` and a reader sees which claim broke.
"""

from __future__ import annotations

__all__ = ["ClaimError", "require"]


class ClaimError(AssertionError):
    """A derivation or a numerical claim of the book does not hold."""


def require(holds, claim: str) -> None:
    """Raise :class:`ClaimError` naming ``claim`` unless ``holds`` is true."""
    if not bool(holds):
        raise ClaimError(f"claim does not hold: {claim}")
