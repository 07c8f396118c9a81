"""What a model predicts: classes (classification) or one continuous target (regression).

The task travels with the prepared data into :func:`biowear.train.fit` (cross-entropy or L1/MSE), the
metrics (accuracy/F1/ROC or MAE/RMSE/Pearson r), the exploration objective, compression's quality loss, the
reports and the saved model file, so a regression network is never scored as a classifier or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from biowear.errors import ConfigError
from biowear.registry import Registry

TASK_KINDS: Registry[str] = Registry("task kind")
TASK_KINDS.register("classification", "one class per window (labels are class indices)")
TASK_KINDS.register("regression", "one continuous value per window (e.g. heart rate in BPM)")


@dataclass(frozen=True)
class Task:
    """The prediction task of a dataset and of every model trained on it.

    Args:
        kind: ``classification`` or ``regression``.
        classes: class names in output order (classification; at least two).
        target: name of the predicted quantity (regression), e.g. ``"heart_rate"``.
        unit: unit of the target (regression), e.g. ``"BPM"``; used in reports.

    Raises:
        ConfigError: unknown kind, fewer than two or duplicate classes, or classes given for regression.
    """

    kind: str = "classification"
    classes: tuple[str, ...] = ()
    target: str = "target"
    unit: str = ""

    def __post_init__(self) -> None:
        TASK_KINDS.get(self.kind)
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        if self.kind == "classification":
            if len(self.classes) < 2:
                raise ConfigError(f"a classification task needs at least two classes, got {list(self.classes)}")
            if len(set(self.classes)) != len(self.classes):
                raise ConfigError(f"duplicate class names: {list(self.classes)}")
        elif self.classes:
            raise ConfigError("a regression task has no classes; give target (and unit) instead")

    @staticmethod
    def classification(classes: tuple[str, ...] | list[str]) -> Task:
        return Task("classification", tuple(classes))

    @staticmethod
    def regression(target: str = "target", unit: str = "") -> Task:
        return Task("regression", (), target, unit)

    @property
    def is_regression(self) -> bool:
        return self.kind == "regression"

    @property
    def n_outputs(self) -> int:
        """Width of the network's output layer: one logit per class, or one value."""
        return 1 if self.is_regression else len(self.classes)

    @property
    def default_metric(self) -> str:
        """The quality metric used when none is named: accuracy, or MAE for regression."""
        return "mae" if self.is_regression else "accuracy"

    def label(self) -> str:
        if self.is_regression:
            return f"regression of {self.target}" + (f" ({self.unit})" if self.unit else "")
        return f"classification into {', '.join(self.classes)}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "classes": list(self.classes), "target": self.target, "unit": self.unit}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Task:
        unknown = sorted(set(d) - {"kind", "classes", "target", "unit"})
        if unknown:
            raise ConfigError(
                f"task has unknown key(s) {', '.join(unknown)}; valid keys are: classes, kind, target, unit"
            )
        return Task(
            str(d.get("kind", "classification")),
            tuple(d.get("classes", ())),
            d.get("target", "target"),
            d.get("unit", ""),
        )
