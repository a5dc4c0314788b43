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


def test_checks_survive_optimised_python():
    code = ("from adamedu.claims import ClaimError, require\n"
            "try:\n    require(False, 'x')\nexcept ClaimError:\n    print('raised')\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "raised"
