"""The classical PPG heart-rate tracker and the history-band post-processing, on seeded synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.errors import ConfigError, DataError
from biowear.signal.ppg_hr import HistoryLimit, SpectralTrackerConfig, limit_to_history, track_heart_rate

FS = 32.0


def _windows(x: np.ndarray, n_windows: int) -> np.ndarray:
    n, step = int(8 * FS), int(2 * FS)
    return np.stack([x[..., k * step : k * step + n] for k in range(n_windows)], axis=0)


def _recording(hr_bpm: np.ndarray, motion_bpm: float, motion_gain: float, seed: int, harmonic: float = 0.3):
    """PPG with a time-varying pulse (plus a second harmonic), a motion artefact seen by the accelerometer."""
    rng = np.random.default_rng(seed)
    n = len(hr_bpm)
    t = np.arange(n) / FS
    phase = 2 * np.pi * np.cumsum(hr_bpm / 60.0) / FS
    motion = np.sin(2 * np.pi * motion_bpm / 60.0 * t + 0.3)
    ppg = np.sin(phase) + harmonic * np.sin(2 * phase + 0.5) + motion_gain * motion + 0.2 * rng.normal(size=n)
    acc = np.stack([motion + 0.05 * rng.normal(size=n), 0.5 * motion, 0.05 * rng.normal(size=n)])
    return ppg, acc


def _truth(hr_bpm: np.ndarray, n_windows: int) -> np.ndarray:
    n, step = int(8 * FS), int(2 * FS)
    return np.array([hr_bpm[k * step : k * step + n].mean() for k in range(n_windows)])


def test_tracks_a_rising_heart_rate_through_a_stronger_motion_artefact() -> None:
    seconds = 200
    hr = np.linspace(80.0, 150.0, int(seconds * FS))
    ppg, acc = _recording(hr, motion_bpm=110.0, motion_gain=2.0, seed=1)
    n_windows = (len(hr) - int(8 * FS)) // int(2 * FS) + 1
    est = track_heart_rate(_windows(ppg, n_windows), _windows(acc, n_windows), FS)
    truth = _truth(hr, n_windows)
    assert np.mean(np.abs(est - truth)) < 3.0
    # Without the accelerometer suppression the artefact (twice the pulse's amplitude) takes the track.
    blind = track_heart_rate(_windows(ppg, n_windows), _windows(acc, n_windows), FS, SpectralTrackerConfig(gamma=0))
    assert np.mean(np.abs(blind - truth)) > 10.0


def test_start_prefers_the_fundamental_over_a_stronger_second_harmonic() -> None:
    """The start scores the second harmonic too; later windows use the plain spectrum (see the module notes),
    so only the starting windows are checked here."""
    hr = np.full(int(20 * FS), 70.0)
    ppg, acc = _recording(hr, motion_bpm=20.0, motion_gain=0.0, seed=2, harmonic=1.3)
    config = SpectralTrackerConfig()
    windows = _windows(ppg, config.start_windows), _windows(acc, config.start_windows)
    assert np.all(np.abs(track_heart_rate(*windows, FS, config) - 70.0) < 1.5)
    # The harmonic really is the highest peak of the spectrum.
    spectrum = np.abs(np.fft.rfft(windows[0][0] * np.hanning(windows[0].shape[1]), 4096))
    assert abs(np.fft.rfftfreq(4096, 1 / FS)[np.argmax(spectrum)] * 60 - 140.0) < 2.0


def test_tracker_is_deterministic_and_one_axis_acc_is_accepted() -> None:
    hr = np.full(int(30 * FS), 90.0)
    ppg, acc = _recording(hr, motion_bpm=130.0, motion_gain=0.5, seed=3)
    w = (len(hr) - int(8 * FS)) // int(2 * FS) + 1
    a = track_heart_rate(_windows(ppg, w), _windows(acc[0], w), FS)
    b = track_heart_rate(_windows(ppg, w), _windows(acc[0], w), FS)
    assert a.shape == (w,) and np.array_equal(a, b)


def test_tracker_bad_input() -> None:
    ppg = np.zeros((3, 256))
    with pytest.raises(DataError, match="same windows"):
        track_heart_rate(ppg, np.zeros((2, 3, 256)), FS)
    bad = ppg.copy()
    bad[1, 5] = np.nan
    with pytest.raises(DataError, match="NaN"):
        track_heart_rate(bad, np.zeros((3, 3, 256)), FS)
    with pytest.raises(ConfigError, match="sampling rate above"):
        track_heart_rate(ppg, np.zeros((3, 3, 256)), 4.0)
    with pytest.raises(ConfigError, match="power of two"):
        SpectralTrackerConfig(n_fft=1000)
    with pytest.raises(ConfigError, match="band_bpm"):
        SpectralTrackerConfig(band_bpm=(200.0, 40.0))
    with pytest.raises(ConfigError):
        SpectralTrackerConfig(step_bpm=float("nan"))


def test_limit_to_history_clips_to_the_median_of_previous_raw_estimates() -> None:
    est = np.array([100.0, 101.0, 160.0, 102.0, 103.0, 40.0, 104.0])
    out = limit_to_history(est, HistoryLimit(band_bpm=10.0, history=3))
    assert out[0] == 100.0
    assert out[2] == pytest.approx(np.median([100.0, 101.0]) + 10.0)  # outlier clipped to the band
    assert out[3] == 102.0  # the outlier did not move the reference: median(100, 101, 160) = 101
    assert out[5] == pytest.approx(np.median([160.0, 102.0, 103.0]) - 10.0)
    assert np.array_equal(limit_to_history(est[:1]), est[:1])
    with pytest.raises(DataError, match="NaN"):
        limit_to_history(np.array([1.0, np.nan]))
    with pytest.raises(ConfigError):
        HistoryLimit(band_bpm=0.0)
