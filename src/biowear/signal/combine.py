"""Lead combination and energy enhancement kernels (HeartBeatClass pre-processing)."""

from __future__ import annotations

import numpy as np

from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import OpCounts, kernel


def _rms_ops(y: np.ndarray, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    leads, n = np.atleast_2d(x).shape
    return OpCounts(macs=leads * n, muls=n, transcendental=n)


@kernel("rms_combine", _rms_ops)
def rms_combine(x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Root mean square across leads, sample by sample: shape (leads, n) -> (n,).

    In fixed point the squares accumulate in 64 bits and the square root is an integer square root
    (``isqrt`` of the mean of squared codes, which is already in the input's format).
    """
    x = np.atleast_2d(x)
    if q is None:
        return np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2, axis=0))
    acc = np.sum(np.asarray(x, np.int64) ** 2, axis=0) // x.shape[0]
    return q.saturate(np.floor(np.sqrt(acc.astype(np.float64))).astype(np.int64))


def _relen_ops(y: np.ndarray, x: np.ndarray, fs_hz: float, short_s: float = 0.1, long_s: float = 2.0, **kw: object):
    n = int(np.asarray(x).size)
    # running sums: one square (MAC) per sample, two add/sub per window per sample, one division
    return OpCounts(macs=n, adds=4 * n, moves=2 * n, transcendental=n)


@kernel("relative_energy", _relen_ops)
def relative_energy(
    x: np.ndarray, fs_hz: float, short_s: float = 0.1, long_s: float = 2.0, q: QFormat | None = None
) -> np.ndarray:
    """Relative energy (Orlandic et al. 2019, REWARD): short-window energy over long-window energy.

    The short window spans a QRS complex, the long one about two beats; the ratio is large at QRS
    complexes whatever the signal's amplitude. Both windows are centred; energies are running sums of
    squares. Returns values in [0, 1] (float) or codes in ``q`` (fixed point: 64-bit sums, one division).
    """
    short = max(1, int(round(short_s * fs_hz)))
    long = max(short + 1, int(round(long_s * fs_hz)))
    if q is None:
        sq = np.asarray(x, dtype=np.float64) ** 2
    else:
        sq = np.asarray(x, dtype=np.int64) ** 2
    es = _centred_sum(sq, short)
    el = _centred_sum(sq, long)
    if q is None:
        return es / np.maximum(el, 1e-12)
    ratio = (es << q.frac_bits) // np.maximum(el, 1)
    return q.saturate(ratio)


def _centred_sum(v: np.ndarray, width: int) -> np.ndarray:
    c = np.concatenate([np.zeros(1, dtype=v.dtype), np.cumsum(v)])
    n = v.size
    idx = np.arange(n)
    lo = np.clip(idx - width // 2, 0, n)
    hi = np.clip(idx - width // 2 + width, 0, n)
    return c[hi] - c[lo]
