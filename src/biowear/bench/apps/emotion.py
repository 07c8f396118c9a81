"""EmotionClass: fear detection from PPG, skin conductance (GSR) and skin temperature (seed 001).

A 10 s window is cut into 10 one-second batches; each batch's three signal averages form a 3-D tuple that a
KNN classifier labels from the sqrt(n) nearest of n = 685 training tuples (selection by sqrt(n) passes of a
selection sort); the window's decision is the majority of the 10 partial decisions. 32-bit floating point.
Synthetic input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import Standardizer, knn_fraction
from biowear.bench.inputs import emotion_recordings
from biowear.kernels.profiler import phase
from biowear.signal.artifacts import block_average

WINDOW_S, BATCHES, TRAIN_POINTS = 10.0, 10, 685
RATES = {"ppg": 200.0, "gsr": 5.0, "temp": 1.0}
INFO = AppInfo(
    "EmotionClass",
    (
        SignalSpec("ppg", 1, 200.0, WINDOW_S, 32),
        SignalSpec("gsr", 1, 5.0, WINDOW_S, 32),
        SignalSpec("temp", 1, 1.0, WINDOW_S, 16),
    ),
    "fp32",
    WINDOW_S,
    "AVG | KNN",
    "inference",
)


class EmotionClass(App):
    """See the module docstring."""

    info = INFO

    @property
    def k(self) -> int:
        return int(round(np.sqrt(self.train_x_.shape[0])))

    def tuples(self, signals: dict[str, np.ndarray]) -> np.ndarray:
        """(batches, 3) one-second averages of PPG, GSR and temperature."""
        cols = [block_average(signals[name][0], int(RATES[name] * WINDOW_S / BATCHES)) for name in RATES]
        return np.stack(cols, axis=1)

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        with phase("feature_extraction"):
            tuples = self.scaler_(self.tuples(window.signals))
        with phase("inference"):
            fractions = np.array([knn_fraction(self.train_x_, self.train_y_, t, self.k) for t in tuples])
        votes = int(np.sum(fractions > 0.5))
        return AppOutput(
            int(votes * 2 > BATCHES or (votes * 2 == BATCHES and fractions.mean() > 0.5)), {"fractions": fractions}
        )

    def static_bytes(self) -> int:
        return 4 * (self.train_x_.size + self.scaler_.nbytes) + self.train_y_.size  # labels as bytes

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> EmotionClass:
        self.data_source = "synthetic PPG/GSR/skin-temperature recordings, fear vs calm (biowear generator)"
        n_rec = int(np.ceil(TRAIN_POINTS / BATCHES))
        ppg, gsr, temp, y = emotion_recordings(n_rec, WINDOW_S, seed=seed)
        pts = np.vstack(
            [self.tuples({"ppg": p[None], "gsr": g[None], "temp": t[None]}) for p, g, t in zip(ppg, gsr, temp)]
        )
        labels = np.repeat(y, BATCHES)
        self.scaler_ = Standardizer.fit(pts[:TRAIN_POINTS])
        self.train_x_, self.train_y_ = self.scaler_(pts[:TRAIN_POINTS]), labels[:TRAIN_POINTS]
        pt, gt, tt, yt = emotion_recordings(6 if quick else 40, WINDOW_S, seed=seed + 7919)
        self.test_windows = [
            Window({"ppg": p[None], "gsr": g[None], "temp": t[None]}, dict(RATES), int(lab))
            for p, g, t, lab in zip(pt, gt, tt, yt)
        ]
        return self
