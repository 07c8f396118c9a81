from __future__ import annotations

import numpy as np
import pytest

from biowear.data import SyntheticECGConfig, generate_record, get_dataset
from biowear.errors import ConfigError


def test_generator_is_seeded_and_labelled_synthetic(short_record):
    again = generate_record("syn-test", seed=7, config=SyntheticECGConfig(duration_s=60.0))
    other = generate_record("syn-test", seed=8, config=SyntheticECGConfig(duration_s=60.0))
    assert short_record.synthetic and short_record.dataset == "synthetic_ecg"
    assert np.array_equal(short_record.signal, again.signal)
    assert not np.array_equal(short_record.signal[:1000], other.signal[:1000])


def test_any_sampling_rate_and_plausible_heart_rate():
    for fs in (128.0, 250.0, 500.0):
        rec = generate_record("r", seed=1, config=SyntheticECGConfig(fs_hz=fs, duration_s=30.0, n_channels=2))
        assert rec.signal.shape == (int(30 * fs), 2) and rec.fs_hz == fs
        rr = np.diff(rec.annotations.sample) / fs
        assert 35 < 60 / np.median(rr) < 130


def test_all_beat_classes_appear_over_the_dataset():
    ds = get_dataset("synthetic_ecg")
    symbols = set()
    for rid in ds.record_ids()[:8]:
        symbols |= set(ds.load(rid).annotations.symbol)
    assert {"N", "A", "V", "F", "/"} <= symbols


def test_ventricular_beats_are_wider_and_premature(short_record):
    rec = generate_record(
        "v", seed=3, config=SyntheticECGConfig(duration_s=120.0, noise_mv=0.0, ectopic_rate=0.4, paced_fraction=0.0)
    )
    x, fs = rec.signal[:, 0], rec.fs_hz
    pos, sym = rec.annotations.sample, np.array(rec.annotations.symbol)

    def width(p):  # duration above half the R amplitude, baseline removed locally
        seg = x[p - int(0.1 * fs) : p + int(0.1 * fs)]
        seg = seg - np.median(seg)
        return np.count_nonzero(seg > seg.max() / 2) / fs

    widths = {
        s: np.median([width(p) for p in pos[sym == s] if int(0.1 * fs) < p < len(x) - int(0.1 * fs)])
        for s in ("N", "V")
    }
    assert widths["V"] > 1.8 * widths["N"]
    rr_before = np.diff(pos)[:-1]
    assert np.median(rr_before[sym[1:-1] == "V"]) < 0.8 * np.median(rr_before[sym[1:-1] == "N"])


def test_bad_generator_config():
    with pytest.raises(ConfigError):
        SyntheticECGConfig(fs_hz=10)
    with pytest.raises(ConfigError):
        SyntheticECGConfig(n_channels=3)
