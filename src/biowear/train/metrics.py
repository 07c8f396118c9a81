"""Classification metrics: accuracy, per-class and macro precision/recall/F1, confusion, ROC/AUC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score, roc_curve

QUALITY_METRICS: tuple[str, ...] = (
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "precision",
    "recall",
    "f1",
)


@dataclass(frozen=True)
class Metrics:
    """Test-set quality of a classifier (all ratios in [0, 1]).

    Attributes:
        classes: class names, the order of every per-class tuple.
        accuracy: fraction of correct predictions.
        precision, recall, f1, support: per class.
        macro_precision, macro_recall, macro_f1: unweighted means over classes.
        confusion: rows = true class, columns = predicted class.
        auc: one-vs-rest ROC AUC per class (None when the class or its complement is absent).
        roc: per class, (false-positive rates, true-positive rates) of the one-vs-rest ROC curve.
    """

    classes: tuple[str, ...]
    accuracy: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    macro_precision: float
    macro_recall: float
    macro_f1: float
    confusion: tuple[tuple[int, ...], ...]
    auc: tuple[float | None, ...]
    roc: tuple[tuple[tuple[float, ...], tuple[float, ...]] | None, ...]

    @property
    def macro_auc(self) -> float | None:
        vals = [a for a in self.auc if a is not None]
        return float(np.mean(vals)) if vals else None

    def class_metric(self, name: str, cls: str) -> float:
        """``precision``/``recall``/``f1`` of one class by name."""
        return getattr(self, name)[self.classes.index(cls)]

    def to_dict(self, with_roc: bool = False) -> dict[str, object]:
        d = asdict(self)
        if not with_roc:
            d.pop("roc")
        d["macro_auc"] = self.macro_auc
        return d


def compute_metrics(y_true: np.ndarray, proba: np.ndarray, classes: tuple[str, ...]) -> Metrics:
    """Metrics from true labels and predicted class probabilities ``(n, n_classes)``."""
    labels = np.arange(len(classes))
    y_pred = proba.argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    aucs: list[float | None] = []
    rocs: list[tuple[tuple[float, ...], tuple[float, ...]] | None] = []
    for k in labels:
        positive = y_true == k
        if positive.all() or not positive.any():
            aucs.append(None)
            rocs.append(None)
            continue
        aucs.append(float(roc_auc_score(positive, proba[:, k])))
        fpr, tpr, _ = roc_curve(positive, proba[:, k])
        rocs.append((tuple(map(float, fpr)), tuple(map(float, tpr))))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    return Metrics(
        classes=tuple(classes),
        accuracy=float((y_pred == y_true).mean()) if len(y_true) else 0.0,
        precision=tuple(map(float, p)),
        recall=tuple(map(float, r)),
        f1=tuple(map(float, f)),
        support=tuple(map(int, s)),
        macro_precision=float(p.mean()),
        macro_recall=float(r.mean()),
        macro_f1=float(f.mean()),
        confusion=tuple(tuple(map(int, row)) for row in cm),
        auc=tuple(aucs),
        roc=tuple(rocs),
    )


#: Regression quality metrics; ``mae`` and ``rmse`` are lower-is-better, ``pearson_r`` and ``within_5``
#: higher-is-better.
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "pearson_r", "within_5")
LOWER_IS_BETTER: frozenset[str] = frozenset({"mae", "rmse"})


@dataclass(frozen=True)
class RegressionMetrics:
    """Test-set quality of a regressor (in the target's unit).

    Attributes:
        mae: mean absolute error.
        rmse: root mean squared error.
        pearson_r: Pearson correlation of prediction and target (nan when either is constant).
        within_5: fraction of predictions within 5 units of the target (e.g. 5 BPM).
        n: number of windows.
        target_mean: mean of the true targets (the constant predictor's reference point).
    """

    mae: float
    rmse: float
    pearson_r: float
    within_5: float
    n: int
    target_mean: float

    def to_dict(self, with_roc: bool = False) -> dict[str, object]:
        d = asdict(self)
        d["task"] = "regression"
        return d


def compute_regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> RegressionMetrics:
    """Regression metrics from true and predicted values (1-D, same length)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} targets but {len(y_pred)} predictions")
    err = y_pred - y_true
    if len(y_true) > 1 and np.std(y_true) > 0 and np.std(y_pred) > 0:
        r = float(np.corrcoef(y_true, y_pred)[0, 1])
    else:
        r = float("nan")
    return RegressionMetrics(
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        pearson_r=r,
        within_5=float(np.mean(np.abs(err) <= 5.0)),
        n=int(len(y_true)),
        target_mean=float(np.mean(y_true)),
    )


def is_regression_metrics(metrics: Mapping[str, object]) -> bool:
    """True for the dictionary form of :class:`RegressionMetrics`."""
    return metrics.get("task") == "regression" or "mae" in metrics


def metric_names(metrics: Mapping[str, object]) -> list[str]:
    """The quality metrics that :func:`metric_value` accepts for this metrics dictionary."""
    if is_regression_metrics(metrics):
        return list(REGRESSION_METRICS)
    classes = list(metrics.get("classes", ()))  # type: ignore[call-overload]
    return ["accuracy", "macro_f1", "macro_precision", "macro_recall"] + [
        f"{m}:{c}" for m in ("f1", "precision", "recall") for c in classes
    ]


def metric_value(metrics: Mapping[str, object], name: str) -> float:
    """One quality value from a metrics dictionary (:meth:`Metrics.to_dict` or :meth:`RegressionMetrics.to_dict`).

    ``name`` is ``accuracy``, ``macro_f1``, ``macro_precision``, ``macro_recall``, ``f1:<class>``,
    ``precision:<class>``, ``recall:<class>`` (classification) or ``mae``, ``rmse``, ``pearson_r``,
    ``within_5`` (regression).

    Raises:
        ConfigError: the metric does not exist for this task; the message lists the valid names.
    """
    from biowear.errors import ConfigError

    valid = metric_names(metrics)
    if name not in valid:
        raise ConfigError(f"unknown quality metric {name!r} for this task; valid options are: {', '.join(valid)}")
    if ":" in name:
        kind, _, cls = name.partition(":")
        return float(metrics[kind][list(metrics["classes"]).index(cls)])  # type: ignore[index,call-overload]
    return float(metrics[name])  # type: ignore[arg-type]


def lower_is_better(name: str) -> bool:
    """True for error metrics (MAE, RMSE), which a search minimises."""
    return name in LOWER_IS_BETTER
