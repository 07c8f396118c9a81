"""GestureClass: hand-gesture classification from sEMG (seed 001), on generated 16-channel input or on the
8-channel MYO recordings of ``emg_gestures``.

Calibration learns the whitening and separation of the subject's motor-unit sources with FastICA on
training windows. Each 0.2 s window is separated again with FastICA warm-started from the calibration
(feature extraction, the dominant kernel), and the log RMS of every source goes to an MLP. 32-bit floating
point.

Two input variants, profiled side by side:

* **paper** (:data:`INFO`, generated): 16 channels at 4 kHz, 800 samples per 0.2 s window, 8 sources; the
  input seed 001 specifies (motor units mixed onto a high-density grid by :func:`biowear.bench.inputs.emg_gestures`).
* **real** (:data:`INFO_REAL`, ``emg_gestures``): the MYO armband's 8 channels at their true rate. The UCI log's
  sample-and-hold rows are de-duplicated by the loader, whose detected rate is 99.9-110.4 Hz per file; each file
  is brought to a nominal 100 Hz with ``resample_poly`` (ratios such as 993/992; rate error below 5e-6), so a
  0.2 s window is **20 samples x 8 channels** and ICA separates 8 sources. Windows are consecutive,
  non-overlapping 0.2 s spans lying wholly inside one labelled run of classes 1-6 (rest and five gestures; the
  ``unmarked`` class 0 between runs is not scored), the first starting at the run's start.
"""

from __future__ import annotations

from dataclasses import replace
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
#: The real-data variant: the MYO's 8 channels of signed 8-bit codes at the nominal 100 Hz (see the module doc).
REAL_FS_HZ, REAL_CHANNELS = 100.0, 8
INFO_REAL = replace(INFO, signals=(SignalSpec("emg", REAL_CHANNELS, REAL_FS_HZ, WINDOW_S, 8),))
#: The scored classes of the UCI log (class 0, ``unmarked``, lies between the runs and is not scored).
REAL_CLASSES: tuple[str, ...] = (
    "rest",
    "fist",
    "wrist_flexion",
    "wrist_extension",
    "radial_deviation",
    "ulnar_deviation",
)
#: Seed 001's classifier: one hidden layer of 16 units (scikit-learn's MLP, trained to convergence).
HIDDEN = (16,)


class GestureClass(App):
    """See the module docstring."""

    info = INFO

    components_ = COMPONENTS
    #: Re-run FastICA on every window, warm-started from the calibration (seed 001). False keeps the calibration's
    #: unmixing for every window: the diagnostic variant that shows what per-window re-estimation costs when a
    #: window holds only 20 samples (real MYO input).
    per_window_ica = True

    def features(self, x: np.ndarray) -> np.ndarray:
        with phase("feature_extraction"):
            if not self.per_window_ica:
                sources = (self.rotation_ @ self.whitening_) @ (np.asarray(x, dtype=np.float64) - self.mean_[:, None])
                return np.log(zcr_rms(sources)[:, 1] + 1e-9)
            ica = fastica(
                x,
                self.components_,
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

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int = 0) -> GestureClass:
        """Calibrate ICA on the training windows (concatenated), then fit the scaler and the MLP on their features.

        Only ``windows`` are seen: the caller passes training windows alone.
        """
        x = [np.asarray(w.signals["emg"], dtype=np.float64) for w in windows]
        self.components_ = min(COMPONENTS, x[0].shape[0])
        calib = fastica(np.hstack(x), self.components_, max_iter=400, seed=seed)
        self.mean_, self.whitening_, self.rotation_ = calib.mean, calib.whitening, calib.rotation
        feats = np.stack([self.features(w) for w in x])
        self.scaler_ = Standardizer.fit(feats)
        mlp = MLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=2000, random_state=seed)
        self.mlp_ = MLP.from_sklearn(mlp.fit(self.scaler_(feats), np.asarray(labels)))
        return self

    def real_windows(self, folder: Path | None = None, dataset: str | None = None, quick: bool = False):
        """The labelled 0.2 s windows of ``emg_gestures`` (or ``folder``, a folder of that format); switches this
        app to :data:`INFO_REAL`. ``quick`` keeps every other window."""
        from biowear.bench.realdata import resolve_dataset

        self.info = INFO_REAL
        self.synthetic = False
        data = gesture_windows(resolve_dataset(INFO.name, dataset, folder), quick)
        self.data_source = f"{data.dataset}: {data.notes[0]}"
        return data

    def real_splits(self, data) -> dict:
        """``within_subject`` (each subject's series 1 -> its series 2, ICA and MLP calibrated on series 1) and
        ``loso`` (leave one subject out)."""
        from biowear.bench.realsplit import loso

        return {"within_subject": series_split(data), "loso": loso(data)}

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> GestureClass:
        self.info = INFO
        self.data_source = "synthetic 16-channel sEMG from 8 motor units, 4 gestures (biowear generator)"
        x, y, _ = emg_gestures(40 if quick else 160, CHANNELS, FS_HZ, WINDOW_S, seed=seed)
        self.fit_windows([Window({"emg": w}, {"emg": FS_HZ}) for w in x], y, seed)
        xt, yt, _ = _fresh_windows(seed, 8 if quick else 40)
        self.test_windows = [Window({"emg": w}, {"emg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self


def gesture_windows(ds, quick: bool = False):
    """Cut :data:`INFO_REAL` windows from every record of ``ds`` (an ``emg_gestures``-format dataset).

    Returns:
        :class:`~biowear.bench.realdata.LabelledWindows` with labels indexing :data:`REAL_CLASSES`, groups the
        subjects and meta ``record``, ``series``, ``start_s`` (recording time of each window's first sample).
    """
    from biowear.bench.realdata import LabelledWindows
    from biowear.data.recordings import rational_ratio, resample_signal

    n = int(round(REAL_FS_HZ * WINDOW_S))
    windows, labels, groups, records, series, starts, ratios = [], [], [], [], [], [], []
    for rec in ds.recordings():
        emg = rec.signal("emg")
        ratios.append(f"{rec.record_id} {rational_ratio(emg.fs_hz, REAL_FS_HZ)}")
        x = resample_signal(emg, REAL_FS_HZ).data.T  # (8, samples) at the nominal 100 Hz
        for iv in rec.intervals:
            if iv.label not in REAL_CLASSES:
                continue
            i0, i1 = int(np.ceil(iv.start_s * REAL_FS_HZ - 1e-9)), int(np.floor(iv.end_s * REAL_FS_HZ + 1e-9))
            for k, s in enumerate(range(i0, min(i1, x.shape[1]) - n + 1, n)):
                if quick and k % 2:
                    continue
                windows.append(Window({"emg": x[:, s : s + n]}, {"emg": REAL_FS_HZ}, REAL_CLASSES.index(iv.label)))
                labels.append(REAL_CLASSES.index(iv.label))
                groups.append(rec.subject)
                records.append(rec.record_id)
                series.append(str(rec.meta.get("series", rec.record_id.rsplit("_", 1)[-1])))
                starts.append(s / REAL_FS_HZ)
    notes = (
        f"8 MYO channels resampled from the detected rate to {REAL_FS_HZ:g} Hz ({'; '.join(ratios)}); "
        f"non-overlapping {WINDOW_S:g} s windows ({n} samples) inside labelled runs of classes 1-6"
        + ("; quick: every other window" if quick else ""),
    )
    return LabelledWindows(
        windows,
        np.asarray(labels),
        np.asarray(groups),
        REAL_CLASSES,
        ds.name,
        ds.label_source,
        {"record": np.asarray(records), "series": np.asarray(series), "start_s": np.asarray(starts)},
        notes,
    )


def series_split(data):
    """Within subject: per subject, train on its first series and test on its other series.

    Raises:
        ConfigError: a subject has a single series.
    """
    from biowear.bench.realsplit import Fold, Split
    from biowear.errors import ConfigError

    folds = []
    for g in data.subjects:
        mine = data.groups == g
        order = sorted(set(data.meta["series"][mine].tolist()))
        if len(order) < 2:
            raise ConfigError(f"{data.dataset}: subject {g} has one series ({order}); within-subject needs two")
        first = data.meta["series"] == order[0]
        folds.append(Fold(g, np.flatnonzero(mine & first), np.flatnonzero(mine & ~first), within_group=True))
    return Split("within_subject", tuple(folds), ("within_subject: per subject, series 1 -> the other series",))


def _fresh_windows(seed: int, n: int):
    """Test windows of the same subject: generate more windows with the same seed and keep the new ones."""
    x, y, m = emg_gestures(n + 160, CHANNELS, FS_HZ, WINDOW_S, seed=seed)
    return x[160:], y[160:], m
