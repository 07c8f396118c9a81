"""R-peak detectors: Pan-Tompkins (1985) and a REWARD-style relative-energy detector (Orlandic et al. 2019).

Both share one adaptive dual-threshold peak classifier: running estimates of the signal-peak and noise-peak
levels set the threshold ``noise + 0.25 (signal - noise)``; a search-back at half the threshold recovers a
missed beat when no beat was found for 1.66 mean RR intervals; a refractory period of 200 ms and, within
360 ms of a beat, a slope test reject T waves. Detected locations are refined to the largest absolute
deflection of a reference signal near the feature peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import OpCounts, kernel
from biowear.signal.combine import relative_energy
from biowear.signal.filters import butter_sos, five_point_derivative, moving_average, sos_filter


@dataclass(frozen=True)
class ThresholdConfig:
    """Adaptive-threshold settings (Pan & Tompkins 1985 defaults)."""

    refractory_s: float = 0.2
    t_wave_s: float = 0.36
    searchback_factor: float = 1.66
    learning_s: float = 2.0


def _thr_ops(y: np.ndarray, feature: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(feature).size)
    return OpCounts(cmps=3 * n, adds=n // 4, muls=n // 8, moves=n // 4)


@kernel("adaptive_threshold", _thr_ops)
def adaptive_threshold_peaks(
    feature: np.ndarray, fs_hz: float, slope: np.ndarray | None = None, config: ThresholdConfig | None = None
) -> np.ndarray:
    """Classify local maxima of a QRS-enhancing ``feature`` into beats and noise.

    Args:
        feature: non-negative detection feature (integrated energy, relative energy...).
        fs_hz: sampling rate.
        slope: optional absolute-slope signal used to reject T waves close to a beat.
        config: threshold settings.

    Returns:
        Sample indices of the feature peaks classified as beats.
    """
    cfg = config or ThresholdConfig()
    feature = np.asarray(feature, dtype=np.float64)
    cand, _ = signal.find_peaks(feature, distance=max(1, int(cfg.refractory_s * fs_hz)))
    if cand.size == 0:
        return cand
    learn = feature[: max(1, int(cfg.learning_s * fs_hz))]
    spk, npk = 0.25 * float(learn.max()), 0.5 * float(learn.mean())
    beats: list[int] = []
    slopes: list[float] = []
    rr_mean = 0.0
    last_noise: list[int] = []
    win = max(1, int(0.075 * fs_hz))
    for i in cand:
        pk = feature[i]
        thr = npk + 0.25 * (spk - npk)
        if beats and rr_mean > 0 and i - beats[-1] > cfg.searchback_factor * rr_mean:
            # search back among the noise peaks since the last beat for one above half the threshold
            back = [j for j in last_noise if j - beats[-1] > cfg.refractory_s * fs_hz and feature[j] > 0.5 * thr]
            if back:
                j = max(back, key=lambda k: feature[k])
                beats.append(j)
                spk = 0.25 * feature[j] + 0.75 * spk
                last_noise = [k for k in last_noise if k > j]
        if pk > thr:
            s = float(np.max(slope[max(0, i - win) : i + 1])) if slope is not None else 0.0
            if beats and (i - beats[-1]) < cfg.t_wave_s * fs_hz and slope is not None and slopes:
                if s < 0.5 * slopes[-1]:
                    npk = 0.125 * pk + 0.875 * npk
                    last_noise.append(i)
                    continue
            if beats:
                rr = i - beats[-1]
                rr_mean = rr if rr_mean == 0 else 0.125 * rr + 0.875 * rr_mean
            beats.append(i)
            slopes.append(s)
            spk = 0.125 * pk + 0.875 * spk
            last_noise = []
        else:
            npk = 0.125 * pk + 0.875 * npk
            last_noise.append(i)
    return np.asarray(sorted(set(beats)), dtype=np.int64)


def _refine_ops(y: np.ndarray, peaks: np.ndarray, reference: np.ndarray, before: int, after: int, **kw: object):
    return OpCounts(cmps=int(np.asarray(peaks).size) * (before + after + 1))


@kernel("peak_refine", _refine_ops)
def refine_peaks(peaks: np.ndarray, reference: np.ndarray, before: int, after: int) -> np.ndarray:
    """Move each peak to the largest ``|reference|`` within ``[peak - before, peak + after]``."""
    ref = np.abs(np.asarray(reference, dtype=np.float64))
    out = np.empty(len(peaks), dtype=np.int64)
    for k, p in enumerate(peaks):
        lo, hi = max(0, p - before), min(ref.size, p + after + 1)
        out[k] = lo + int(np.argmax(ref[lo:hi])) if hi > lo else p
    return np.unique(out)


def _group_delay_samples(sos: np.ndarray, fs_hz: float, at_hz: float) -> int:
    b, a = signal.sos2tf(sos)
    _, gd = signal.group_delay((b, a), w=[at_hz], fs=fs_hz)
    return int(round(float(gd[0])))


def _check(x: np.ndarray, fs_hz: float, min_s: float = 2.0) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ConfigError(f"R-peak detection needs a single lead (1-D array), got shape {x.shape}")
    if not 40 <= fs_hz <= 2000:
        raise ConfigError(f"R-peak detection supports 40-2000 Hz, got {fs_hz} Hz")
    if x.size < min_s * fs_hz:
        raise ConfigError(f"R-peak detection needs at least {min_s} s of signal, got {x.size / fs_hz:.2f} s")
    if not np.all(np.isfinite(x)):
        raise ConfigError("R-peak detection input contains NaN or infinite samples")
    return x


def pan_tompkins(x: np.ndarray, fs_hz: float, q: QFormat | None = None) -> np.ndarray:
    """Pan-Tompkins QRS detection: 5-15 Hz band-pass, derivative, squaring, 150 ms integration, adaptive
    dual thresholds with search-back and T-wave rejection.

    Args:
        x: one ECG lead (float values, or fixed-point codes when ``q`` is given).
        fs_hz: sampling rate (40-2000 Hz).
        q: run the band-pass in emulated fixed point on codes of this format.

    Returns:
        R-peak sample indices.
    """
    x = _check(x, fs_hz)
    sos = butter_sos(fs_hz, (5.0, min(15.0, 0.45 * fs_hz)), "bandpass", order=1)
    bp = sos_filter(x, sos, q=q)
    bp = q.to_float(bp) if q is not None else bp
    d = five_point_derivative(bp, fs_hz)
    integ = moving_average(_square(d), max(1, int(round(0.15 * fs_hz))))
    beats = adaptive_threshold_peaks(integ, fs_hz, slope=np.abs(d))
    delay = _group_delay_samples(sos, fs_hz, 10.0)
    w = int(round(0.15 * fs_hz))
    located = refine_peaks(beats, bp, before=w, after=0)
    return np.clip(located - delay, 0, x.size - 1)


def slope_energy(x: np.ndarray, fs_hz: float, q: QFormat | None = None) -> tuple[np.ndarray, np.ndarray]:
    """REWARD's enhancement: the first difference of ``x`` and its relative energy (in format ``q`` when
    given, the slope then staying in the codes of ``x``)."""
    slope = first_difference(x)
    return slope, relative_energy(slope, fs_hz, q=q)


def reward(
    x: np.ndarray,
    fs_hz: float,
    q: QFormat | None = None,
    enhanced: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """REWARD-style detection: peaks of the relative energy of the signal's slope (short 0.1 s over long
    2 s window energy of the first difference, so that slow T waves weigh little) classified by the
    adaptive threshold with T-wave slope rejection, then located at the largest deflection within +-60 ms.

    Args:
        x: one ECG lead, baseline removed (float values, or codes when ``q`` is given).
        fs_hz: sampling rate (40-2000 Hz).
        q: fixed-point format of the relative energy (computed in fixed point on the codes in ``x``).
        enhanced: ``slope_energy(x, fs_hz, q)`` already computed (skips recomputation).
    """
    x = _check(x, fs_hz)
    slope, rel = slope_energy(x, fs_hz, q=q) if enhanced is None else enhanced
    feature = q.to_float(rel) if q is not None else np.asarray(rel, dtype=np.float64)
    # the T-wave test compares slopes with each other, so their scale (codes or values) does not matter
    beats = adaptive_threshold_peaks(feature, fs_hz, slope=np.abs(np.asarray(slope, dtype=np.float64)))
    w = int(round(0.06 * fs_hz))
    return refine_peaks(beats, x - np.median(x), before=w, after=w)


def _sq_ops(y: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    return OpCounts(muls=int(y.size))


@kernel("square", _sq_ops)
def _square(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) ** 2


def _diff_ops(y: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    return OpCounts(adds=int(y.size))


@kernel("difference", _diff_ops)
def first_difference(x: np.ndarray) -> np.ndarray:
    """``x[n] - x[n-1]`` (first output 0); integers stay integers."""
    x = np.asarray(x)
    return np.concatenate([np.zeros(1, dtype=x.dtype), np.diff(x)])
