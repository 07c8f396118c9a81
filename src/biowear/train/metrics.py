"""Classification metrics: accuracy, per-class and macro precision/recall/F1, confusion, ROC/AUC."""

from __future__ import annotations

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
