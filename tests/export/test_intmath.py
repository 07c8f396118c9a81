"""Requantisation rounding, multipliers, shifts and the LSTM lookup tables against exact arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from biowear.errors import ConfigError
from biowear.export.intmath import (
    INT32_MAX,
    INT32_MIN,
    LUT_ERROR_BOUND,
    LUTS,
    lut_lookup,
    quantize_input,
    quantize_multiplier,
    requantize,
    round_div,
    rshift_round,
)


def _exact_half_up(num: Fraction) -> int:
    """floor(x + 1/2): round half towards +inf."""
    return int((num + Fraction(1, 2)).__floor__())


@pytest.mark.parametrize("real", [1.0, 0.5, 0.75, 1 / 3, 2.0**-20, 2.0**-31 * 1.5, 123.456, -0.25, -0.999])
def test_multiplier_and_shift_represent_the_factor(real):
    m, s = quantize_multiplier(real)
    assert 2**30 <= abs(m) < 2**31
    assert abs(m * 2.0 ** (s - 31) - real) <= abs(real) * 2.0**-30


def test_tiny_factors_are_zero_and_huge_or_nan_ones_refused():
    assert quantize_multiplier(2.0**-40) == (0, 0)
    assert quantize_multiplier(0.0) == (0, 0)
    with pytest.raises(ConfigError, match="too large"):
        quantize_multiplier(2.0**31)
    with pytest.raises(ConfigError, match="non-finite"):
        quantize_multiplier(float("nan"))


def test_requantize_equals_exact_round_half_up_at_the_edges():
    rng = np.random.default_rng(0)
    values = [0, 1, -1, 2, -2, 3, -3, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 20, -(1 << 20)]
    values += rng.integers(INT32_MIN, INT32_MAX, 200).tolist()
    pairs = [(2**30, 0), (2**30, 1), (2**31 - 1, 0), (2**31 - 1, -30), (2**30 + 12345, -10), (-(2**30), 0),
             (-(2**31 - 1), -5), (1518500250, 2), (0, 0)]  # fmt: skip
    for m, s in pairs:
        got = requantize(np.array(values), m, s)
        want = [min(max(_exact_half_up(Fraction(v * m, 2 ** (31 - s))), INT32_MIN), INT32_MAX) for v in values]
        assert got.tolist() == want, (m, s)
    # a factor above 1 saturates instead of wrapping (the C code clamps its 64-bit result the same way)
    assert requantize(np.array([INT32_MAX, INT32_MIN, 3 << 29]), 2**30, 2).tolist() == [INT32_MAX, INT32_MIN, INT32_MAX]


def test_exact_halves_round_towards_plus_infinity():
    m = 2**30  # x 0.5 at shift 0
    assert requantize(np.array([1, 3, 5, -1, -3, -5]), m, 0).tolist() == [1, 2, 3, 0, -1, -2]
    assert rshift_round(np.array([1, -1, 2, -2, 3, -3]), 1).tolist() == [1, 0, 1, -1, 2, -1]
    assert rshift_round(np.array([7, -7]), 0).tolist() == [7, -7]


def test_average_pooling_division_rounds_half_away_from_zero():
    assert round_div(np.array([5, -5, 4, -4, 6, -6, 0]), 2).tolist() == [3, -3, 2, -2, 3, -3, 0]
    assert round_div(np.array([7, -7, 8, -8]), 3).tolist() == [2, -2, 3, -3]


@pytest.mark.parametrize("name, exact", [("sigmoid", lambda x: 1 / (1 + np.exp(-x))), ("tanh", np.tanh)])
def test_lut_error_is_within_its_stated_bound_over_every_int16_input(name, exact):
    x = np.arange(-32768, 32768)
    got = lut_lookup(LUTS[name], x) / 2.0**15
    err = np.abs(got - exact(x / 2.0**12))
    assert err.max() <= LUT_ERROR_BOUND[name]
    assert err.max() > LUT_ERROR_BOUND[name] / 20  # the bound is tight, not a blanket
    if name == "sigmoid":  # its worst error is the saturation at +-8; inside, interpolation is far better
        assert err[np.abs(x) < 4 * 4096].max() < 5e-5
    assert lut_lookup(LUTS[name], np.array([0]))[0] == (16384 if name == "sigmoid" else 0)


def test_input_quantisation_clamps_and_rounds_half_away_from_zero():
    x = np.array([[[0.25, 0.75, -0.25, -0.75, 1000.0, -1000.0, 0.0, 126.5]]], dtype=np.float32)
    q = quantize_input(x, np.array([2.0]), np.array([0.0]))
    assert q.tolist() == [[[1, 2, -1, -2, 127, -128, 0, 127]]]
