"""The integer arithmetic the C code and the numpy reference share, defined once.

Rounding mode, stated once for every operation: **round half up** (towards +inf), computed as
``(v + 2**(n-1)) >> n`` with an arithmetic shift on 64-bit integers. This is CMSIS-NN's "single rounding"
requantisation (``CMSIS_NN_USE_SINGLE_ROUNDING``, TFLite's newer reference): a real factor ``m`` is held as
a signed Q31 ``multiplier`` and a ``shift`` (``m = multiplier * 2**(shift - 31)``, ``|multiplier|`` in
``[2**30, 2**31)``), and ``requantize(v) = (v * multiplier + 2**(30 - shift)) >> (31 - shift)``, saturated to int32.

Sigmoid and tanh of the LSTM are 513-entry int16 tables over ``[-8, 8]`` (inputs Q3.12, outputs Q0.15) with
linear interpolation between entries; :data:`LUT_ERROR_BOUND` states their error.
"""

from __future__ import annotations

import math

import numpy as np

from biowear.errors import ConfigError

INT8_MIN, INT8_MAX = -128, 127
INT16_MIN, INT16_MAX = -32768, 32767
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: Fractional bits of the LSTM gate pre-activations (int16 Q3.12: range [-8, 8)).
GATE_FRAC_BITS = 12
#: Fractional bits of sigmoid/tanh outputs (int16 Q0.15).
ACT_FRAC_BITS = 15
#: Hidden-state scale of the int8 LSTM output: h in (-1, 1) as int8 with scale 2**-7, zero point 0.
HIDDEN_FRAC_BITS = 7
LUT_ENTRIES = 513
LUT_STEP_BITS = 7  # 65536 inputs / 512 segments = 128 inputs per segment
#: Largest error of a LUT output against the exact function over all int16 Q3.12 inputs (measured by
#: ``tests/export/test_intmath.py``): sigmoid (dominated by saturation at +-8) and tanh, in real units.
LUT_ERROR_BOUND = {"sigmoid": 3.5e-4, "tanh": 1.2e-4}


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(multiplier, shift) of a real factor: ``real ~= multiplier * 2**(shift - 31)``; (0, 0) for factors below
    ``2**-31`` (their product with any int32 rounds to 0 or -0).

    Raises:
        ConfigError: a non-finite factor or one of ``2**30`` or more (no int8 layer needs it).
    """
    if not math.isfinite(real):
        raise ConfigError(f"cannot requantise by a non-finite factor {real}")
    if real == 0.0 or abs(real) < 2.0**-31:
        return 0, 0
    mantissa, exponent = math.frexp(real)  # real = mantissa * 2**exponent, |mantissa| in [0.5, 1)
    multiplier = round(mantissa * 2**31)
    if abs(multiplier) == 2**31:
        multiplier //= 2
        exponent += 1
    if exponent > 30:
        raise ConfigError(f"requantisation factor {real:g} is too large (an activation range collapsed to zero?)")
    return int(multiplier), int(exponent)


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantize_multiplier` of each factor, as int32 arrays."""
    pairs = [quantize_multiplier(float(r)) for r in np.ravel(reals)]
    return np.array([p[0] for p in pairs], dtype=np.int32), np.array([p[1] for p in pairs], dtype=np.int32)


def requantize(v: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """``round_half_up(v * multiplier * 2**(shift - 31))`` exactly, saturated to int32 (the C code's arithmetic:
    a 64-bit product, then saturation, so an input far outside the calibrated range clips instead of wrapping)."""
    v = np.asarray(v, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    total = 31 - np.asarray(shift, dtype=np.int64)
    return np.clip((v * m + (np.int64(1) << (total - 1))) >> total, INT32_MIN, INT32_MAX)


def rshift_round(v: np.ndarray, n: int) -> np.ndarray:
    """``round_half_up(v / 2**n)`` for ``n >= 1`` (``v`` unchanged for ``n == 0``), in int64."""
    v = np.asarray(v, dtype=np.int64)
    return v if n == 0 else (v + (np.int64(1) << (n - 1))) >> n


def round_div(v: np.ndarray, k: int) -> np.ndarray:
    """``v / k`` rounded half away from zero (average pooling), as C computes it with truncating division."""
    v = np.asarray(v, dtype=np.int64)
    half = k // 2
    return np.where(v >= 0, (v + half) // k, -((-v + half) // k))


def saturate(v: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(v, low, high)


def lut_table(function: str) -> np.ndarray:
    """The 513 int16 entries of ``sigmoid`` or ``tanh`` at ``-8 + i/32`` (Q0.15, saturated to int16)."""
    x = -8.0 + np.arange(LUT_ENTRIES) / 32.0
    y = 1.0 / (1.0 + np.exp(-x)) if function == "sigmoid" else np.tanh(x)
    return np.clip(np.round(y * 2**ACT_FRAC_BITS), -INT16_MAX, INT16_MAX).astype(np.int16)


LUTS = {name: lut_table(name) for name in ("sigmoid", "tanh")}


def lut_lookup(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Interpolated table value of int16 Q3.12 inputs ``x``: entry ``i = (x + 32768) >> 7`` and the next one,
    weighted by the low 7 bits (round half up)."""
    u = np.asarray(x, dtype=np.int64) + 32768
    i, frac = u >> LUT_STEP_BITS, u & ((1 << LUT_STEP_BITS) - 1)
    t = table.astype(np.int64)
    lo, hi = t[i], t[i + 1]
    return lo + (((hi - lo) * frac + (1 << (LUT_STEP_BITS - 1))) >> LUT_STEP_BITS)


def quantize_input(x: np.ndarray, gain: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """int8 input codes ``round_half_away(clamp(x * gain + offset, -128, 127))`` in float32 arithmetic, per
    channel (axis 1 of ``(n, channels, samples)``) - exactly the float32 operations of the C ``model_io.c``.
    Non-finite samples are refused before this point."""
    x = np.asarray(x, dtype=np.float32)
    g = np.asarray(gain, dtype=np.float32).reshape(1, -1, 1)
    o = np.asarray(offset, dtype=np.float32).reshape(1, -1, 1)
    v = (x * g).astype(np.float32) + o
    v = np.clip(v, np.float32(INT8_MIN), np.float32(INT8_MAX)).astype(np.float32)
    half = np.float32(0.5)
    q = np.where(v >= 0, np.trunc(v + half), -np.trunc(half - v))
    return q.astype(np.int8)
