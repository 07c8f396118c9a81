"""Signal kernels against SciPy/NumPy references and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from biowear.bench.matching import match_events
from biowear.data import SyntheticECGConfig, generate_record
from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.signal.artifacts import block_average, remove_blinks
from biowear.signal.combine import relative_energy, rms_combine
from biowear.signal.delineation import delineate
from biowear.signal.filters import butter_sos, five_point_derivative, moving_average, sos_filter
from biowear.signal.hrv import edr_series, hrv_features, lpc
from biowear.signal.ica import fastica
from biowear.signal.morphology import closing, dilation, erosion, morphological_filter, opening
from biowear.signal.rpeaks import pan_tompkins, reward
from biowear.signal.spectral import (
    band_powers,
    lomb_scargle,
    mel_filterbank,
    mfcc,
    power_spectrum,
    spectral_stats,
    welch_psd,
)
from biowear.signal.stats import hjorth, moments, spectral_entropy, zcr_rms


def test_erosion_dilation_by_hand():
    x = np.array([0, 5, 1, 1, 7, 2, 2], dtype=float)
    assert erosion(x, 3).tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert dilation(x, 3).tolist() == [5, 5, 5, 7, 7, 7, 2]
    assert opening(x, 3).tolist() == [0, 1, 1, 1, 2, 2, 2]  # narrow peaks removed
    assert closing(np.array([3, 3, 0, 3, 3.0]), 3).tolist() == [3, 3, 3, 3, 3]  # narrow pit filled
    codes = np.array([0, 5, 1, 1, 7, 2, 2], dtype=np.int64)
    assert erosion(codes, 3).dtype == np.int64


def test_morphological_filter_removes_wander_keeps_qrs():
    rec = generate_record("m", 3, SyntheticECGConfig(fs_hz=256, duration_s=20, noise_mv=0.0))
    clean = rec.signal[:, 0].astype(float)
    t = np.arange(clean.size) / 256
    wander = 0.8 * np.sin(2 * np.pi * 0.3 * t)
    out = morphological_filter(clean + wander, 256)
    low = lambda v: signal.sosfiltfilt(butter_sos(256, 0.6, "lowpass"), v)  # noqa: E731
    assert np.std(low(out)) < 0.25 * np.std(low(clean + wander))
    r = rec.annotations.sample
    assert np.median(out[r]) > 0.5  # R waves survive


def test_rms_and_relative_energy():
    x = np.array([[3.0, 0.0, 1.0], [4.0, 0.0, -1.0]])
    assert rms_combine(x) == pytest.approx([np.sqrt(12.5), 0.0, 1.0])
    q = QFormat(16, 8)
    assert q.to_float(rms_combine(q.quantize(x), q=q)) == pytest.approx([np.sqrt(12.5), 0, 1], abs=2 / 256)
    sig = np.zeros(1000)
    sig[500] = 1.0
    rel = relative_energy(sig, 100.0, short_s=0.05, long_s=1.0)
    assert rel[500] == pytest.approx(1.0) and rel[0] == 0.0 and rel.max() <= 1.0 + 1e-12
    relq = relative_energy(QFormat(16, 8).quantize(sig), 100.0, 0.05, 1.0, q=QFormat(16, 14))
    assert QFormat(16, 14).to_float(relq)[500] == pytest.approx(1.0, abs=1e-3)


def test_filters_against_references():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    sos = butter_sos(100.0, (1, 20))
    assert np.allclose(sos_filter(x, sos), signal.sosfilt(sos, x))
    ma = moving_average(x, 5)
    assert np.allclose(ma[4:], np.convolve(x, np.ones(5) / 5, mode="valid"))
    assert ma[0] == pytest.approx(x[0])
    ramp = np.arange(20.0)
    # unit ramp: (2n + (n-1) - (n-3) - 2(n-4)) * fs / 8 = 10 * fs / 8
    assert np.allclose(five_point_derivative(ramp, 8.0)[4:], 10.0)
    with pytest.raises(ConfigError, match="inside"):
        butter_sos(100.0, (1, 60))
    with pytest.raises(ConfigError, match="valid options"):
        butter_sos(100.0, 10, kind="notch")


def test_spectral_kernels_against_numpy_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 512))
    assert np.allclose(power_spectrum(x), np.abs(np.fft.rfft(x, axis=-1)) ** 2)
    q = QFormat(32, 20)
    assert np.allclose(power_spectrum(q.quantize(x), q=q), power_spectrum(x), rtol=1e-3, atol=1e-2)
    f, psd = welch_psd(x[0], 128.0, segment=128)
    f_ref, psd_ref = signal.welch(x[0], 128.0, nperseg=128, detrend=False)
    assert np.allclose(f, f_ref) and np.allclose(psd, psd_ref)
    bp = band_powers(np.arange(5.0), np.array([0, 1, 2, 3, 4.0]), ((0, 2), (2, 5)))
    assert bp.tolist() == [1.0, 9.0]
    tone = np.sin(2 * np.pi * 10 * np.arange(1024) / 256)
    ps = power_spectrum(tone)
    stats_ = spectral_stats(ps, np.fft.rfftfreq(1024, 1 / 256))
    assert stats_[2] == pytest.approx(10.0) and stats_[0] == pytest.approx(10.0, abs=0.1)


def test_lomb_scargle_matches_scipy():
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 60, 80))
    x = np.sin(2 * np.pi * 0.25 * t) + 0.1 * rng.normal(size=t.size)
    freqs = np.linspace(0.02, 0.5, 50)
    ours = lomb_scargle(t, x, freqs)
    ref = signal.lombscargle(t, x - x.mean(), 2 * np.pi * freqs)
    assert np.allclose(ours, ref, rtol=1e-6, atol=1e-9)
    assert freqs[np.argmax(ours)] == pytest.approx(0.25, abs=0.02)
    q = QFormat(32, 24)
    assert np.allclose(lomb_scargle(t, q.quantize(x), freqs, q=q), ours, rtol=1e-3, atol=1e-3)
    with pytest.raises(ConfigError, match="matching"):
        lomb_scargle(t[:2], x[:2], freqs)


def test_mel_and_mfcc():
    bank = mel_filterbank(10, 512, 16000.0)
    assert bank.shape == (10, 257) and np.allclose(bank.max(axis=1), 1.0, atol=0.1)
    centres = bank.argmax(axis=1)
    assert np.all(np.diff(centres) > 0)
    fs = 16000.0
    t = np.arange(4800) / fs
    cc = mfcc(np.sin(2 * np.pi * 1000 * t), fs, n_coeffs=26)
    assert cc.shape == (17, 26)
    # orthonormal DCT: energy of all coefficients equals the energy of the log mel energies
    frames = np.stack([np.sin(2 * np.pi * 1000 * t)[s : s + 512] for s in range(0, 4800 - 511, 256)]) * np.hamming(512)
    logmel = np.log(np.maximum((np.abs(np.fft.rfft(frames)) ** 2) @ mel_filterbank(26, 512, fs).T, 1e-10))
    assert np.allclose(np.sum(cc**2, axis=1), np.sum(logmel**2, axis=1))
    with pytest.raises(ConfigError, match="n_fft"):
        mfcc(np.zeros(100), fs)


def test_statistics_against_scipy():
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, size=(3, 400))
    m = moments(x)
    assert np.allclose(m[:, 2], stats.skew(x, axis=-1)) and np.allclose(
        m[:, 3], stats.kurtosis(x, axis=-1, fisher=False)
    )
    h = hjorth(x[0])
    d = np.diff(x[0])
    assert h[0] == pytest.approx(np.var(x[0])) and h[1] == pytest.approx(np.sqrt(np.var(d) / np.var(x[0])))
    sine = np.sin(2 * np.pi * 5 * np.arange(1000) / 1000 + 0.1)
    zr = zcr_rms(sine)
    assert zr[0] == pytest.approx(10 / 999) and zr[1] == pytest.approx(1 / np.sqrt(2), rel=1e-3)
    assert spectral_entropy(np.ones(64)) == pytest.approx(1.0)
    assert spectral_entropy(np.eye(64)[3]) == pytest.approx(0.0)
    assert block_average(np.arange(10.0), 5).tolist() == [2.0, 7.0]


def test_hrv_lpc_edr():
    rr = np.array([0.8, 0.9, 0.8, 0.9, 0.8])
    f = hrv_features(rr)
    assert f[0] == pytest.approx(0.84) and f[2] == pytest.approx(0.1) and f[3] == pytest.approx(1.0)
    assert f[4] == pytest.approx(np.sqrt(0.5) * np.std(np.diff(rr), ddof=1))
    with pytest.raises(ConfigError, match="at least 3"):
        hrv_features(np.array([0.8, 0.9]))
    rng = np.random.default_rng(4)
    e = rng.normal(size=20000)
    ar = signal.lfilter([1.0], [1.0, -0.6, 0.2], e)
    assert lpc(ar, 2) == pytest.approx([-0.6, 0.2], abs=0.02)
    assert edr_series(np.array([0, 2.0, 0, 4.0]), np.array([1, 3])).tolist() == [-1.0, 1.0]


def test_fastica_separates_sources():
    rng = np.random.default_rng(5)
    n = 4000
    s = np.stack([np.sign(np.sin(np.arange(n) * 0.05)), rng.laplace(size=n), np.sin(np.arange(n) * 0.013)])
    a = rng.normal(size=(5, 3))
    res = fastica(a @ s, 3, seed=0)
    est = res.transform(a @ s)
    corr = np.abs(np.corrcoef(np.vstack([est, s]))[:3, 3:])
    assert np.all(corr.max(axis=1) > 0.97) and res.converged
    warm = fastica(a @ s, 3, rotation_init=res.rotation, whitening=(res.mean, res.whitening))
    assert warm.iterations < res.iterations
    with pytest.raises(ConfigError, match="components"):
        fastica(a @ s, 9)


def test_detectors_and_delineation_on_synthetic_ecg():
    rec = generate_record("d", 11, SyntheticECGConfig(fs_hz=256, duration_s=60, paced_fraction=0.0))
    x = rec.signal[:, 0].astype(float)
    ref = rec.annotations.sample
    for peaks in (pan_tompkins(x, 256.0), reward(morphological_filter(x, 256.0), 256.0)):
        m = match_events(ref, peaks, int(0.15 * 256))
        assert m.sensitivity > 0.98 and m.positive_predictivity > 0.98
    fid = delineate(morphological_filter(x, 256.0), ref, 256.0)
    assert np.all(fid[:, 1] <= fid[:, 2]) and np.all(fid[:, 2] <= fid[:, 3]) and np.all(fid[:, 3] < fid[:, 4])
    assert np.all(fid[1:, 0] < fid[1:, 2])
    with pytest.raises(ConfigError, match="at least 2"):
        pan_tompkins(x[:100], 256.0)
    with pytest.raises(ConfigError, match="NaN"):
        pan_tompkins(np.where(np.arange(x.size) == 9, np.nan, x), 256.0)
    with pytest.raises(ConfigError, match="single lead"):
        reward(np.stack([x, x]), 256.0)
    with pytest.raises(ConfigError, match="40-2000 Hz"):
        pan_tompkins(x, 10.0)


def test_match_events_one_to_one():
    m = match_events(np.array([100, 200, 300]), np.array([102, 104, 199, 420]), tolerance=10)
    assert (m.tp, m.fn, m.fp) == (2, 1, 2)
    assert m.ref_index.tolist() == [0, 1] and m.det_index.tolist() == [0, 2]
    between = match_events(np.array([100, 120]), np.array([111]), tolerance=15)
    assert between.ref_index.tolist() == [1]  # the nearer reference wins
    assert match_events(np.array([]), np.array([5]), 3).fp == 1


def test_blink_removal_reduces_blink_keeps_rest():
    fs = 256.0
    t = np.arange(int(8 * fs)) / fs
    rng = np.random.default_rng(6)
    eeg = rng.normal(0, 5, (4, t.size))
    blink = 150 * np.exp(-0.5 * ((t - 4) / 0.08) ** 2)
    x = eeg.copy()
    x[:2] += blink
    out = remove_blinks(x, fs)
    assert np.max(np.abs(out[0] - eeg[0])) < 0.35 * blink.max()
    assert np.allclose(out[:, :256], x[:, :256])  # far from the blink nothing changes
