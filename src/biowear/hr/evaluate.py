"""Leave-one-subject-out evaluation of heart-rate estimators: per recording MAE, with and without post-processing.

Methods (rows of the table): the classical spectral tracker (:func:`biowear.signal.ppg_hr.track_heart_rate`),
the teacher, the student trained on labels only, the student trained with distillation from the fold's
teacher, and that student after int8 post-training quantisation. Each fold's results are written to
``out_dir/folds/<subject>.json`` as soon as the fold ends (atomically), so a killed evaluation resumes with the
next fold; a fold file made with other settings or data is refused, naming the difference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biowear.errors import ConfigError, DataError
from biowear.hr.config import HRConfig
from biowear.hr.costs import ModelCost, model_cost
from biowear.hr.folds import Fold, loso_folds
from biowear.hr.train import HR_TASK, MODELS, Progress, train_fold
from biowear.signal.ppg_hr import HistoryLimit, SpectralTrackerConfig, limit_to_history, track_heart_rate
from biowear.train.artifacts import read_json, write_json
from biowear.train.fit import predict

BASELINE = "classical"
METHODS = (BASELINE, *MODELS)
#: Human names of the methods, for tables.
METHOD_TITLES = {
    BASELINE: "classical spectral tracker",
    "teacher": "teacher (cross-attention)",
    "student": "student, no distillation",
    "student_kd": "student, distilled",
    "student_int8": "student, distilled, int8 PTQ",
}


@dataclass(frozen=True)
class HRWindows:
    """Heart-rate windows of a dataset, in time order within each recording.

    Attributes:
        x: float32 ``(n, 4, samples)``: PPG, accelerometer x, y, z at ``fs_hz``.
        y: float32 BPM per window.
        recording: recording id per window; subject: subject id per window (the LOSO unit).
        fs_hz: sampling rate of ``x``.
        key: identity of the data (content hash), for resumable results.
    """

    x: np.ndarray
    y: np.ndarray
    recording: np.ndarray
    subject: np.ndarray
    fs_hz: float
    key: str

    def __post_init__(self) -> None:
        n = len(self.x)
        if self.x.ndim != 3 or self.x.shape[1] != 4:
            raise DataError(f"heart-rate windows must be (n, 4, samples): PPG + acc x/y/z; got {self.x.shape}")
        if not (len(self.y) == len(self.recording) == len(self.subject) == n):
            raise DataError("heart-rate windows, labels, recordings and subjects differ in length")


@dataclass
class FoldResult:
    """Estimates of one fold's test windows by every method (raw and post-processed), and its costs."""

    subject: str
    val_subjects: tuple[str, ...]
    index: np.ndarray
    estimates: dict[str, np.ndarray]
    post: dict[str, np.ndarray]
    costs: dict[str, ModelCost] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "val_subjects": list(self.val_subjects),
            "index": self.index.tolist(),
            "estimates": {k: v.tolist() for k, v in self.estimates.items()},
            "post": {k: v.tolist() for k, v in self.post.items()},
            "costs": {k: c.to_dict() for k, c in self.costs.items()},
            "epochs": self.epochs,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FoldResult:
        return cls(
            d["subject"],
            tuple(d["val_subjects"]),
            np.asarray(d["index"], dtype=np.int64),
            {k: np.asarray(v) for k, v in d["estimates"].items()},
            {k: np.asarray(v) for k, v in d["post"].items()},
            {k: ModelCost(**c) for k, c in d.get("costs", {}).items()},
            dict(d.get("epochs", {})),
        )


def recording_spans(recording: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(recording id, window indices) of each recording in ``recording``, in first-seen (time) order."""
    return [(r, np.flatnonzero(recording == r)) for r in dict.fromkeys(recording.tolist())]


def _per_recording(fn: Callable[[np.ndarray], np.ndarray], recording: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for _, sel in recording_spans(recording):
        out[sel] = fn(values[sel])
    return out


def baseline_estimates(windows: HRWindows, index: np.ndarray, tracker: SpectralTrackerConfig) -> np.ndarray:
    """The classical tracker on the windows ``index`` (run per recording, in time order)."""
    x = windows.x[index]
    out = np.empty(len(index))
    for _, sel in recording_spans(windows.recording[index]):
        out[sel] = track_heart_rate(x[sel, 0], x[sel, 1:], windows.fs_hz, tracker)
    return out


def run_fold(windows: HRWindows, fold: Fold, config: HRConfig, progress: Progress | None = None) -> FoldResult:
    """Train the fold's networks and estimate its test subject's windows with every method."""
    models = train_fold(windows.x, windows.y, fold.train, fold.val, config, progress)
    test = fold.test
    rec = windows.recording[test]
    estimates = {BASELINE: baseline_estimates(windows, test, SpectralTrackerConfig())}
    for name in MODELS:
        estimates[name] = predict(models.get(name), windows.x[test], HR_TASK).astype(np.float64)
    limit = HistoryLimit(config.band_bpm, config.history)
    post = {k: _per_recording(lambda v: limit_to_history(v, limit), rec, v) for k, v in estimates.items()}
    shape = (int(windows.x.shape[1]), int(windows.x.shape[2]))
    costs = {name: model_cost(models.get(name), shape, config.platform) for name in ("teacher", "student")}
    costs["student_kd"] = costs["student"]
    costs["student_int8"] = model_cost(models.student_kd, shape, config.platform, int8=models.student_int8)
    epochs = {k: f.best_epoch for k, f in models.fits.items()}
    return FoldResult(fold.test_subject, fold.val_subjects, test, estimates, post, costs, epochs)


def settings_key(windows: HRWindows, config: HRConfig) -> str:
    """Hash of the data and of every setting a fold's result depends on (all but the device)."""
    doc = {"data": windows.key, "config": {k: v for k, v in config.to_dict().items() if k != "device"}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def evaluate_loso(
    windows: HRWindows,
    config: HRConfig,
    out_dir: Path | None = None,
    subjects: Sequence[str] | None = None,
    progress: Progress | None = None,
    on_fold: Callable[[int, int, str, bool], None] | None = None,
) -> list[FoldResult]:
    """Leave-one-subject-out over ``windows``: one :class:`FoldResult` per test subject.

    Args:
        out_dir: where per-fold results are kept (``folds/<subject>.json``) and resumed from.
        subjects: test subjects to run (default: all).
        progress: progress callbacks of each network's training.
        on_fold: called ``(i, n_folds, subject, resumed)`` as each fold starts.
    """
    folds = loso_folds(windows.subject, config.val_subjects, config.seed, subjects)
    key = settings_key(windows, config)
    results = []
    for i, fold in enumerate(folds):
        path = None if out_dir is None else Path(out_dir) / "folds" / f"{fold.test_subject}.json"
        if path is not None and path.is_file():
            doc = read_json(path, "fold result")
            if doc.get("key") != key:
                raise ConfigError(
                    f"{path} was made with other data or settings (key {doc.get('key')} vs {key}); use another "
                    "--out folder or delete it"
                )
            if on_fold:
                on_fold(i, len(folds), fold.test_subject, True)
            results.append(FoldResult.from_dict(doc["result"]))
            continue
        if on_fold:
            on_fold(i, len(folds), fold.test_subject, False)
        result = run_fold(windows, fold, config, progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, {"key": key, "result": result.to_dict()})
        results.append(result)
    return results


@dataclass(frozen=True)
class LosoTable:
    """MAE (BPM) per recording and method, raw and post-processed, with the mean over recordings."""

    recordings: tuple[str, ...]
    mae: dict[str, dict[str, float]]
    mae_post: dict[str, dict[str, float]]
    costs: dict[str, ModelCost]

    def mean(self, method: str, post: bool = False, recordings: Sequence[str] | None = None) -> float:
        table = self.mae_post if post else self.mae
        recs = self.recordings if recordings is None else tuple(recordings)
        return float(np.mean([table[method][r] for r in recs]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "recordings": list(self.recordings),
            "mae_bpm": self.mae,
            "mae_bpm_post": self.mae_post,
            "mean_mae_bpm": {m: self.mean(m) for m in self.mae},
            "mean_mae_bpm_post": {m: self.mean(m, True) for m in self.mae},
            "costs": {k: c.to_dict() for k, c in self.costs.items()},
        }


def loso_table(windows: HRWindows, results: Sequence[FoldResult]) -> LosoTable:
    """Per-recording MAE of every method from the folds' estimates."""
    mae: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    mae_post: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    recordings: list[str] = []
    for res in results:
        rec = windows.recording[res.index]
        truth = windows.y[res.index].astype(np.float64)
        for r, sel in recording_spans(rec):
            recordings.append(r)
            for m in METHODS:
                mae[m][r] = float(np.mean(np.abs(res.estimates[m][sel] - truth[sel])))
                mae_post[m][r] = float(np.mean(np.abs(res.post[m][sel] - truth[sel])))
    costs = results[-1].costs if results else {}
    return LosoTable(tuple(recordings), mae, mae_post, dict(costs))
