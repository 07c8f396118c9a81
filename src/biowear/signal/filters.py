"""Filtering, baseline removal, resampling and normalisation of 1-D/2-D signals (time on axis 0)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat, sos_filter_fixed
from biowear.kernels.profiler import OpCounts, kernel
from biowear.registry import Registry


def _scipy():
    """scipy, imported on first use so that ``import biowear.data`` (and ``biowear data list``) starts fast."""
    import scipy.ndimage
    import scipy.signal

    return scipy


#: Butterworth response types (scipy's ``btype``).
BUTTERWORTH_KINDS: Registry[str] = Registry("filter kind")
for _kind in ("bandpass", "bandstop", "lowpass", "highpass"):
    BUTTERWORTH_KINDS.register(_kind, _kind)


def resample(x: np.ndarray, fs_in_hz: float, fs_out_hz: float) -> np.ndarray:
    """Resample along axis 0 with a polyphase anti-aliasing filter (scipy ``resample_poly``).

    The rate ratio is approximated by a fraction with denominator at most 1000.
    """
    if fs_in_hz <= 0 or fs_out_hz <= 0:
        raise ConfigError(f"sampling rates must be positive, got {fs_in_hz} -> {fs_out_hz} Hz")
    if fs_in_hz == fs_out_hz:
        return x
    ratio = Fraction(fs_out_hz / fs_in_hz).limit_denominator(1000)
    return _scipy().signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0).astype(x.dtype, copy=False)


def bandpass(x: np.ndarray, fs_hz: float, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass along axis 0 (second-order sections, forward-backward)."""
    nyquist = fs_hz / 2
    if not 0 < low_hz < high_hz < nyquist:
        raise ConfigError(
            f"band-pass edges must satisfy 0 < low < high < fs/2 = {nyquist} Hz, got {low_hz}-{high_hz} Hz"
        )
    sos = _scipy().signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs_hz, output="sos")
    return _scipy().signal.sosfiltfilt(sos, x, axis=0).astype(x.dtype, copy=False)


def remove_baseline(x: np.ndarray, fs_hz: float, window_s: tuple[float, float] = (0.2, 0.6)) -> np.ndarray:
    """Remove baseline wander with two cascaded median filters (de Chazal et al. 2004).

    The first median (``window_s[0]``, default 200 ms) removes QRS complexes and P waves, the second
    (default 600 ms) removes T waves; the result is the baseline estimate, subtracted from ``x``.
    """
    baseline = x
    for w in window_s:
        size = max(1, int(round(w * fs_hz)) | 1)  # odd length
        sizes = (size,) + (1,) * (x.ndim - 1)
        baseline = _scipy().ndimage.median_filter(baseline, size=sizes, mode="nearest")
    return (x - baseline).astype(x.dtype, copy=False)


def zscore(x: np.ndarray, axis: int = -1, eps: float = 1e-6) -> np.ndarray:
    """Zero-mean, unit-variance along ``axis`` (flat segments stay finite thanks to ``eps``)."""
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, keepdims=True)
    return ((x - mean) / (std + eps)).astype(x.dtype, copy=False)


def butter_sos(
    fs_hz: float, band_hz: tuple[float, float] | float, kind: str = "bandpass", order: int = 2
) -> np.ndarray:
    """Butterworth second-order sections, with a clear error for edges outside (0, fs/2).

    Args:
        fs_hz: sampling rate.
        band_hz: (low, high) for ``bandpass``/``bandstop``, one edge for ``lowpass``/``highpass``.
        kind: ``bandpass``, ``bandstop``, ``lowpass`` or ``highpass``.
        order: filter order (per edge).
    """
    BUTTERWORTH_KINDS.get(kind)
    edges = np.atleast_1d(np.asarray(band_hz, dtype=float))
    if np.any(edges <= 0) or np.any(edges >= fs_hz / 2) or np.any(np.diff(edges) <= 0):
        raise ConfigError(f"filter edges {edges.tolist()} Hz must be increasing and inside (0, {fs_hz / 2}) Hz")
    return _scipy().signal.butter(order, edges if edges.size > 1 else edges[0], btype=kind, fs=fs_hz, output="sos")


def _sos_ops(y: np.ndarray, x: np.ndarray, sos: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    sections = int(np.asarray(sos).shape[0])
    return OpCounts(macs=5 * n * sections, moves=4 * n * sections)


@kernel("iir_filter", _sos_ops)
def sos_filter(x: np.ndarray, sos: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Causal IIR filtering with second-order sections along axis 0 (float: SciPy ``sosfilt``).

    With ``q`` the input holds fixed-point codes and the filter runs in emulated fixed point
    (:func:`biowear.kernels.fixed.sos_filter_fixed`).
    """
    if q is not None:
        return sos_filter_fixed(q, sos, x)
    return _scipy().signal.sosfilt(sos, np.asarray(x, dtype=np.float64), axis=0)


def _ma_ops(y: np.ndarray, x: np.ndarray, width: int, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=2 * n, muls=n, moves=n)


@kernel("moving_average", _ma_ops)
def moving_average(x: np.ndarray, width: int, q: QFormat | None = None) -> np.ndarray:
    """Causal running mean over ``width`` samples along axis 0 (running sum: one add and one subtract
    per sample); the first ``width - 1`` outputs average the samples seen so far.

    Integer codes (``q`` given) keep a 64-bit running sum and divide by the width with rounding.
    """
    if width < 1:
        raise ConfigError(f"moving-average width must be >= 1 sample, got {width}")
    x = np.asarray(x)
    c = np.cumsum(x.astype(np.int64 if q is not None else np.float64), axis=0)
    shifted = np.zeros_like(c)
    shifted[width:] = c[:-width]
    total = c - shifted
    counts = np.minimum(np.arange(1, x.shape[0] + 1), width).reshape((-1,) + (1,) * (x.ndim - 1))
    if q is not None:
        return q.saturate((total + counts // 2) // counts)
    return total / counts


def _deriv_ops(y: np.ndarray, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=4 * n, muls=n)


@kernel("derivative", _deriv_ops)
def five_point_derivative(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Pan-Tompkins five-point derivative ``(2x[n] + x[n-1] - x[n-3] - 2x[n-4]) * fs / 8`` (causal)."""
    x = np.asarray(x, dtype=np.float64)
    xp = np.concatenate([np.full(4, x[0]), x])
    return (2 * xp[4:] + xp[3:-1] - xp[1:-3] - 2 * xp[:-4]) * fs_hz / 8.0
