"""Profiler bookkeeping and fixed-point primitives against float references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat, fft_fixed, sos_filter_fixed
from biowear.kernels.profiler import UNASSIGNED, OpCounts, Profiler, kernel, phase


@kernel("inner", lambda y, x: OpCounts(adds=len(x)))
def _inner(x):
    return [v + 1 for v in x]


@kernel("outer", lambda y, x: OpCounts(muls=2 * len(x)))
def _outer(x):
    return _inner([v * 2 for v in x])


def test_opcounts_arithmetic():
    a = OpCounts(macs=1, adds=2)
    b = OpCounts(macs=3, cmps=4)
    assert a + b == OpCounts(macs=4, adds=2, cmps=4)
    assert (a + b).total == 10
    assert OpCounts(macs=3).scaled(2.5) == OpCounts(macs=8)


def test_kernel_records_self_counts_per_phase():
    prof = Profiler()
    with prof.active():
        with prof.phase("inference"):
            _outer([1, 2, 3])
            _outer([1])
        _inner([1, 2])
    assert prof.stats[("inference", "outer")].ops == OpCounts(muls=8)
    assert prof.stats[("inference", "inner")].ops == OpCounts(adds=4)
    assert prof.stats[("inference", "outer")].calls == 2
    assert prof.stats[(UNASSIGNED, "inner")].ops == OpCounts(adds=2)
    assert all(s.time_s >= 0 for s in prof.stats.values())


def test_no_profiler_no_records_and_phase_is_noop():
    assert _outer([1, 2]) == [3, 5]
    with phase("inference"):
        assert _inner([0]) == [1]
    with pytest.raises(ValueError, match="valid phases"):
        with Profiler().phase("postprocessing"):
            pass


def test_quantize_rounds_and_saturates():
    q = QFormat(16, 8)
    assert q.name == "Q7.8"
    codes = q.quantize(np.array([0.5, -0.5, 1000.0, -1000.0, 1 / 512, 3 / 512]))
    assert codes.tolist() == [128, -128, 32767, -32768, 0, 2]  # half an LSB rounds to even
    with pytest.raises(ConfigError, match="NaN"):
        q.quantize(np.array([np.nan]))
    with pytest.raises(ConfigError, match="word size"):
        QFormat(12, 4)


def test_mul_and_matmul_match_float_within_one_lsb():
    rng = np.random.default_rng(0)
    q = QFormat(32, 20)
    a, b = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50)
    prod = q.to_float(q.mul(q.quantize(a), q.quantize(b)))
    assert np.max(np.abs(prod - q.roundtrip(a) * q.roundtrip(b))) <= q.resolution
    m = rng.uniform(-1, 1, (4, 50))
    out = q.to_float(q.matmul(q.quantize(m), q.quantize(a)))
    assert np.allclose(out, q.roundtrip(m) @ q.roundtrip(a), atol=q.resolution)
    q16 = QFormat(16, 12)  # range +-8: a product of 3 x 3 saturates
    assert q16.to_float(q16.mul(q16.quantize(3.0), q16.quantize(3.0))) == pytest.approx(q16.max_int / q16.scale)


def test_fixed_biquad_cascade_matches_scipy():
    rng = np.random.default_rng(1)
    fs = 256.0
    x = rng.normal(0, 20, 2048)
    sos = signal.butter(2, [1, 40], "bandpass", fs=fs, output="sos")
    q = QFormat(32, 16)
    y = q.to_float(sos_filter_fixed(q, sos, q.quantize(x)))
    ref = signal.sosfilt(sos, x)
    assert np.linalg.norm(y - ref) / np.linalg.norm(ref) < 1e-3
    q16 = QFormat(16, 8)
    y16 = q16.to_float(sos_filter_fixed(q16, sos, q16.quantize(x / 4)))
    err16 = np.linalg.norm(y16 - signal.sosfilt(sos, x / 4)) / np.linalg.norm(signal.sosfilt(sos, x / 4))
    assert 1e-3 < err16 < 0.2  # 16 bits are visibly coarser but still track the signal


def test_fixed_fft_matches_numpy_scaled():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (3, 256))
    q = QFormat(32, 24)
    re, im, stages = fft_fixed(q, q.quantize(x))
    ref = np.fft.fft(x, axis=-1) / 2**stages
    assert stages == 8
    assert np.max(np.abs(q.to_float(re) + 1j * q.to_float(im) - ref)) < 1e-5
    with pytest.raises(ConfigError, match="power of two"):
        fft_fixed(q, q.quantize(np.zeros(100)))
