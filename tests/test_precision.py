"""Tests for adamedu.precision: rounding to low-precision formats and 8-bit quantisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamedu.precision import (
    FORMATS,
    codebook,
    dequantize_8bit,
    quantize_8bit,
    round_to,
    roundtrip_8bit,
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def test_float16_facts_the_book_uses():
    assert round_to(1e-8, "float16") == 0.0  # Adam's default eps vanishes
    assert round_to(6e-8, "float16") == 2.0**-24  # the smallest subnormal
    assert round_to(2.9e-8, "float16") == 0.0  # below half of it: zero
    assert round_to(65519.0, "float16") == 65504.0
    assert np.isinf(round_to(65520.0, "float16"))


def test_bfloat16_facts_the_book_uses():
    assert round_to(0.999, "bfloat16") == 1.0  # beta2 = 0.999 is not representable
    assert round_to(0.99, "bfloat16") == 0.98828125
    assert round_to(1.0 + 2.0**-8, "bfloat16") == 1.0  # a tie, rounded to even
    assert round_to(1.0 + 3 * 2.0**-8, "bfloat16") == 1.0 + 2.0**-6
    assert round_to(1e-30, "bfloat16") > 0  # float32's range: no underflow here
    assert np.isnan(round_to(np.nan, "bfloat16"))
    assert np.isinf(round_to(1e39, "bfloat16"))


@given(finite)
def test_bfloat16_is_the_nearest_number_with_eight_significant_bits(x):
    y = float(round_to(x, "bfloat16"))
    ax = abs(x)
    if ax > FORMATS["bfloat16"]["max"] * (1 + 2.0**-9) or not np.isfinite(np.float32(x)):
        return  # overflow
    if ax < FORMATS["bfloat16"]["tiny"]:
        assert abs(y - x) <= FORMATS["bfloat16"]["smallest"] / 2 * (1 + 1e-9) + 2.0**-150
        return
    # normal range: spacing 2^(e - 7) for x in [2^e, 2^(e+1))
    e = np.floor(np.log2(ax))
    assert abs(y - x) <= 2.0 ** (e - 8) * (1 + 1e-12)
    assert float(round_to(y, "bfloat16")) == y  # idempotent


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@given(x=finite)
def test_native_formats_match_numpy(dtype, x):
    with np.errstate(over="ignore"):
        expected = np.array(x).astype(dtype).astype(np.float64)
    assert np.array_equal(round_to(x, dtype), expected, equal_nan=True)


def test_round_to_rejects_unknown_formats():
    with pytest.raises(ValueError, match="float8"):
        round_to(1.0, "float8")


@pytest.mark.parametrize("kind", ["linear", "dynamic"])
@pytest.mark.parametrize("signed", [True, False])
def test_codebooks_have_at_most_256_sorted_entries_in_range(kind, signed):
    table = codebook(kind, signed)
    assert 250 <= table.size <= 256 and np.all(np.diff(table) > 0)
    assert table[-1] == 1.0 and 0.0 in table
    assert table[0] == (0.0 if not signed else table[0]) and table[0] >= -1.0
    assert (table[0] < 0) == signed


def test_dynamic_code_keeps_relative_precision_where_linear_loses_it():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4096) * 10.0 ** rng.uniform(-5, 0, 4096)
    x[::256] = 1.0  # every block has one entry of size 1: the rest span five decades below it
    lin = roundtrip_8bit(x, "linear")
    dyn = roundtrip_8bit(x, "dynamic")
    rel = lambda y: np.abs(y - x) / np.abs(x)  # noqa: E731
    # The decade [0.1, 1] of the signed table holds 64 numbers (spacing 0.9/64), [0.01, 0.1] holds
    # 32: half a spacing is at most 7% and 14% of the value there.
    top, second = np.abs(x) >= 0.1, (np.abs(x) >= 0.01) & (np.abs(x) < 0.1)
    assert rel(dyn)[top].max() <= 0.9 / 64 / 2 / 0.1 + 1e-12
    assert rel(dyn)[second].max() <= 0.09 / 32 / 2 / 0.01 + 1e-12
    assert np.median(rel(dyn)) < 0.1
    assert np.mean(lin == 0) > 0.5  # most small entries round to zero with even spacing
    assert np.mean(dyn == 0) < 0.01


def test_quantize_round_trip_shapes_scales_and_exact_block_maxima():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 100))
    codes, scale = quantize_8bit(x, "linear", block_size=64)
    assert codes.dtype == np.uint8 and codes.shape == x.shape
    assert scale.dtype == np.float32 and scale.shape == (5,)  # 300 entries in blocks of 64
    y = dequantize_8bit(codes, scale, "linear", block_size=64)
    flat = x.reshape(-1)
    for b in range(5):
        block = flat[64 * b : 64 * (b + 1)]
        assert scale[b] == np.float32(np.abs(block).max())
        step = scale[b] / 127
        assert np.all(np.abs(y.reshape(-1)[64 * b : 64 * (b + 1)] - block) <= step / 2 * 1.0001)
    assert np.array_equal(roundtrip_8bit(np.zeros(10)), np.zeros(10))


def test_code_without_zero_never_rounds_a_positive_entry_to_zero():
    x = np.array([1.0, 1e-3, 1e-9, 1e-30, 0.0])
    with_zero = roundtrip_8bit(x, "dynamic", signed=False)
    without = roundtrip_8bit(x, "dynamic", signed=False, zero=False)
    assert with_zero[2] == with_zero[3] == 0.0  # below the smallest level: zero
    smallest = codebook("dynamic", signed=False, zero=False)[0]
    assert 0 < smallest and np.all(without[:4] >= smallest)  # ... or the smallest level
    assert without[0] == 1.0 and abs(without[1] / 1e-3 - 1) < 0.1
    assert 0.0 not in codebook("linear", signed=False, zero=False)
    with pytest.raises(ValueError, match="signed=False"):
        codebook("dynamic", signed=True, zero=False)


def test_unsigned_code_needs_non_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        quantize_8bit(np.array([1.0, -1.0]), signed=False)
    with pytest.raises(ValueError, match="block_size"):
        quantize_8bit(np.ones(3), block_size=0)
