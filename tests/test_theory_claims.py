"""adamedu.theory's checks are real code, not ``assert``: they fail even under ``python -O``."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import textwrap

import pytest
import sympy as sp

from adamedu import theory

THEORY = pathlib.Path(theory.__file__)


def test_theory_has_no_assert_statements():
    tree = ast.parse(THEORY.read_text())
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts == [], f"bare assert statements (stripped by python -O) at lines {asserts}"


def test_every_public_name_is_exported_and_typed():
    import inspect

    for name in theory.__all__:
        obj = getattr(theory, name)
        if inspect.isfunction(obj):
            assert "return" in obj.__annotations__, name
    public = {n for n, o in vars(theory).items() if not n.startswith("_") and getattr(o, "__module__", None) == theory.__name__}
    assert public <= set(theory.__all__)
    # One named error for the whole book: theory's is the one in adamedu.claims.
    from adamedu.claims import ClaimError

    assert theory.ClaimError is ClaimError


def _run_optimised(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-O", "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=600)


def test_a_false_derivation_fails_under_python_O():
    # Under -O a bare assert would let this derivation "succeed"; the named error does not.
    result = _run_optimised("""
        import sys
        assert sys.flags.optimize == 1 or True  # stripped: proves nothing, as intended
        if sys.flags.optimize != 1:
            sys.exit("not optimised")
        import sympy as sp
        from adamedu import theory
        real_solve = sp.solve
        sp.solve = lambda *a, **k: [sp.Integer(42)]  # a wrong root for the efficient form's epshat
        try:
            theory.derive_efficient_form.__wrapped__()
        except theory.ClaimError as error:
            print("ClaimError:", error)
        else:
            sys.exit("a false derivation passed under python -O")
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ClaimError" in result.stdout and "derive_efficient_form" in result.stdout


def test_a_false_display_fails_under_python_O():
    result = _run_optimised("""
        import sys
        import sympy as sp
        from adamedu import theory
        b1, b2 = sp.symbols("beta_1 beta_2", positive=True)
        assert False  # stripped under -O
        print(theory.textbook(lambda: (1 - b1) / sp.sqrt(1 - b2), (1 - b1) / sp.sqrt(1 - b2)))
        try:
            theory.textbook(lambda: (1 - b1) / (1 - b2), (1 - b1) / sp.sqrt(1 - b2))
        except theory.ClaimError:
            print("ClaimError")
        else:
            sys.exit("a wrong display passed")
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ClaimError" in result.stdout


def test_textbook_prints_in_the_written_order():
    b, t, i = sp.symbols("beta t i", positive=True)
    b1, b2 = sp.symbols("beta_1 beta_2", positive=True)
    assert theory.textbook(lambda: b ** (t - i), b ** (-i + t)) == r"\beta^{t - i}"
    assert theory.textbook(lambda: 1 - b1**2 / b2, (b2 - b1**2) / b2) == r"1 - \frac{\beta_{1}^{2}}{\beta_{2}}"
    with pytest.raises(theory.ClaimError):
        theory.textbook(lambda: 1 + b1**2 / b2, (b2 - b1**2) / b2)
    # Square roots SymPy cannot sign are compared through their squares when asked to.
    x = sp.Symbol("x", real=True)
    assert theory.textbook(lambda: sp.sqrt(x**2), sp.Abs(x))
