"""Morphological filtering of ECG: erosion, dilation, opening, closing and the baseline/noise filter.

The filter follows Sun, Chan and Krishnan (2002), the one BiomedBench's HeartBeatClass runs
(Braojos et al. 2012): the baseline is estimated by an opening followed by a closing with flat structuring
elements longer than a QRS complex (0.2 s and 1.5 x 0.2 s) and subtracted; noise is then suppressed by
averaging an opening-closing and a closing-opening with a short element. The values are computed with
SciPy's running min/max; the operation counts model the embedded implementation, a sliding queue with a
linear min/max search (one comparison and one move per element of the window per sample).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from biowear.kernels.profiler import OpCounts, kernel


def _window(fs_hz: float, seconds: float) -> int:
    return max(1, int(round(seconds * fs_hz)) | 1)


def _queue_ops(y: np.ndarray, x: np.ndarray, size: int, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(cmps=n * (size - 1), moves=n * size)


@kernel("erosion", _queue_ops)
def erosion(x: np.ndarray, size: int) -> np.ndarray:
    """Flat erosion (running minimum over ``size`` samples, centred) along the last axis."""
    return ndimage.minimum_filter1d(x, size, axis=-1, mode="nearest")


@kernel("dilation", _queue_ops)
def dilation(x: np.ndarray, size: int) -> np.ndarray:
    """Flat dilation (running maximum over ``size`` samples, centred) along the last axis."""
    return ndimage.maximum_filter1d(x, size, axis=-1, mode="nearest")


def opening(x: np.ndarray, size: int) -> np.ndarray:
    """Erosion then dilation: removes peaks narrower than the element."""
    return dilation(erosion(x, size), size)


def closing(x: np.ndarray, size: int) -> np.ndarray:
    """Dilation then erosion: removes pits narrower than the element."""
    return erosion(dilation(x, size), size)


def _sub_ops(y: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    return OpCounts(adds=int(y.size))


@kernel("subtract", _sub_ops)
def _subtract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a - b


def _avg_ops(y: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    return OpCounts(adds=int(y.size), moves=int(y.size))  # add + shift by one


@kernel("average", _avg_ops)
def _average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return (a + b) >> 1
    return (a + b) / 2


def morphological_filter(x: np.ndarray, fs_hz: float, baseline_s: float = 0.2, noise_s: float = 0.02) -> np.ndarray:
    """Remove baseline wander and high-frequency noise from ECG (last axis is time).

    Works on floats and on integer fixed-point codes alike (min/max are exact on integers).

    Args:
        x: ECG, shape (n,) or (leads, n).
        fs_hz: sampling rate.
        baseline_s: opening element length; the closing uses 1.5 times it.
        noise_s: element length of the noise-suppression step.
    """
    lo = _window(fs_hz, baseline_s)
    lc = _window(fs_hz, 1.5 * baseline_s)
    baseline = closing(opening(x, lo), lc)
    corrected = _subtract(x, baseline)
    ln = _window(fs_hz, noise_s)
    return _average(closing(opening(corrected, ln), ln), opening(closing(corrected, ln), ln))
