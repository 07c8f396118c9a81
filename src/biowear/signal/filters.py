"""Filtering, baseline removal, resampling and normalisation of 1-D/2-D signals (time on axis 0)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import ndimage, signal

from biowear.errors import ConfigError


def resample(x: np.ndarray, fs_in_hz: float, fs_out_hz: float) -> np.ndarray:
    """Resample along axis 0 with a polyphase anti-aliasing filter (scipy ``resample_poly``).

    The rate ratio is approximated by a fraction with denominator at most 1000.
    """
    if fs_in_hz <= 0 or fs_out_hz <= 0:
        raise ConfigError(f"sampling rates must be positive, got {fs_in_hz} -> {fs_out_hz} Hz")
    if fs_in_hz == fs_out_hz:
        return x
    ratio = Fraction(fs_out_hz / fs_in_hz).limit_denominator(1000)
    return signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0).astype(x.dtype, copy=False)


def bandpass(x: np.ndarray, fs_hz: float, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass along axis 0 (second-order sections, forward-backward)."""
    nyquist = fs_hz / 2
    if not 0 < low_hz < high_hz < nyquist:
        raise ConfigError(
            f"band-pass edges must satisfy 0 < low < high < fs/2 = {nyquist} Hz, got {low_hz}-{high_hz} Hz"
        )
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=fs_hz, output="sos")
    return signal.sosfiltfilt(sos, x, axis=0).astype(x.dtype, copy=False)


def remove_baseline(x: np.ndarray, fs_hz: float, window_s: tuple[float, float] = (0.2, 0.6)) -> np.ndarray:
    """Remove baseline wander with two cascaded median filters (de Chazal et al. 2004).

    The first median (``window_s[0]``, default 200 ms) removes QRS complexes and P waves, the second
    (default 600 ms) removes T waves; the result is the baseline estimate, subtracted from ``x``.
    """
    baseline = x
    for w in window_s:
        size = max(1, int(round(w * fs_hz)) | 1)  # odd length
        sizes = (size,) + (1,) * (x.ndim - 1)
        baseline = ndimage.median_filter(baseline, size=sizes, mode="nearest")
    return (x - baseline).astype(x.dtype, copy=False)


def zscore(x: np.ndarray, axis: int = -1, eps: float = 1e-6) -> np.ndarray:
    """Zero-mean, unit-variance along ``axis`` (flat segments stay finite thanks to ``eps``)."""
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, keepdims=True)
    return ((x - mean) / (std + eps)).astype(x.dtype, copy=False)
