"""The exploration objective: weighted quality/hardware cost, or two objectives for NSGA-II/SPEA-2.

BioNetExplorer (Prabakaran et al. 2021, Algorithm 1): phi = alpha * Q + beta * H, alpha + beta = 1, with Q
a quality metric of the trained network and H = 1 - value / max(value over the space) for storage or FLOPs.

Quality is any :func:`biowear.train.metrics.metric_value` name. A higher-is-better metric (accuracy, F1, Pearson
r, within_5) is Q itself. A lower-is-better error (MAE, RMSE) is normalised like H, as a skill score against a
reference error: ``Q = max(0, 1 - error / reference)``. The reference is :attr:`Objective.reference` when given,
else the error of the constant predictor (the training targets' mean) on the test split, which depends only on
the data and split, so fitness and fronts are identical whether a study runs at once or is resumed. Q = 1 is a
perfect network, Q = 0 one no better than predicting the mean. Fronts and hypervolumes use Q (higher is
better); reports show the raw metric with its direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from biowear.cost import CostReport
from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.train.metrics import QUALITY_METRICS as CLASSIFICATION_METRICS
from biowear.train.metrics import REGRESSION_METRICS, lower_is_better, metric_value
from biowear.validate import Interval, Options, Rule, check

#: Whole-network metrics; the per-class ones (precision, recall, f1) need ``target_class`` or ``f1:<class>``.
QUALITY_METRICS: tuple[str, ...] = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
PER_CLASS: tuple[str, ...] = ("precision", "recall", "f1")

#: Hardware measure name -> its value (bytes, FLOPs) from a cost report.
HARDWARE_MEASURES: Registry[Callable[[CostReport], float]] = Registry("hardware measure")
HARDWARE_MEASURES.register("storage", lambda cost: float(cost.storage_bytes(32)))
HARDWARE_MEASURES.register("flops", lambda cost: float(cost.flops))

#: Objective mode -> number of objectives a strategy optimises.
MODES: Registry[int] = Registry("objective mode")
MODES.register("weighted", 1)
MODES.register("multi", 2)


@dataclass(frozen=True)
class Objective:
    """What the search maximises.

    Args:
        metric: a :func:`~biowear.train.metrics.metric_value` name (``accuracy``, ``macro_f1``, ``f1:<class>``,
            ``mae``, ...), or ``precision``/``recall``/``f1`` together with ``target_class``.
        target_class: class name for the per-class metrics.
        alpha, beta: weights of quality and hardware score (sum 1; paper: (0.5, 0.5), (0.2, 0.8), (0.8, 0.2)).
        hardware: a :data:`HARDWARE_MEASURES` name (``storage`` or ``flops``).
        mode: ``weighted`` (scalar phi) or ``multi`` (quality and hardware score as two objectives;
            for the multi-objective strategies: ``nsga2``, ``spea2`` and ``asha``).
        reference: for a lower-is-better metric, the error that scores Q = 0 (default: the constant
            predictor's error on the test split; see the module docstring).
    """

    metric: str = "accuracy"
    target_class: str | None = None
    alpha: float = 0.5
    beta: float = 0.5
    hardware: str = "storage"
    mode: str = "weighted"
    reference: float | None = None

    RULES: ClassVar[dict[str, Rule]] = {
        "alpha": Interval(float, 0, 1),
        "beta": Interval(float, 0, 1),
        "hardware": Options(HARDWARE_MEASURES.names),
        "mode": Options(MODES.names),
        "reference": Interval(float, 0, None, closed="neither", optional=True),
    }

    def __post_init__(self) -> None:
        kind = self.metric.partition(":")[0]
        if kind not in QUALITY_METRICS or (":" in self.metric and kind not in PER_CLASS):
            raise ConfigError(
                f"unknown quality metric {self.metric!r}; valid options are: {', '.join(QUALITY_METRICS)} "
                "(per class: precision, recall, f1 with target_class, or f1:<class>)"
            )
        if kind in PER_CLASS and ":" not in self.metric and not self.target_class:
            raise ConfigError(f"metric {self.metric!r} is per class: name the class (target_class)")
        if ":" in self.metric and self.target_class:
            raise ConfigError(f"metric {self.metric!r} names its class already; leave target_class empty")
        HARDWARE_MEASURES.get(self.hardware)
        MODES.get(self.mode)
        check(self, self.RULES)
        if abs(self.alpha + self.beta - 1) > 1e-9:
            raise ConfigError(f"alpha and beta must be non-negative and sum to 1, got {self.alpha} and {self.beta}")

    @property
    def metric_name(self) -> str:
        """The :func:`~biowear.train.metrics.metric_value` name (``f1`` + class ``N`` is ``f1:N``)."""
        return f"{self.metric}:{self.target_class}" if self.target_class else self.metric

    @property
    def lower_is_better(self) -> bool:
        return lower_is_better(self.metric_name)

    @property
    def n_objectives(self) -> int:
        return MODES.get(self.mode)

    def check_metrics(self, valid: Iterable[str]) -> None:
        """Raise :class:`ConfigError` unless the metric is among ``valid`` (e.g. :func:`metric_names` of the task)."""
        names = list(valid)
        if self.metric_name not in names:
            raise ConfigError(
                f"quality metric {self.metric_name!r} does not exist for this task; valid options are: "
                f"{', '.join(names)}"
            )

    def quality(self, metrics: Mapping[str, object]) -> float:
        """The raw metric value (in its own direction) from a metrics dictionary."""
        return metric_value(metrics, self.metric_name)

    def score(self, value: float, reference: float | None = None) -> float:
        """Q, higher is better: ``value`` itself, or for an error ``max(0, 1 - value / reference)``.

        Args:
            reference: the error scoring 0 when :attr:`reference` is not set.
        """
        if not self.lower_is_better:
            return value
        ref = self.reference if self.reference is not None else reference
        if ref is None or not ref > 0:
            raise ConfigError(f"metric {self.metric_name} is lower-is-better: it needs a positive reference error")
        return max(0.0, 1.0 - value / ref)

    @staticmethod
    def hardware_score(value: float, max_value: float) -> float:
        """H = 1 - value / max_value (1 for a free network, 0 for the largest of the space)."""
        return 1.0 - value / max_value if max_value > 0 else 0.0

    def phi(self, quality: float, hardware_score: float) -> float:
        return self.alpha * quality + self.beta * hardware_score

    def label(self) -> str:
        q = self.metric if self.target_class is None else f"{self.metric}({self.target_class})"
        if self.lower_is_better:
            q = f"Q_{q} (1 - {self.metric}/reference)"
        if self.mode == "multi":
            return f"max {q}, min {self.hardware}"
        return f"{self.alpha:g}*{q} + {self.beta:g}*H_{self.hardware}"

    def direction(self) -> str:
        """``lower is better`` or ``higher is better`` (for reports)."""
        return "lower is better" if self.lower_is_better else "higher is better"


def constant_predictor_error(metric: str, y_train: Sequence[float], y_test: Sequence[float]) -> float:
    """The error (``mae`` or ``rmse``) on ``y_test`` of always predicting the mean of ``y_train``: the default
    reference of a lower-is-better objective.

    Raises:
        ConfigError: ``metric`` is not an error metric, or a part is empty.
    """
    train, test = np.asarray(y_train, dtype=np.float64), np.asarray(y_test, dtype=np.float64)
    if not len(train) or not len(test):
        raise ConfigError("the constant-predictor reference needs training and test targets")
    residual = test - train.mean()
    errors = {"mae": lambda r: float(np.mean(np.abs(r))), "rmse": lambda r: float(np.sqrt(np.mean(r**2)))}
    if metric not in errors:
        raise ConfigError(f"no constant-predictor reference for {metric!r}; valid options are: mae, rmse")
    return errors[metric](residual)
