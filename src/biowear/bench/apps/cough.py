"""CoughDet: cough detection from chest-worn audio and IMU, 0.3 s windows (Orlandic et al. 2023; seed 001).

Pre-processing: low-pass filter of the audio. Feature extraction: IMU time-domain statistics (zero-crossing
rate, RMS, skewness, kurtosis per axis), audio FFT spectral statistics (centroid, spread, dominant
frequency), Welch PSD band powers and MFCC means and deviations. Inference: a random forest (20 trees, depth
8). 32-bit floating point.

Two input variants:

* **audio + IMU** (:data:`INFO`): the seed-001 input, 16 kHz audio and a 6-axis IMU at 100 Hz. Only generated
  input exists for it here (the EPFL audio+IMU cough set is not available), so it stays profiled on
  :func:`biowear.bench.inputs.cough_windows`, labelled synthetic.
* **audio only** (:data:`INFO_AUDIO`, ``coswara``): the same audio path without the IMU features, on the
  Coswara clips resampled from 48 kHz to 16 kHz (``resample_poly``, 1/3); see :mod:`biowear.bench.apps.cough_data`
  for how clips become windows and how clip-level decisions are made.
"""

from __future__ import annotations

from dataclasses import replace
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
#: The audio-only variant (Coswara: 16-bit PCM clips, no IMU).
INFO_AUDIO = replace(INFO, signals=(SignalSpec("audio", 1, AUDIO_HZ, WINDOW_S, 16),))
#: Seed 001's forest.
N_TREES, MAX_DEPTH = 20, 8


class CoughDet(App):
    """See the module docstring."""

    info = INFO

    def __init__(self) -> None:
        super().__init__()
        self.sos = butter_sos(AUDIO_HZ, 6000.0, "lowpass", order=4)

    def audio_features(self, audio: np.ndarray) -> np.ndarray:
        """Spectral statistics, 5 log band powers and 13 MFCC means and deviations of one audio window."""
        with phase("preprocessing"):
            a = sos_filter(audio, self.sos)
        with phase("feature_extraction"):
            frame = a[:4096]
            power = power_spectrum(frame)
            stats = spectral_stats(power, np.fft.rfftfreq(frame.size, 1 / AUDIO_HZ))
            f, psd = welch_psd(a, AUDIO_HZ, segment=1024)
            bands = np.log(band_powers(psd, f, _BANDS) + 1e-12)
            cc = mfcc(a, AUDIO_HZ)
            return np.hstack([stats, bands, cc.mean(axis=0), cc.std(axis=0)])

    def features(self, audio: np.ndarray, imu: np.ndarray | None) -> np.ndarray:
        """The window's feature vector: IMU statistics (when an IMU is given) then the audio features."""
        audio_feats = self.audio_features(audio)
        if imu is None:
            return audio_feats
        with phase("feature_extraction"):
            imu_feats = np.hstack([zcr_rms(imu), moments(imu)[:, 2:]]).reshape(-1)
        return np.hstack([imu_feats, audio_feats])

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        imu = window.signals.get("imu") if any(s.name == "imu" for s in self.info.signals) else None
        feats = self.features(window.signals["audio"][0], imu)
        with phase("inference"):
            proba = forest_proba(self.forest_, feats)[0]
        return AppOutput(int(proba[1] > 0.5), {"features": feats, "proba": proba})

    def static_bytes(self) -> int:
        return self.forest_.n_nodes * (2 + 2 + 1 + 4) + 4 * (26 * 257 + self.sos.size)  # + mel filterbank

    def _fit_features(self, feats: np.ndarray, labels: np.ndarray, seed: int) -> CoughDet:
        rf = RandomForestClassifier(
            n_estimators=N_TREES, max_depth=MAX_DEPTH, class_weight="balanced", random_state=seed
        )
        self.forest_ = Forest.from_sklearn(rf.fit(feats, np.asarray(labels)))
        return self

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int = 0) -> CoughDet:
        """Fit the forest on the features of ``windows`` (training windows only; the variant follows
        :attr:`info`: with IMU features when it declares an IMU)."""
        with_imu = any(s.name == "imu" for s in self.info.signals)
        feats = np.stack(
            [self.features(w.signals["audio"][0], w.signals["imu"] if with_imu else None) for w in windows]
        )
        return self._fit_features(feats, labels, seed)

    def real_windows(self, folder: Path | None = None, dataset: str | None = None, quick: bool = False):
        """The 0.3 s audio windows of ``coswara`` (or ``folder``, a folder of that format); switches this app to
        the audio-only :data:`INFO_AUDIO`."""
        from biowear.bench.apps.cough_data import cough_windows_of
        from biowear.bench.realdata import resolve_dataset

        self.info = INFO_AUDIO
        self.synthetic = False
        data = cough_windows_of(resolve_dataset(INFO.name, dataset, folder), quick)
        self.data_source = f"{data.dataset} (audio only, no IMU): {data.notes[0]}"
        return data

    def real_splits(self, data) -> dict:
        """Leave one participant out."""
        from biowear.bench.realsplit import loso

        return {"lopo": loso(data, name="lopo")}

    def real_scores(self, data, pred: np.ndarray) -> dict[str, float]:
        """Clip-level scores of the held-out windows (see :func:`biowear.bench.apps.cough_data.clip_scores`)."""
        from biowear.bench.apps.cough_data import clip_scores

        return clip_scores(data, pred)

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> CoughDet:
        self.info = INFO
        self.data_source = "synthetic chest audio (16 kHz) + 6-axis IMU (100 Hz) with coughs (biowear generator)"
        a, m, y = cough_windows(60 if quick else 200, AUDIO_HZ, IMU_HZ, WINDOW_S, seed=seed)
        self._fit_features(np.stack([self.features(ai, mi) for ai, mi in zip(a, m)]), y, seed)
        at, mt, yt = cough_windows(8 if quick else 40, AUDIO_HZ, IMU_HZ, WINDOW_S, seed=seed + 7919)
        self.test_windows = [
            Window({"audio": ai[None, :], "imu": mi}, {"audio": AUDIO_HZ, "imu": IMU_HZ}, int(lab))
            for ai, mi, lab in zip(at, mt, yt)
        ]
        return self
