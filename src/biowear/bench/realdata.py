"""Scoring a BiomedBench application on real recordings, split by subject, beside chance and simple baselines.

API (shared by every application with real data; :mod:`biowear.bench.realsplit` holds the folds and metrics):

* :class:`LabelledWindows` (frozen): ``windows`` (each a :class:`~biowear.bench.app.Window` valid for the app),
  ``labels`` (int, index into ``classes``), ``groups`` (subject / patient id per window, str), ``classes``,
  ``dataset``, ``label_source``, ``meta`` (name -> per-window array: record id, clip id, ``start_s``, series,
  ...), ``notes`` (how windows were cut, what was dropped). ``subset(idx)``, ``subjects``.
* An application opts in by implementing :class:`RealDataApp`:
  ``real_windows(folder: Path | None, dataset: str | None, quick: bool) -> LabelledWindows`` (``folder`` is the
  dataset folder itself, e.g. ``--data-dir``; None: the registered folder under the data root) and
  ``fit_windows(windows, labels, seed) -> self`` (fit on training windows only). Prediction stays
  ``App.run(window).decision``. Optional hooks: ``real_splits(data) -> dict[str, Split]`` (the first is the
  primary; default ``{"loso": loso(data)}``) and ``real_scores(data, pred) -> dict[str, float]``
  (app-specific figures of held-out windows, e.g. seizure sensitivity, false alarms per hour, clip scores;
  called on the pooled held-out set and on each subject's).
* :data:`REAL_DATASETS`: app name -> its dataset names (the first is the default);
  :func:`resolve_dataset(app_name, dataset, folder)` -> :class:`RecordingDataset` (one clear error for an
  unknown or unsuitable dataset, listing the valid ones, or a missing folder).
* :func:`evaluate_split(app, data, split="loso"|Split, seed=0, quick=False, fixed=False) -> RealScore`: for each
  fold, ``fit_windows`` on the training windows, ``run`` on the held-out ones; pooled metrics (accuracy,
  balanced accuracy, macro F1, confusion), ``per_subject``, ``chance`` and baselines on the same folds
  (``majority`` class and ``sklearn``: StandardScaler + LogisticRegression on per-channel window statistics).
  ``fixed=True`` also runs the fixed-point mode on every held-out window: ``fixed_vs_float`` (decision
  agreement) and ``fixed_pooled``. The app is left fitted on the last fold, whose held-out windows are in
  ``RealScore.last_test`` (the runner profiles the first one).
* :class:`RealScore`: ``to_dict()`` is JSON-friendly (``synthetic: false``, dataset, split, subjects,
  ``n_windows``, chance, pooled, per_subject, baselines, folds, notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from biowear.bench.app import App, Window
from biowear.bench.labelled import LabelledWindows
from biowear.bench.realsplit import Split, baseline_predictions, check_split, loso, metrics, window_statistics
from biowear.data.recordings import RECORDINGS, RecordingDataset
from biowear.errors import ConfigError
from biowear.registry import Registry

__all__ = [
    "BENCH_DATASETS",
    "REAL_DATASETS",
    "LabelledWindows",
    "RealDataApp",
    "RealScore",
    "Split",
    "evaluate_split",
    "has_real_path",
    "loso",
    "resolve_dataset",
]


@runtime_checkable
class RealDataApp(Protocol):
    """What an application implements to be scored on real data (see the module docstring)."""

    def real_windows(self, folder: Path | None, dataset: str | None, quick: bool) -> LabelledWindows: ...

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int) -> Any: ...


def has_real_path(app: App | type[App]) -> bool:
    """Whether the application can be scored on real recordings."""
    return callable(getattr(app, "real_windows", None)) and callable(getattr(app, "fit_windows", None))


#: Application -> its real datasets (the first is the default). ``chbmit`` is a user's CHB-MIT folder.
REAL_DATASETS: dict[str, tuple[str, ...]] = {
    "SeizureDetSVM": ("szdb",),
    "CognWorkMon": ("eegmat",),
    "GestureClass": ("emg_gestures",),
    "CoughDet": ("coswara",),
    "EmotionClass": ("wesad",),
    "SeizureDetCNN": ("chbmit",),
    "Bio-BPfree": ("chbmit",),
}


def _bench_datasets() -> Registry[RecordingDataset]:
    from biowear.data.recordings.chbmit import CHBMITDataset

    reg: Registry[RecordingDataset] = Registry("bench dataset")
    for name in RECORDINGS.names():
        reg.register(name, RECORDINGS.get(name))
    reg.register("chbmit", CHBMITDataset())
    return reg


#: Every dataset a bench application may read: the registered recordings plus CHB-MIT (not in the data root).
BENCH_DATASETS: Registry[RecordingDataset] = _bench_datasets()


def resolve_dataset(app_name: str, dataset: str | None = None, folder: Path | None = None) -> RecordingDataset:
    """The recording dataset ``app_name`` reads (``dataset`` or its default), at ``folder`` when given.

    Raises:
        ConfigError: the app has no real data, or ``dataset`` is not one of its datasets (listing them).
    """
    valid = REAL_DATASETS.get(app_name)
    if not valid:
        raise ConfigError(f"{app_name} has no real-data path; applications with one are: {', '.join(REAL_DATASETS)}")
    name = dataset or valid[0]
    if name not in valid:
        raise ConfigError(f"{app_name} cannot read dataset {name!r}; valid datasets for it are: {', '.join(valid)}")
    ds = BENCH_DATASETS.get(name)
    return ds.at(folder) if folder is not None else ds


@dataclass(frozen=True)
class RealScore:
    """An application's scores on held-out real windows (see :func:`evaluate_split`).

    Attributes:
        app, dataset, split, label_source: what was scored, on what, how split and labelled.
        classes: class names (confusion rows/columns in this order, rows = reference).
        subjects: the groups, in window order.
        n_windows: windows scored (each held out once).
        class_counts: windows per class.
        chance: ``majority_of_test`` (share of the most frequent test label), ``uniform`` (1 / classes) and
            ``balanced_accuracy`` (1 / classes).
        pooled: metrics of all held-out windows pooled over folds, plus the app's ``real_scores``.
        per_subject: subject -> metrics (and the app's scores) of its held-out windows.
        baselines: ``majority`` and ``sklearn`` -> ``{"pooled", "per_subject", "pipeline"}``.
        folds: per fold: name, test groups, training and test window counts.
        fixed_vs_float: ``decision_agreement`` of fixed vs float on every held-out window (fixed runs only).
        fixed_pooled: pooled metrics of the fixed-point decisions (fixed runs only).
        notes: how the windows were cut and the split made.
        predictions: the held-out float decision of every window (in ``data`` order).
    """

    app: str
    dataset: str
    split: str
    label_source: str
    classes: tuple[str, ...]
    subjects: tuple[str, ...]
    n_windows: int
    class_counts: dict[str, int]
    chance: dict[str, float]
    pooled: dict[str, Any]
    per_subject: dict[str, dict[str, Any]]
    baselines: dict[str, dict[str, Any]]
    folds: list[dict[str, Any]]
    fixed_vs_float: dict[str, float] = field(default_factory=dict)
    fixed_pooled: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    last_test: list[Window] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (predictions as a list; the last fold's windows left out)."""
        return {
            "synthetic": False,
            "app": self.app,
            "dataset": self.dataset,
            "split": self.split,
            "label_source": self.label_source,
            "classes": list(self.classes),
            "subjects": list(self.subjects),
            "n_windows": self.n_windows,
            "class_counts": dict(self.class_counts),
            "chance": dict(self.chance),
            "pooled": self.pooled,
            "per_subject": self.per_subject,
            "baselines": self.baselines,
            "folds": self.folds,
            "fixed_vs_float": dict(self.fixed_vs_float),
            "fixed_pooled": self.fixed_pooled,
            "notes": list(self.notes),
            "predictions": self.predictions.tolist(),
        }


def _app_scores(app: App, data: LabelledWindows, pred: np.ndarray) -> dict[str, float]:
    hook = getattr(app, "real_scores", None)
    return dict(hook(data, pred)) if callable(hook) else {}


def _scored(
    app: App | None, data: LabelledWindows, pred: np.ndarray
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Pooled and per-subject metrics (with the app's own scores when ``app`` is given)."""
    k = len(data.classes)
    pooled = metrics(data.labels, pred, k)
    if app is not None:
        pooled.update(_app_scores(app, data, pred))
    per: dict[str, dict[str, Any]] = {}
    for g in data.subjects:
        idx = np.flatnonzero(data.groups == g)
        per[g] = metrics(data.labels[idx], pred[idx], k)
        if app is not None:
            per[g].update(_app_scores(app, data.subset(idx), pred[idx]))
    return pooled, per


def evaluate_split(
    app: App,
    data: LabelledWindows,
    split: str | Split = "loso",
    seed: int = 0,
    quick: bool = False,
    fixed: bool = False,
) -> RealScore:
    """Fit on each fold's training windows, predict its held-out windows, and score them with baselines.

    Args:
        app: an application implementing :class:`RealDataApp`.
        data: its labelled real windows.
        split: ``"loso"`` / ``"lopo"`` (leave one subject / patient out) or a :class:`Split`.
        seed: seed of the app's and the baselines' fitting.
        quick: fit the sklearn baseline with fewer iterations (tests).
        fixed: also run the fixed-point mode on every held-out window (apps that have one).

    Raises:
        ConfigError: the app has no real path, an unknown split name, or a fold leaks a group (or a window)
            from its training side into its test side, or a fold trains on one class only.
    """
    if not has_real_path(app):
        raise ConfigError(f"{app.info.name} has no real-data path (real_windows/fit_windows)")
    if isinstance(split, str):
        if split not in ("loso", "lopo"):
            raise ConfigError(f"unknown split {split!r}; valid options are: loso, lopo, or a Split")
        split = loso(data, name=split)
    check_split(data, split)
    fixed = fixed and app.supports_fixed
    n = len(data)
    pred = np.full(n, -1, dtype=np.int64)
    pred_fixed = np.full(n, -1, dtype=np.int64)
    base_major = np.full(n, -1, dtype=np.int64)
    base_sk = np.full(n, -1, dtype=np.int64)
    stats = window_statistics(data.windows)
    folds, last_test = [], []
    for fold in split.folds:
        train_y = data.labels[fold.train]
        app.fit_windows([data.windows[i] for i in fold.train], train_y, seed)  # type: ignore[attr-defined]
        last_test = [data.windows[i] for i in fold.test]
        pred[fold.test] = [app.run(w).decision for w in last_test]
        if fixed:
            pred_fixed[fold.test] = [app.run(w, fixed=True).decision for w in last_test]
        major, sk = baseline_predictions(stats[fold.train], train_y, stats[fold.test], seed, quick)
        base_major[fold.test], base_sk[fold.test] = major, sk
        folds.append(
            {
                "name": fold.name,
                "test_groups": sorted(set(data.groups[fold.test].tolist())),
                "n_train": int(len(fold.train)),
                "n_test": int(len(fold.test)),
            }
        )
    scored = np.flatnonzero(pred >= 0)
    held = data.subset(scored)
    pooled, per = _scored(app, held, pred[scored])
    baselines = {}
    for name, bp, pipe in (
        ("majority", base_major, "the training folds' most frequent class"),
        (
            "sklearn",
            base_sk,
            "StandardScaler + LogisticRegression(class_weight='balanced') on per-channel mean, "
            "std, RMS and 5 log band powers (Welch) of every signal",
        ),
    ):
        bpool, bper = _scored(None, held, bp[scored])
        baselines[name] = {"pipeline": pipe, "pooled": bpool, "per_subject": bper}
    test_labels = held.labels
    k = len(data.classes)
    chance = {
        "majority_of_test": float(np.bincount(test_labels, minlength=k).max() / len(test_labels)),
        "uniform": 1.0 / k,
        "balanced_accuracy": 1.0 / k,
    }
    fvf: dict[str, float] = {}
    fpooled: dict[str, Any] = {}
    if fixed:
        fvf = {"decision_agreement": float(np.mean(pred_fixed[scored] == pred[scored])), "windows": float(len(scored))}
        fpooled = metrics(test_labels, pred_fixed[scored], k)
    return RealScore(
        app=app.info.name,
        dataset=data.dataset,
        split=split.name,
        label_source=data.label_source,
        classes=data.classes,
        subjects=held.subjects,
        n_windows=len(scored),
        class_counts=held.class_counts(),
        chance=chance,
        pooled=pooled,
        per_subject=per,
        baselines=baselines,
        folds=folds,
        fixed_vs_float=fvf,
        fixed_pooled=fpooled,
        notes=(*data.notes, *split.notes),
        predictions=pred,
        last_test=last_test,
    )


def real_splits(app: App, data: LabelledWindows) -> Mapping[str, Split]:
    """The app's splits (its ``real_splits`` hook, else leave-one-subject-out); the first is the primary."""
    hook = getattr(app, "real_splits", None)
    splits = dict(hook(data)) if callable(hook) else {"loso": loso(data)}
    if not splits:
        raise ConfigError(f"{app.info.name}: real_splits returned no split")
    return splits
