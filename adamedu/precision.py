r"""Low precision in NumPy: rounding to float16 or bfloat16, and 8-bit block-wise quantisation.

The book trains in float64, where rounding never decides anything.  Practice stores weights,
gradients and optimizer states in fewer bits; these helpers let a float64 computation see what
fewer bits would do to a value, one array at a time.

* :func:`round_to` rounds to the nearest float16, bfloat16 or float32 number (round half to
  even, as hardware does) and returns float64 again.  NumPy has float16 built in; bfloat16 (the
  upper 16 bits of a float32: float32's exponent range, 8 significant bits) is emulated.
* :func:`quantize_8bit` / :func:`dequantize_8bit` store an array in one byte per entry, the way
  8-bit optimizers store Adam's moments (Dettmers et al., 2022): the array is cut into blocks,
  each block is divided by its largest magnitude (kept in float32), and every entry becomes the
  index of the nearest value in a table of 256 numbers (:func:`codebook`).  A ``"linear"`` table
  spaces them evenly; a ``"dynamic"`` table spaces them like a floating-point format, dense near
  zero, so that small entries keep their relative precision.  ``zero=False`` leaves zero out of
  an unsigned table, so that a positive entry never becomes zero (the "zero-point problem" of
  quantising Adam's second moment, Li et al., 2023).  :func:`roundtrip_8bit` is both in one
  call.

>>> round_to(np.array([1e-8, 0.999, 65519.0]), "float16").tolist()
[0.0, 0.9990234375, 65504.0]
>>> round_to(np.array([0.999]), "bfloat16").tolist()
[1.0]
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["FORMATS", "round_to", "codebook", "quantize_8bit", "dequantize_8bit", "roundtrip_8bit"]

#: Properties of the formats :func:`round_to` knows: significant bits (with the implicit one),
#: the smallest positive normal and subnormal numbers, and the largest finite number.
FORMATS = {
    "float16": {"bits": 11, "tiny": 2.0**-14, "smallest": 2.0**-24, "max": 65504.0},
    "bfloat16": {"bits": 8, "tiny": 2.0**-126, "smallest": 2.0**-133, "max": 3.3895313892515355e38},
    "float32": {"bits": 24, "tiny": 2.0**-126, "smallest": 2.0**-149, "max": 3.4028234663852886e38},
}


def round_to(x, dtype: str) -> np.ndarray:
    """``x`` rounded to the nearest number of ``dtype``, as float64.

    ``dtype`` is "float16", "bfloat16" or "float32".

    Values beyond the format's largest number become infinite, values below half its smallest
    subnormal become zero (with their sign), as when a result is stored in that format.
    """
    if dtype not in FORMATS:
        raise ValueError(f"Invalid dtype: {dtype!r} (must be one of {', '.join(FORMATS)})")
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        if dtype == "float16":
            return x.astype(np.float16).astype(np.float64)
        single = x.astype(np.float32)
    if dtype == "float32":
        return single.astype(np.float64)
    # bfloat16: keep the upper 16 bits of the float32, rounding the lower 16 half to even.  (The
    # float32 rounding first can only matter for ties at the 24th bit, far below bfloat16's 8.)
    bits = np.atleast_1d(single).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32).astype(np.float64).reshape(x.shape)
    nan = np.isnan(x)
    if nan.any():  # the carry above could turn a NaN's payload into an infinity
        out[nan] = np.nan
    return out


@functools.lru_cache(maxsize=None)
def _codebook(kind: str, signed: bool, zero: bool) -> np.ndarray:
    if kind == "linear":
        values = np.linspace(-1.0, 1.0, 255) if signed else np.linspace(0.0, 1.0, 256)
    elif kind == "dynamic":
        # Seven decades 10^-6 .. 1; decade k (k = 0 for the smallest) holds 2^k evenly spaced
        # numbers (2^(k+1) without a sign), the midpoints of a grid on (0.1, 1] times 10^(k-6):
        # few numbers for the tiny values, many for the large ones, like a float's exponent and
        # mantissa.  With zero and 1 this makes 256 numbers.
        values = [0.0, 1.0]
        for k in range(7):
            count = 2**k if signed else 2 ** (k + 1)
            grid = np.linspace(0.1, 1.0, count + 1)
            mids = 10.0 ** (k - 6) * (grid[:-1] + grid[1:]) / 2
            values += mids.tolist() + ((-mids).tolist() if signed else [])
        values = np.array(values)
    else:
        raise ValueError(f"Invalid codebook: {kind!r} (must be 'linear' or 'dynamic')")
    values = np.unique(values)
    if not zero:
        values = values[values != 0]
    values.setflags(write=False)
    return values


def codebook(kind: str = "dynamic", signed: bool = True, zero: bool = True) -> np.ndarray:
    """The (at most 256) numbers an 8-bit code stands for, sorted: in [-1, 1], or [0, 1] unsigned.

    ``zero=False`` (unsigned tables only) leaves 0 out: every entry rounds to a positive number.
    """
    if not zero and signed:
        raise ValueError(
            "zero=False needs signed=False (a signed table needs zero between its signs)"
        )
    return _codebook(kind, bool(signed), bool(zero))


def quantize_8bit(
    x, kind: str = "dynamic", block_size: int = 256, signed: bool = True, zero: bool = True
):
    """Codes (uint8, the shape of ``x``) and one float32 scale per block of ``block_size`` entries.

    Each block of the flattened array is divided by its largest magnitude and every entry is
    replaced by the index of the nearest number of :func:`codebook` ``(kind, signed, zero)``
    (entries below the table's smallest number get that number).
    """
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"Invalid block_size: {block_size} (must be a positive integer)")
    table = codebook(kind, signed, zero)
    x = np.asarray(x, dtype=np.float64)
    if not signed and np.any(x < 0):
        raise ValueError("an unsigned code needs non-negative values")
    flat = x.reshape(-1)
    n_blocks = -(-flat.size // block_size)
    padded = np.zeros(n_blocks * block_size)
    padded[: flat.size] = flat
    blocks = padded.reshape(n_blocks, block_size)
    with np.errstate(over="ignore"):  # beyond float32's range the scale is infinite
        scale = np.abs(blocks).max(axis=1).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float64)
    normalised = np.clip(blocks / safe[:, None], table[0], table[-1])
    # nearest table entry: compare with the midpoints between neighbours
    codes = np.searchsorted((table[:-1] + table[1:]) / 2, normalised).astype(np.uint8)
    return codes.reshape(-1)[: flat.size].reshape(x.shape), scale


def dequantize_8bit(
    codes,
    scale,
    kind: str = "dynamic",
    block_size: int = 256,
    signed: bool = True,
    zero: bool = True,
):
    """The float64 values that :func:`quantize_8bit` codes stand for."""
    table = codebook(kind, signed, zero)
    codes = np.asarray(codes)
    flat = table[codes.reshape(-1).astype(np.intp)]
    per_entry = np.repeat(np.asarray(scale, dtype=np.float64), block_size)[: flat.size]
    return (flat * per_entry).reshape(codes.shape)


def roundtrip_8bit(
    x, kind: str = "dynamic", block_size: int = 256, signed: bool = True, zero: bool = True
) -> np.ndarray:
    """``x`` as an 8-bit state would hold it: quantised, then dequantised."""
    codes, scale = quantize_8bit(x, kind, block_size, signed, zero)
    return dequantize_8bit(codes, scale, kind, block_size, signed, zero)
