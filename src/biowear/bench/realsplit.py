"""Folds, metrics and baselines of the real-data harness (:mod:`biowear.bench.realdata`).

* :class:`Fold` (name, ``train`` and ``test`` window indices, ``within_group``) and :class:`Split` (name,
  folds, notes); :func:`loso` leaves one group (subject or patient) out per fold; :func:`check_split` refuses a
  fold whose test groups appear in its training side (unless the fold is declared ``within_group``, e.g. a
  subject's series 1 -> series 2), or whose windows overlap.
* :func:`metrics`: accuracy, balanced accuracy (mean recall of the classes present), macro F1 and the
  confusion matrix (rows: reference).
* :func:`window_statistics` and :func:`baseline_predictions`: the simple baselines scored on the same folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from biowear.errors import ConfigError

if TYPE_CHECKING:
    from biowear.bench.app import Window
    from biowear.bench.labelled import LabelledWindows


@dataclass(frozen=True)
class Fold:
    """One train/test partition of the window indices.

    Attributes:
        name: e.g. the held-out subject.
        train: indices of training windows.
        test: indices of held-out windows.
        within_group: the fold deliberately trains and tests on the same subjects (different windows, e.g.
            another session); otherwise no test group may appear in training.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    within_group: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "train", np.asarray(self.train, dtype=np.int64))
        object.__setattr__(self, "test", np.asarray(self.test, dtype=np.int64))


@dataclass(frozen=True)
class Split:
    """A named list of folds; ``notes`` say how it was made."""

    name: str
    folds: tuple[Fold, ...]
    notes: tuple[str, ...] = ()


def loso(data: LabelledWindows, name: str = "loso") -> Split:
    """Leave one group out: one fold per group, trained on all others."""
    folds = []
    for g in data.subjects:
        test = np.flatnonzero(data.groups == g)
        folds.append(Fold(g, np.flatnonzero(data.groups != g), test))
    return Split(
        name, tuple(folds), (f"{name}: {len(folds)} folds, one per {'patient' if name == 'lopo' else 'subject'}",)
    )


def group_folds(data: LabelledWindows, test_groups: Sequence[Sequence[str]], name: str) -> Split:
    """Folds holding out each listed set of groups (training on all other groups)."""
    folds = []
    for gs in test_groups:
        mask = np.isin(data.groups, list(gs))
        folds.append(Fold("+".join(gs), np.flatnonzero(~mask), np.flatnonzero(mask)))
    return Split(name, tuple(folds))


def check_split(data: LabelledWindows, split: Split) -> None:
    """Raise :class:`ConfigError` when a fold leaks a group or a window, is empty, or trains on one class."""
    n = len(data)
    if not split.folds:
        raise ConfigError(f"split {split.name!r} has no fold")
    seen: set[int] = set()
    for fold in split.folds:
        for what, idx in (("train", fold.train), ("test", fold.test)):
            if len(idx) == 0:
                raise ConfigError(f"split {split.name!r}, fold {fold.name!r}: no {what} window")
            if idx.min() < 0 or idx.max() >= n:
                raise ConfigError(f"split {split.name!r}, fold {fold.name!r}: {what} index outside 0..{n - 1}")
        if np.intersect1d(fold.train, fold.test).size:
            raise ConfigError(f"split {split.name!r}, fold {fold.name!r}: a window is on both sides")
        if not fold.within_group:
            leak = sorted(set(data.groups[fold.train].tolist()) & set(data.groups[fold.test].tolist()))
            if leak:
                raise ConfigError(
                    f"split {split.name!r}, fold {fold.name!r}: group(s) {', '.join(leak)} on both the training "
                    "and the test side (a subject's windows must stay on one side)"
                )
        if len(np.unique(data.labels[fold.train])) < 2:
            raise ConfigError(f"split {split.name!r}, fold {fold.name!r}: the training windows hold one class only")
        dup = seen & set(fold.test.tolist())
        if dup:
            raise ConfigError(f"split {split.name!r}: window {min(dup)} is held out by two folds")
        seen |= set(fold.test.tolist())


def metrics(y: np.ndarray, pred: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro F1 and confusion (rows: reference, columns: decision).

    Balanced accuracy is the mean recall over the classes present in ``y`` (so one subject's windows of one
    class give that class's recall); macro F1 averages F1 over the classes present in ``y`` or ``pred``.
    """
    y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    conf = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(conf, (y, pred), 1)
    present = np.flatnonzero(conf.sum(axis=1) > 0)
    recall = np.diag(conf)[present] / conf.sum(axis=1)[present]
    f1s = []
    for c in np.flatnonzero((conf.sum(axis=1) + conf.sum(axis=0)) > 0):
        tp, fp, fn = conf[c, c], conf[:, c].sum() - conf[c, c], conf[c, :].sum() - conf[c, c]
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return {
        "n": int(len(y)),
        "accuracy": float(np.mean(y == pred)) if len(y) else float("nan"),
        "balanced_accuracy": float(np.mean(recall)) if len(recall) else float("nan"),
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "confusion": conf.tolist(),
    }


def _band_log_powers(x: np.ndarray, fs_hz: float, bands: int = 5) -> np.ndarray:
    """Log power of ``bands`` octave bands below Nyquist (the top band is [Nyquist/2, Nyquist]) per channel."""
    from scipy.signal import welch

    nper = min(x.shape[-1], 256)
    f, p = welch(x, fs=fs_hz, nperseg=nper, axis=-1)
    nyq = fs_hz / 2
    edges = [0.0] + [nyq / 2**k for k in range(bands - 1, -1, -1)]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (f > lo) & (f <= hi)
        out.append(np.log(p[:, sel].sum(axis=-1) + 1e-12) if sel.any() else np.zeros(x.shape[0]))
    return np.stack(out, axis=1)


def window_statistics(windows: list[Window]) -> np.ndarray:
    """Per-channel mean, standard deviation, RMS and 5 octave-band log powers of every signal of each window
    (the features of the scikit-learn baseline), as ``(windows, features)``."""
    rows = []
    for w in windows:
        feats = []
        for name in sorted(w.signals):
            x = np.asarray(w.signals[name], dtype=np.float64)
            if x.ndim == 1:
                x = x[None]
            feats += [x.mean(axis=1), x.std(axis=1), np.sqrt(np.mean(x**2, axis=1))]
            if x.shape[1] >= 8:
                feats.append(_band_log_powers(x, w.fs_hz[name]).ravel())
        rows.append(np.concatenate(feats))
    return np.nan_to_num(np.stack(rows))


def baseline_predictions(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int, quick: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The majority class of the training labels, and StandardScaler + LogisticRegression (balanced class
    weights, C=1) fitted on ``train_x``; the decisions on ``test_x``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    major = np.full(len(test_x), int(np.bincount(train_y).argmax()), dtype=np.int64)
    pipe = make_pipeline(
        StandardScaler(),
        LogisticRegression(max_iter=200 if quick else 2000, class_weight="balanced", random_state=seed),
    )
    pipe.fit(train_x, train_y)
    return major, pipe.predict(test_x).astype(np.int64)
