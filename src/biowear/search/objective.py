"""The exploration objective: weighted quality/hardware cost, or two objectives for NSGA-II/SPEA-2.

BioNetExplorer (Prabakaran et al. 2021, Algorithm 1): phi = alpha * Q + beta * H, alpha + beta = 1, with Q
a quality metric of the trained network and H = 1 - value / max(value over the space) for storage or FLOPs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from biowear.errors import ConfigError

QUALITY_METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "precision", "recall", "f1")
HARDWARE_MEASURES: tuple[str, ...] = ("storage", "flops")
MODES: tuple[str, ...] = ("weighted", "multi")


@dataclass(frozen=True)
class Objective:
    """What the search maximises.

    Args:
        metric: ``accuracy``, ``macro_f1``, or ``precision``/``recall``/``f1`` of ``target_class``.
        target_class: class name for the per-class metrics.
        alpha, beta: weights of quality and hardware score (sum 1; paper: (0.5, 0.5), (0.2, 0.8), (0.8, 0.2)).
        hardware: ``storage`` or ``flops``.
        mode: ``weighted`` (scalar phi) or ``multi`` (quality and hardware score as two objectives;
            only for ``nsga2`` and ``spea2``).
    """

    metric: str = "accuracy"
    target_class: str | None = None
    alpha: float = 0.5
    beta: float = 0.5
    hardware: str = "storage"
    mode: str = "weighted"

    def __post_init__(self) -> None:
        if self.metric not in QUALITY_METRICS:
            raise ConfigError(
                f"unknown quality metric {self.metric!r}; valid options are: {', '.join(QUALITY_METRICS)}"
            )
        if self.metric in ("precision", "recall", "f1") and not self.target_class:
            raise ConfigError(f"metric {self.metric!r} is per class: name the class (target_class)")
        if self.hardware not in HARDWARE_MEASURES:
            raise ConfigError(f"unknown hardware measure {self.hardware!r}; valid options are: storage, flops")
        if self.mode not in MODES:
            raise ConfigError(f"unknown objective mode {self.mode!r}; valid options are: weighted, multi")
        if min(self.alpha, self.beta) < 0 or abs(self.alpha + self.beta - 1) > 1e-9:
            raise ConfigError(f"alpha and beta must be non-negative and sum to 1, got {self.alpha} and {self.beta}")

    def quality(self, metrics: Mapping[str, object]) -> float:
        """The chosen quality metric from a metrics dictionary (see :meth:`Metrics.to_dict`)."""
        if self.metric in ("accuracy", "macro_f1"):
            return float(metrics[self.metric])  # type: ignore[arg-type]
        classes = list(metrics["classes"])  # type: ignore[call-overload]
        if self.target_class not in classes:
            raise ConfigError(
                f"class {self.target_class!r} is not an output class; valid options are: {', '.join(classes)}"
            )
        return float(metrics[self.metric][classes.index(self.target_class)])  # type: ignore[index]

    @staticmethod
    def hardware_score(value: float, max_value: float) -> float:
        """H = 1 - value / max_value (1 for a free network, 0 for the largest of the space)."""
        return 1.0 - value / max_value if max_value > 0 else 0.0

    def phi(self, quality: float, hardware_score: float) -> float:
        return self.alpha * quality + self.beta * hardware_score

    def label(self) -> str:
        q = self.metric if self.target_class is None else f"{self.metric}({self.target_class})"
        if self.mode == "multi":
            return f"max {q}, min {self.hardware}"
        return f"{self.alpha:g}*{q} + {self.beta:g}*H_{self.hardware}"
