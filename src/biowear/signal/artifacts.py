"""Artifact handling: eye-blink removal from frontal EEG and block averaging."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from biowear.kernels.profiler import OpCounts, kernel


def _blink_ops(y: np.ndarray, x: np.ndarray, fs_hz: float, *args: object, **kwargs: object) -> OpCounts:
    c, n = np.atleast_2d(x).shape
    return OpCounts(adds=4 * c * n, muls=c * n, cmps=3 * c * n, moves=c * n)


@kernel("blink_removal", _blink_ops)
def remove_blinks(x: np.ndarray, fs_hz: float, frontal: int = 2, k_mad: float = 5.0, smooth_s: float = 0.25):
    """Remove eye blinks from EEG (channels, samples) whose first ``frontal`` channels are frontal.

    A blink is a large slow deflection: the moving average (``smooth_s``) of the mean frontal channel is
    compared with ``k_mad`` robust deviations (median absolute deviation); over the flagged samples, widened
    by 0.1 s on each side, the slow component of every channel is subtracted, leaving the faster EEG.
    """
    x = np.asarray(x, dtype=np.float64)
    w = max(1, int(round(smooth_s * fs_hz)))
    slow = ndimage.uniform_filter1d(x, w, axis=-1, mode="nearest")
    ref = slow[:frontal].mean(axis=0)
    dev = np.abs(ref - np.median(ref))
    mad = np.median(dev) + 1e-12
    mask = ndimage.binary_dilation(dev > k_mad * 1.4826 * mad, iterations=max(1, int(0.1 * fs_hz)))
    return np.where(mask[None, :], x - slow, x)


def _avg_ops(y: np.ndarray, x: np.ndarray, block: int, **kw: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=n, muls=n // max(block, 1))


@kernel("block_average", _avg_ops)
def block_average(x: np.ndarray, block: int) -> np.ndarray:
    """Means of consecutive non-overlapping blocks of ``block`` samples along the last axis."""
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[-1] // block
    return x[..., : m * block].reshape(x.shape[:-1] + (m, block)).mean(axis=-1)
