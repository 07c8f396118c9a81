"""CoughDet: cough detection from chest-worn audio and IMU, 0.3 s windows (Orlandic et al. 2023; seed 001).

Pre-processing: low-pass filter of the audio. Feature extraction: IMU time-domain statistics (zero-crossing
rate, RMS, skewness, kurtosis per axis), audio FFT spectral statistics (centroid, spread, dominant
frequency), Welch PSD band powers and MFCC means and deviations. Inference: a random forest. 32-bit floating
point. Synthetic input (the cough database is not available here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import Forest, forest_proba
from biowear.bench.inputs import cough_windows
from biowear.kernels.profiler import phase
from biowear.signal.filters import butter_sos, sos_filter
from biowear.signal.spectral import band_powers, mfcc, power_spectrum, spectral_stats, welch_psd
from biowear.signal.stats import moments, zcr_rms

AUDIO_HZ, IMU_HZ, WINDOW_S = 16000.0, 100.0, 0.3
_BANDS = ((0, 500), (500, 1000), (1000, 2000), (2000, 4000), (4000, 8000))
INFO = AppInfo(
    "CoughDet",
    (SignalSpec("audio", 1, AUDIO_HZ, WINDOW_S, 32), SignalSpec("imu", 6, IMU_HZ, WINDOW_S, 16)),
    "fp32",
    WINDOW_S,
    "LPF | FFT, MFCC | RF",
    "feature_extraction",
)


class CoughDet(App):
    """See the module docstring."""

    info = INFO

    def __init__(self) -> None:
        super().__init__()
        self.sos = butter_sos(AUDIO_HZ, 6000.0, "lowpass", order=4)

    def features(self, audio: np.ndarray, imu: np.ndarray) -> np.ndarray:
        with phase("preprocessing"):
            a = sos_filter(audio, self.sos)
        with phase("feature_extraction"):
            imu_feats = np.hstack([zcr_rms(imu), moments(imu)[:, 2:]]).reshape(-1)
            frame = a[:4096]
            power = power_spectrum(frame)
            stats = spectral_stats(power, np.fft.rfftfreq(frame.size, 1 / AUDIO_HZ))
            f, psd = welch_psd(a, AUDIO_HZ, segment=1024)
            bands = np.log(band_powers(psd, f, _BANDS) + 1e-12)
            cc = mfcc(a, AUDIO_HZ)
            return np.hstack([imu_feats, stats, bands, cc.mean(axis=0), cc.std(axis=0)])

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        feats = self.features(window.signals["audio"][0], window.signals["imu"])
        with phase("inference"):
            proba = forest_proba(self.forest_, feats)[0]
        return AppOutput(int(proba[1] > 0.5), {"features": feats, "proba": proba})

    def static_bytes(self) -> int:
        return self.forest_.n_nodes * (2 + 2 + 1 + 4) + 4 * (26 * 257 + self.sos.size)  # + mel filterbank

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> CoughDet:
        self.data_source = "synthetic chest audio (16 kHz) + 6-axis IMU (100 Hz) with coughs (biowear generator)"
        a, m, y = cough_windows(60 if quick else 200, AUDIO_HZ, IMU_HZ, WINDOW_S, seed=seed)
        feats = np.stack([self.features(ai, mi) for ai, mi in zip(a, m)])
        rf = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=seed).fit(feats, y)
        self.forest_ = Forest.from_sklearn(rf)
        at, mt, yt = cough_windows(8 if quick else 40, AUDIO_HZ, IMU_HZ, WINDOW_S, seed=seed + 7919)
        self.test_windows = [
            Window({"audio": ai[None, :], "imu": mi}, {"audio": AUDIO_HZ, "imu": IMU_HZ}, int(lab))
            for ai, mi, lab in zip(at, mt, yt)
        ]
        return self
