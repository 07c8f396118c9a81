"""GestureClass: hand-gesture classification from 16-channel sEMG (seed 001).

Calibration learns the whitening and separation of the subject's motor-unit sources with FastICA on
training windows. Each 0.2 s window is separated again with FastICA warm-started from the calibration
(feature extraction, the dominant kernel), and the log RMS of every source goes to an MLP. 32-bit floating
point. Synthetic input (motor units mixed onto the electrodes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import MLP, Standardizer, mlp_proba
from biowear.bench.inputs import emg_gestures
from biowear.kernels.profiler import phase
from biowear.signal.ica import fastica
from biowear.signal.stats import zcr_rms

FS_HZ, WINDOW_S, CHANNELS, COMPONENTS = 4000.0, 0.2, 16, 8
INFO = AppInfo(
    "GestureClass",
    (SignalSpec("emg", CHANNELS, FS_HZ, WINDOW_S, 24),),
    "fp32",
    WINDOW_S,
    "ICA | MLP",
    "feature_extraction",
)


class GestureClass(App):
    """See the module docstring."""

    info = INFO

    def features(self, x: np.ndarray) -> np.ndarray:
        with phase("feature_extraction"):
            ica = fastica(
                x,
                COMPONENTS,
                max_iter=30,
                tol=1e-4,
                rotation_init=self.rotation_,
                whitening=(self.mean_, self.whitening_),
            )
            sources = ica.transform(x)
            return np.log(zcr_rms(sources)[:, 1] + 1e-9)

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        feats = self.features(window.signals["emg"])
        with phase("inference"):
            proba = mlp_proba(self.mlp_, self.scaler_(feats))[0]
        return AppOutput(int(np.argmax(proba)), {"features": feats, "proba": proba})

    def static_bytes(self) -> int:
        return 4 * (
            self.mlp_.n_params + self.whitening_.size + self.rotation_.size + self.mean_.size + self.scaler_.nbytes
        )

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> GestureClass:
        self.data_source = "synthetic 16-channel sEMG from 8 motor units, 4 gestures (biowear generator)"
        x, y, _ = emg_gestures(40 if quick else 160, CHANNELS, FS_HZ, WINDOW_S, seed=seed)
        calib = fastica(np.hstack(list(x)), COMPONENTS, max_iter=400, seed=seed)
        self.mean_, self.whitening_, self.rotation_ = calib.mean, calib.whitening, calib.rotation
        feats = np.stack([self.features(w) for w in x])
        self.scaler_ = Standardizer.fit(feats)
        mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=seed).fit(self.scaler_(feats), y)
        self.mlp_ = MLP.from_sklearn(mlp)
        xt, yt, _ = _fresh_windows(seed, 8 if quick else 40)
        self.test_windows = [Window({"emg": w}, {"emg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self


def _fresh_windows(seed: int, n: int):
    """Test windows of the same subject: generate more windows with the same seed and keep the new ones."""
    x, y, m = emg_gestures(n + 160, CHANNELS, FS_HZ, WINDOW_S, seed=seed)
    return x[160:], y[160:], m
