"""Heart rate from wrist PPG under motion: a classical spectral tracker and history-band post-processing.

The tracker follows the family of spectral methods evaluated on the IEEE SPC 2015 data (Zhang et al. 2015,
TROIKA; Schaeck et al. 2017, spectral peak tracking with accelerometer suppression), in a deliberately
plain form that a microcontroller can run:

1. each 8 s window of PPG and of the three accelerometer axes is band-passed to the heart-rate band;
2. Hann-windowed, zero-padded power spectra are taken (the :func:`biowear.signal.spectral.power_spectrum`
   kernel), each normalised to its in-band maximum;
3. the PPG spectrum is attenuated where the accelerometer has periodic energy:
   ``S(f) = P(f) * (1 - M(f))**gamma``, where ``M`` is the largest axis spectrum weighted by one minus its
   spectral flatness (a flat spectrum is rest or sensor noise, a peaky one arm swing or cadence);
4. the track starts at the best frequency of the first windows' spectra summed, scored with the second
   harmonic (``S(f) + S(2f)/2``) so the fundamental wins over its harmonic;
5. it then follows a causal max-product (Viterbi forward) recursion over frequency bins: log spectrum plus
   the previous window's best score less a Gaussian penalty on the step, so a track that loses its peak
   is overtaken by a better-supported one rather than followed. Tracking uses the plain spectrum ``S``:
   with the harmonic term a residual artefact at half the heart rate pulls the track down an octave.
   The price is that a second harmonic stronger than the fundamental for many windows takes the track.

:func:`limit_to_history` is the post-processing PULSE- and TROIKA-style trackers apply to any estimator
(the deep networks too): each estimate is clipped to a band around the median of the recent estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError, DataError
from biowear.signal.filters import bandpass
from biowear.signal.spectral import power_spectrum
from biowear.validate import Interval, check


@dataclass(frozen=True)
class SpectralTrackerConfig:
    """Settings of :func:`track_heart_rate`.

    Args:
        band_bpm: the heart-rate band searched (low, high) in BPM; also the band-pass edges.
        n_fft: FFT length after zero padding (a power of two; at 32 Hz, 4096 bins are 0.47 BPM apart).
        step_bpm: standard deviation of the heart-rate change from one window to the next, BPM (the
            tracker's Gaussian step prior).
        gamma: strength of the accelerometer suppression (0 = none).
        start_windows: windows whose spectra are summed to pick the starting estimate.
        floor: spectrum level (relative to the window's peak) below which frequencies are equally unlikely;
            it bounds the log-likelihood of an empty bin.
    """

    band_bpm: tuple[float, float] = (40.0, 200.0)
    n_fft: int = 4096
    step_bpm: float = 6.0
    gamma: float = 2.0
    start_windows: int = 4
    floor: float = 0.05

    RULES = {
        "start_windows": Interval(int, 1, None),
        "floor": Interval(float, 0.0, 1.0, closed="right"),
        "n_fft": Interval(int, 64, None),
        "step_bpm": Interval(float, 0.1, None),
        "gamma": Interval(float, 0.0, None),
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)
        lo, hi = self.band_bpm
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
            raise ConfigError(f"band_bpm must be (low, high) with 0 < low < high, got {self.band_bpm}")
        if self.n_fft & (self.n_fft - 1):
            raise ConfigError(f"n_fft must be a power of two, got {self.n_fft}")


def _normalised_spectra(x: np.ndarray, fs_hz: float, config: SpectralTrackerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Band-limited power spectra of ``x`` (..., samples), each scaled to a maximum of 1 in the band."""
    lo_hz, hi_hz = config.band_bpm[0] / 60.0, config.band_bpm[1] / 60.0
    if hi_hz >= fs_hz / 2:
        raise ConfigError(f"the band's top {config.band_bpm[1]} BPM needs a sampling rate above {2 * hi_hz} Hz")
    n = x.shape[-1]
    if n > config.n_fft:
        raise ConfigError(f"n_fft ({config.n_fft}) must be at least the window length ({n} samples)")
    filtered = np.moveaxis(bandpass(np.moveaxis(x, -1, 0).astype(np.float64), fs_hz, lo_hz, hi_hz, order=2), 0, -1)
    padded = np.zeros(x.shape[:-1] + (config.n_fft,))
    padded[..., :n] = filtered * np.hanning(n)
    freqs_bpm = np.fft.rfftfreq(config.n_fft, 1.0 / fs_hz) * 60.0
    in_band = (freqs_bpm >= config.band_bpm[0]) & (freqs_bpm <= config.band_bpm[1])
    power = power_spectrum(padded)[..., in_band]
    peak = power.max(axis=-1, keepdims=True)
    return freqs_bpm[in_band], power / np.where(peak > 0, peak, 1.0)


def _harmonic_sum(s: np.ndarray, freqs_bpm: np.ndarray) -> np.ndarray:
    """``S(f) + S(2f) / 2``: a fundamental backed by its second harmonic outscores the harmonic alone."""
    second = np.stack([np.interp(2 * freqs_bpm, freqs_bpm, row, right=0.0) for row in s])
    return s + 0.5 * second


def track_heart_rate(
    ppg: np.ndarray, acc: np.ndarray, fs_hz: float, config: SpectralTrackerConfig | None = None
) -> np.ndarray:
    """Heart rate (BPM) of consecutive windows of one recording, by spectral peak tracking.

    Args:
        ppg: (windows, samples) PPG, one channel, windows in time order (e.g. 8 s every 2 s).
        acc: (windows, 3, samples) accelerometer of the same windows (or (windows, samples) for one axis).
        fs_hz: sampling rate of both.
        config: tracker settings.

    Returns:
        float array (windows,) of BPM.

    Raises:
        DataError: shapes that do not match, or non-finite samples.
    """
    config = config or SpectralTrackerConfig()
    ppg = np.asarray(ppg, dtype=np.float64)
    acc = np.asarray(acc, dtype=np.float64)
    if acc.ndim == 2:
        acc = acc[:, None, :]
    if ppg.ndim != 2 or acc.ndim != 3 or acc.shape[0] != ppg.shape[0] or acc.shape[2] != ppg.shape[1]:
        raise DataError(
            f"PPG must be (windows, samples) and acc (windows, axes, samples) of the same windows; got "
            f"{ppg.shape} and {acc.shape}"
        )
    if not (np.isfinite(ppg).all() and np.isfinite(acc).all()):
        raise DataError("PPG or accelerometer windows hold NaN/inf samples")
    if len(ppg) == 0:
        return np.zeros(0)
    freqs, p = _normalised_spectra(ppg, fs_hz, config)
    _, a = _normalised_spectra(acc, fs_hz, config)
    # Motion weight per axis: a peaky accelerometer spectrum (periodic motion) counts fully, a flat one (rest,
    # sensor noise scaled up by the normalisation) not at all; the weight is one minus the spectral flatness.
    flatness = np.exp(np.log(np.maximum(a, 1e-12)).mean(axis=-1)) / np.maximum(a.mean(axis=-1), 1e-12)
    motion = (np.clip(1.0 - flatness, 0.0, 1.0)[..., None] * a).max(axis=1)
    s = p * np.clip(1.0 - motion, 0.0, 1.0) ** config.gamma
    h = _harmonic_sum(s, freqs)
    # Causal max-product (Viterbi forward) tracking over frequency bins: the score of a frequency is its
    # log spectrum plus the best score of the previous window less a Gaussian step penalty, so a wrong
    # track that loses its peak is overtaken by the right one instead of being followed.
    emission = np.log(config.floor + s / np.maximum(s.max(axis=1, keepdims=True), 1e-12))
    start = np.log(config.floor + h / np.maximum(h.max(axis=1, keepdims=True), 1e-12))
    step = freqs[:, None] - freqs[None, :]
    transition = -0.5 * (step / config.step_bpm) ** 2
    score = start[: config.start_windows].sum(axis=0)
    out = np.empty(len(ppg))
    for w in range(len(ppg)):
        if w >= config.start_windows:
            score = emission[w] + (score[None, :] + transition).max(axis=1)
            score -= score.max()
        out[w] = float(freqs[np.argmax(score)])
    return out


@dataclass(frozen=True)
class HistoryLimit:
    """Post-processing of a sequence of estimates: clip each to ``median(previous history) ± band_bpm``.

    The reference is the median of the previous ``history`` *raw* estimates, so one wrong clip cannot lock
    the output onto a wrong track, and one outlier cannot move the reference. It is causal: an estimate
    only depends on earlier windows, as on a device.
    """

    band_bpm: float = 10.0
    history: int = 5

    RULES = {"band_bpm": Interval(float, 0.0, None, closed="right"), "history": Interval(int, 1, None)}

    def __post_init__(self) -> None:
        check(self, self.RULES)


def limit_to_history(estimates: np.ndarray, limit: HistoryLimit | None = None) -> np.ndarray:
    """Clip each estimate of one recording (in time order) to a band around its recent history.

    Args:
        estimates: (windows,) BPM estimates of consecutive windows of one recording.
        limit: band and history length.

    Returns:
        (windows,) post-processed estimates; the first one is unchanged.
    """
    limit = limit or HistoryLimit()
    est = np.asarray(estimates, dtype=np.float64)
    if est.ndim != 1:
        raise DataError(f"estimates must be one value per window, got shape {est.shape}")
    if not np.isfinite(est).all():
        raise DataError("estimates hold NaN/inf values")
    out = est.copy()
    for t in range(1, len(est)):
        ref = float(np.median(est[max(0, t - limit.history) : t]))
        out[t] = np.clip(est[t], ref - limit.band_bpm, ref + limit.band_bpm)
    return out
