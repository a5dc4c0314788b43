"""adamedu.claims: a false claim raises a named error, also under ``python -O``."""

import subprocess
import sys

import pytest

from adamedu.claims import ClaimError, require


def test_require_passes_true_and_names_false_claims():
    require(True, "fine")
    with pytest.raises(ClaimError, match="two is odd"):
        require(1 + 1 == 3, "two is odd")
    assert issubclass(ClaimError, AssertionError)


@pytest.mark.slow  # starts a kernel or a Python process: not in the fast tier
def test_checks_survive_optimised_python():
    code = ("from adamedu.claims import ClaimError, require\n"
            "try:\n    require(False, 'x')\nexcept ClaimError:\n    print('raised')\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "raised"


def test_is_zero_and_generic_branch():
    import sympy as sp

    from adamedu.claims import generic_branch, is_zero

    x = sp.Symbol("x", positive=True)
    assert is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not is_zero(x - 1)
    assert is_zero(sp.Matrix([[x - x, 0]])) and not is_zero(sp.Matrix([[x, 0]]))
    b = sp.Symbol("b", positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    t = sp.Symbol("t", integer=True, positive=True)
    assert is_zero(generic_branch(sp.Sum(b**j, (j, 0, t - 1)).doit()) - (1 - b**t) / (1 - b))
    assert is_zero(generic_branch(sp.Sum(b**j, (j, 0, sp.oo)).doit()) - 1 / (1 - b))
