"""The recording model, the polyphase resampling helper and the calibration-only normaliser."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.data.recordings import (
    CalibrationNormaliser,
    Interval,
    Recording,
    Signal,
    rational_ratio,
    resample_recording,
    resample_signal,
)
from biowear.errors import ConfigError, DataError


def _sine(fs: float, f0: float, seconds: float, channels: int = 1, start_s: float = 0.0) -> Signal:
    t = np.arange(int(fs * seconds)) / fs
    data = np.stack([np.sin(2 * np.pi * f0 * t + k) for k in range(channels)], axis=1)
    return Signal("x", data, fs, tuple(f"c{k}" for k in range(channels)), "a.u.", start_s)


@pytest.mark.parametrize(
    ("fs_in", "fs_out", "up", "down"),
    [
        (200, 64, 8, 25),
        (500, 256, 64, 125),
        (48000, 16000, 1, 3),
        (64, 200, 25, 8),
        (4, 5, 5, 4),
        (4, 1, 1, 4),
        (32, 32, 1, 1),
    ],
)
def test_rational_ratio_is_exact_for_the_applications_rates(fs_in, fs_out, up, down):
    ratio = rational_ratio(fs_in, fs_out)
    assert (ratio.up, ratio.down) == (up, down)
    assert ratio.rate_error == 0 and ratio.fs_out_hz == fs_out
    assert "exact" in str(ratio)


def test_rational_ratio_states_the_error_of_a_detected_rate():
    ratio = rational_ratio(99.89928, 200.0)
    assert ratio.down <= 1000 and 0 < ratio.rate_error < 1e-5
    assert ratio.fs_out_hz == pytest.approx(99.89928 * ratio.up / ratio.down)
    with pytest.raises(ConfigError, match="positive"):
        rational_ratio(0.0, 64.0)


def test_resample_keeps_a_tone_and_the_start_time():
    sig = _sine(200.0, 5.0, 10.0, channels=2, start_s=3.0)
    out = resample_signal(sig, 64.0)
    assert out.fs_hz == 64.0 and out.n_samples == 640 and out.start_s == 3.0 and out.channels == sig.channels
    t = np.arange(out.n_samples) / 64.0
    mid = slice(64, -64)  # away from the filter's edge transients
    assert np.allclose(out.data[mid, 0], np.sin(2 * np.pi * 5.0 * t)[mid], atol=0.02)
    assert resample_signal(sig, 200.0) is sig


def test_resample_recording_and_missing_signal():
    rec = Recording("d", "r", "s", {"ecg": _sine(200.0, 1.0, 4.0)}, 4.0)
    out = resample_recording(rec, {"ecg": 64.0})
    assert out.signal("ecg").fs_hz == 64.0
    with pytest.raises(DataError, match="no signal 'ppg'.*ecg"):
        resample_recording(rec, {"ppg": 64.0})


def test_signal_select_names_the_missing_channel_and_lists_the_rest():
    sig = _sine(10.0, 1.0, 2.0, channels=3)
    assert sig.select(("c2", "c0")).channels == ("c2", "c0")
    with pytest.raises(DataError, match=r"no channel\(s\) Fz; available channels: c0, c1, c2"):
        sig.select(("c0", "Fz"))


def test_signal_segment_uses_recording_time():
    sig = _sine(10.0, 1.0, 5.0, start_s=2.0)  # covers [2, 7) s
    part = sig.segment(3.0, 4.0)
    assert part.n_samples == 10 and part.start_s == pytest.approx(3.0)
    with pytest.raises(DataError, match="no sample"):
        sig.segment(8.0, 9.0)


def test_recording_refuses_labels_beyond_its_end():
    sig = _sine(10.0, 1.0, 5.0)
    with pytest.raises(DataError, match="labels .*times.seize.* do not match the recording"):
        Recording("d", "r", "s", {"x": sig}, 5.0, (Interval(4.0, 9.0, "seizure", 1),), "times.seize")


def test_recording_overlap_and_label_at():
    rec = Recording("d", "r", "s", {}, 100.0, (Interval(60.0, 80.0, "seizure", 1), Interval(0.0, 10.0, "rest", 0)), "x")
    assert [iv.label for iv in rec.intervals] == ["rest", "seizure"]  # sorted by start
    assert [iv.label for iv in rec.overlapping(0.0, 60.0)] == ["rest"]  # [0, 60) does not touch 60
    assert [iv.label for iv in rec.overlapping(30.0, 90.0)] == ["seizure"]
    assert list(rec.label_at(np.array([5.0, 20.0, 70.0]), default="-")) == ["rest", "-", "seizure"]


# ------------------------------------------------------------------------------------------------ normaliser
def test_calibration_normaliser_uses_only_the_calibration_segment():
    rng = np.random.default_rng(3)
    fs = 4.0
    calib = rng.normal(2.0, 0.5, (int(60 * fs), 2))
    scored = rng.normal(10.0, 3.0, (int(60 * fs), 2))  # a very different level after calibration
    sig = Signal("eda", np.vstack([calib, scored]), fs, ("a", "b"), "uS")
    norm = CalibrationNormaliser.fit(sig, calibration_s=(0.0, 60.0), first_scored_s=60.0)
    assert np.allclose(norm.mean, calib.mean(axis=0)) and np.allclose(norm.std, calib.std(axis=0))
    assert norm.n_samples == len(calib)
    out = norm.transform_signal(sig)
    assert out.start_s == pytest.approx(60.0) and out.n_samples == len(scored)
    assert np.allclose(out.data, (scored - calib.mean(axis=0)) / calib.std(axis=0))
    # the whole-session statistics differ: the scored part's own level does not leak into them
    whole = sig.data.mean(axis=0)
    assert not np.allclose(norm.mean, whole, atol=1.0)


def test_calibration_normaliser_refuses_a_segment_reaching_into_the_scored_windows():
    sig = _sine(4.0, 0.1, 120.0)
    with pytest.raises(ConfigError, match="reaches into the scored windows.*whole session"):
        CalibrationNormaliser.fit(sig, calibration_s=(0.0, 120.0), first_scored_s=60.0)
    with pytest.raises(ConfigError, match="must end after it starts"):
        CalibrationNormaliser.fit(sig, calibration_s=(10.0, 10.0), first_scored_s=60.0)
    norm = CalibrationNormaliser.fit(sig, calibration_s=(0.0, 30.0), first_scored_s=60.0)
    with pytest.raises(ConfigError, match="overlap the calibration"):
        norm.transform_signal(sig, start_s=10.0)
    with pytest.raises(ConfigError, match="channels"):
        norm.transform(np.zeros((5, 3)))


def test_calibration_normaliser_floors_a_flat_channel():
    sig = Signal("t", np.ones((40, 1)), 4.0, ("t",), "degC")
    norm = CalibrationNormaliser.fit(sig, (0.0, 5.0), 5.0, floor=1e-3)
    assert norm.std[0] == 1e-3 and np.all(np.isfinite(norm.transform(sig.data)))
