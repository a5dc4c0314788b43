"""Checking the book's claims: a named error for a false one, and the symbolic test they share.

Derivations and numerical checks in the modules raise :class:`ClaimError` (never a bare
``assert``), so that they still fail under ``python -O`` and a reader sees which claim broke.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["ClaimError", "require", "is_zero", "generic_branch"]


class ClaimError(AssertionError):
    """A derivation or a numerical claim of the book does not hold."""


def require(holds, claim: str) -> None:
    """Raise :class:`ClaimError` naming ``claim`` unless ``holds`` is true."""
    if not bool(holds):
        raise ClaimError(f"claim does not hold: {claim}")


def is_zero(expr) -> bool:
    """Whether ``expr`` (a SymPy expression or matrix) simplifies to exactly zero."""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(entry) == 0 for entry in expr)
    return sp.simplify(expr) == 0


def generic_branch(expr):
    """``expr`` with every Piecewise replaced by its generic branch.

    SymPy sums a geometric series as ``Piecewise((t, Eq(beta, 1)), (formula, True))`` and an
    infinite one as ``Piecewise((formula, beta < 1), (Sum(...), True))``; the book's ratios lie
    strictly between 0 and 1, so the formula is the branch that applies: the last one, unless that
    is the unevaluated sum.
    """
    def pick(*branches):
        last = branches[-1][0]
        return branches[0][0] if isinstance(last, sp.Sum) else last

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: pick(*e.args))
