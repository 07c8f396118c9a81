"""CognWorkMon: cognitive-workload monitoring from 4-channel EEG (seed 001).

For each of 14 batches of 4 s: blink removal and an IIR band-pass (1-40 Hz, Butterworth biquads), then
time features (skewness, kurtosis, Hjorth activity/mobility/complexity), FFT band powers (delta, theta,
alpha, beta, gamma) and spectral entropy per channel. The features averaged over the batches go to a random
forest. Runs in float or emulated 32-bit fixed point (filter, FFT and forest comparisons). Synthetic input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import Forest, forest_proba
from biowear.bench.inputs import eeg_workload_recordings
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase
from biowear.signal.artifacts import remove_blinks
from biowear.signal.filters import butter_sos, sos_filter
from biowear.signal.spectral import band_powers, power_spectrum
from biowear.signal.stats import hjorth, moments, spectral_entropy

FS_HZ, BATCH_S, BATCHES, CHANNELS = 256.0, 4.0, 14, 4
_Q_EEG = QFormat(32, 16)
_BANDS = ((1, 4), (4, 8), (8, 13), (13, 30), (30, 40))
INFO = AppInfo(
    "CognWorkMon",
    (SignalSpec("eeg", CHANNELS, FS_HZ, BATCH_S * BATCHES, 32),),
    "fx32",
    BATCH_S * BATCHES,
    "BPF, BLR | FFT | RF",
    "feature_extraction",
)


class CognWorkMon(App):
    """See the module docstring."""

    info = INFO
    q = _Q_EEG

    def __init__(self) -> None:
        super().__init__()
        self.sos = butter_sos(FS_HZ, (1.0, 40.0), "bandpass", order=2)

    def features(self, x: np.ndarray, fixed: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        q = _Q_EEG if fixed else None
        n = int(BATCH_S * FS_HZ)
        freqs = np.fft.rfftfreq(n, 1 / FS_HZ)
        per_batch, filtered_all, power_all = [], [], []
        for b in range(BATCHES):
            seg = x[:, b * n : (b + 1) * n]
            with phase("preprocessing"):
                clean = remove_blinks(seg, FS_HZ)
                codes = _Q_EEG.quantize(clean) if fixed else clean
                filt = sos_filter(codes.T, self.sos, q=q).T
            with phase("feature_extraction"):
                power = power_spectrum(filt, q=q)
                filt_f = _Q_EEG.to_float(filt) if fixed else filt
                feats = np.hstack(
                    [
                        moments(filt_f)[:, 2:],
                        hjorth(filt_f),
                        np.log(band_powers(power, freqs, _BANDS) + 1e-9),
                        spectral_entropy(power[:, (freqs >= 1) & (freqs < 40)])[:, None],
                    ]
                )
            per_batch.append(feats.reshape(-1))
            filtered_all.append(filt_f)
            power_all.append(power)
        feats = np.mean(per_batch, axis=0)
        return feats, {"filtered_eeg": np.hstack(filtered_all), "power": np.stack(power_all), "features": feats}

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        feats, inter = self.features(window.signals["eeg"], fixed)
        with phase("inference"):
            proba = forest_proba(self.forest_, feats, q=_Q_EEG if fixed else None)[0]
        inter["proba"] = proba
        return AppOutput(int(np.argmax(proba)), inter)

    def static_bytes(self) -> int:
        # per node: two child indices (2 B), feature index (1 B), threshold (4 B); leaves: class probability
        return self.forest_.n_nodes * (2 + 2 + 1 + 4) + 4 * self.sos.size

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> CognWorkMon:
        self.data_source = "synthetic 4-channel EEG, workload raises frontal theta and lowers alpha (biowear generator)"
        x, y = eeg_workload_recordings(16 if quick else 60, CHANNELS, FS_HZ, BATCHES, BATCH_S, seed=seed)
        feats = np.stack([self.features(r, fixed=False)[0] for r in x])
        rf = RandomForestClassifier(n_estimators=16, max_depth=6, random_state=seed).fit(feats, y)
        self.forest_ = Forest.from_sklearn(rf)
        xt, yt = eeg_workload_recordings(4 if quick else 16, CHANNELS, FS_HZ, BATCHES, BATCH_S, seed=seed + 7919)
        self.test_windows = [Window({"eeg": w}, {"eeg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self
