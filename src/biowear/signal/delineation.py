"""ECG fiducial-point delineation around detected R peaks (HeartBeatClass's ECG-FPDEL step).

A window search in the spirit of the embedded delineators compared by Braojos et al. (2012): QRS onset and
offset are where the absolute slope falls below a fraction of the beat's maximum slope within 120 ms before
and after R; the P peak is the largest deflection 120-300 ms before R (limited by the previous beat); the T
peak is the largest deflection between QRS offset + 60 ms and 60% of the following RR interval; the T end is
where the slope after the T peak falls below 10% of its maximum.
"""

from __future__ import annotations

import numpy as np

from biowear.kernels.profiler import OpCounts, kernel

#: Columns of the fiducial table.
FIDUCIALS: tuple[str, ...] = ("p_peak", "qrs_on", "r_peak", "qrs_off", "t_peak", "t_end")


def _del_ops(y: np.ndarray, x: np.ndarray, r_peaks: np.ndarray, fs_hz: float, **kw: object) -> OpCounts:
    per_beat = int(round(1.2 * fs_hz))  # samples scanned per beat (windows of the six searches)
    n = int(np.asarray(r_peaks).size)
    return OpCounts(cmps=2 * n * per_beat, adds=n * per_beat, moves=6 * n)


@kernel("delineation", _del_ops)
def delineate(x: np.ndarray, r_peaks: np.ndarray, fs_hz: float) -> np.ndarray:
    """Fiducial points of every beat.

    Args:
        x: filtered single-lead ECG (baseline removed).
        r_peaks: R-peak sample indices (sorted).
        fs_hz: sampling rate.

    Returns:
        Integer array (beats, 6) with the columns of :data:`FIDUCIALS` (sample indices, clipped to the signal).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    slope = np.abs(np.gradient(x))
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    out = np.zeros((r_peaks.size, len(FIDUCIALS)), dtype=np.int64)
    s = lambda sec: max(1, int(round(sec * fs_hz)))  # noqa: E731
    for k, r in enumerate(r_peaks):
        prev_r = r_peaks[k - 1] if k > 0 else r - s(1.0)
        next_r = r_peaks[k + 1] if k + 1 < r_peaks.size else r + s(1.0)
        lo, hi = max(0, r - s(0.12)), min(n, r + s(0.12) + 1)
        peak_slope = slope[lo:hi].max() if hi > lo else 0.0
        on = r
        while on > lo and slope[on] > 0.15 * peak_slope:
            on -= 1
        off = r
        while off < hi - 1 and slope[off] > 0.15 * peak_slope:
            off += 1
        p_lo = max(0, r - s(0.30), (prev_r + r) // 2)
        p_hi = max(p_lo + 1, r - s(0.12))
        p_peak = p_lo + int(np.argmax(np.abs(x[p_lo:p_hi]))) if p_hi <= n and p_hi > p_lo else on
        t_lo = min(n - 1, off + s(0.06))
        t_hi = min(n, max(t_lo + 1, r + int(0.6 * (next_r - r))))
        t_peak = t_lo + int(np.argmax(np.abs(x[t_lo:t_hi]))) if t_hi > t_lo else off
        t_slope = slope[t_peak:t_hi]
        t_end = t_peak
        if t_slope.size:
            peak_t_slope = t_slope.max()
            below = np.nonzero(t_slope[1:] < 0.1 * peak_t_slope)[0]
            t_end = t_peak + 1 + int(below[0]) if below.size else t_hi - 1
        out[k] = (p_peak, on, r, off, t_peak, t_end)
    return np.clip(out, 0, n - 1)
