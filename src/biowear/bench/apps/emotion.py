"""EmotionClass: fear / stress detection from PPG, skin conductance (GSR) and skin temperature (seed 001).

A 10 s window is cut into 10 one-second batches; each batch's three signal averages form a 3-D tuple that a
KNN classifier labels from the sqrt(n) nearest of n = 685 training tuples (selection by sqrt(n) passes of a
selection sort); the window's decision is the majority of the 10 partial decisions. 32-bit floating point.

Two input variants:

* **generated** (:data:`INFO`): PPG 200 Hz, GSR 5 Hz, temperature 1 Hz, fear vs calm
  (:func:`biowear.bench.inputs.emotion_recordings`).
* **WESAD wrist** (:data:`INFO_REAL`): the Empatica E4's BVP (PPG) at 64 Hz, EDA at 4 Hz and skin temperature at
  4 Hz, stress vs non-stress; windows, labels and the per-subject calibration are described in
  :mod:`biowear.bench.apps.emotion_data`. The window carries the subject's calibration statistics
  (``annotations["calibration"]``), and the device's first step (pre-processing) z-scores each signal with them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.apps.emotion_data import REAL_RATES
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
#: The E4 rates of WESAD (BVP 64 Hz, EDA and TEMP 4 Hz).
INFO_REAL = replace(INFO, signals=tuple(SignalSpec(n, 1, fs, WINDOW_S, 32) for n, fs in REAL_RATES.items()))


class EmotionClass(App):
    """See the module docstring."""

    info = INFO

    @property
    def k(self) -> int:
        return int(round(np.sqrt(self.train_x_.shape[0])))

    def tuples(self, signals: dict[str, np.ndarray], calibration: np.ndarray | None = None) -> np.ndarray:
        """(batches, 3) one-second averages of PPG, GSR and temperature; with ``calibration`` ((3, 2): mean and
        standard deviation per signal), each average is z-scored with the subject's calibration statistics."""
        rates = {s.name: s.fs_hz for s in self.info.signals}
        cols = [block_average(signals[name][0], int(rates[name] * WINDOW_S / BATCHES)) for name in RATES]
        out = np.stack(cols, axis=1)
        if calibration is not None:
            out = (out - calibration[:, 0]) / calibration[:, 1]
        return out

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        with phase("feature_extraction"):
            tuples = self.scaler_(self.tuples(window.signals, window.annotations.get("calibration")))
        with phase("inference"):
            fractions = np.array([knn_fraction(self.train_x_, self.train_y_, t, self.k) for t in tuples])
        votes = int(np.sum(fractions > 0.5))
        return AppOutput(
            int(votes * 2 > BATCHES or (votes * 2 == BATCHES and fractions.mean() > 0.5)), {"fractions": fractions}
        )

    def static_bytes(self) -> int:
        return 4 * (self.train_x_.size + self.scaler_.nbytes) + self.train_y_.size  # labels as bytes

    def _fit_points(self, pts: np.ndarray, labels: np.ndarray) -> EmotionClass:
        self.scaler_ = Standardizer.fit(pts)
        self.train_x_, self.train_y_ = self.scaler_(pts), np.asarray(labels)
        return self

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int = 0) -> EmotionClass:
        """Keep n = 685 training tuples, as seed 001 does: the 10 tuples of each of 69 training windows drawn at
        random (seeded), the first 685 of them. Only ``windows`` (training windows) are seen."""
        order = np.random.default_rng(seed).permutation(len(windows))[: int(np.ceil(TRAIN_POINTS / BATCHES))]
        pts = np.vstack([self.tuples(windows[i].signals, windows[i].annotations.get("calibration")) for i in order])
        y = np.repeat(np.asarray(labels)[order], BATCHES)
        return self._fit_points(pts[:TRAIN_POINTS], y[:TRAIN_POINTS])

    def real_windows(self, folder: Path | None = None, dataset: str | None = None, quick: bool = False):
        """The 10 s windows of ``wesad`` (or ``folder``, a folder of that format), stress vs non-stress; switches
        this app to :data:`INFO_REAL`."""
        from biowear.bench.apps.emotion_data import wesad_windows
        from biowear.bench.realdata import resolve_dataset

        self.info = INFO_REAL
        self.synthetic = False
        data = wesad_windows(resolve_dataset(INFO.name, dataset, folder), quick)
        self.data_source = f"{data.dataset}: {data.notes[0]}"
        return data

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> EmotionClass:
        self.info = INFO
        self.data_source = "synthetic PPG/GSR/skin-temperature recordings, fear vs calm (biowear generator)"
        n_rec = int(np.ceil(TRAIN_POINTS / BATCHES))
        ppg, gsr, temp, y = emotion_recordings(n_rec, WINDOW_S, seed=seed)
        pts = np.vstack(
            [self.tuples({"ppg": p[None], "gsr": g[None], "temp": t[None]}) for p, g, t in zip(ppg, gsr, temp)]
        )
        self._fit_points(pts[:TRAIN_POINTS], np.repeat(y, BATCHES)[:TRAIN_POINTS])
        pt, gt, tt, yt = emotion_recordings(6 if quick else 40, WINDOW_S, seed=seed + 7919)
        self.test_windows = [
            Window({"ppg": p[None], "gsr": g[None], "temp": t[None]}, dict(RATES), int(lab))
            for p, g, t, lab in zip(pt, gt, tt, yt)
        ]
        return self
