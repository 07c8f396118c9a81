"""Hardware and quality limits of an exploration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from biowear.cost import CostReport
from biowear.validate import Interval, Rule, check

_POSITIVE = Interval(float, 0, None, closed="neither", optional=True)


@dataclass(frozen=True)
class Constraints:
    """Hardware and quality limits; None means unconstrained.

    Args:
        max_storage_bytes: fp32 weight storage (parameters + batch-norm statistics).
        max_flops: FLOPs per inference.
        max_peak_ram_bytes: peak activation RAM (fp32) for layer-by-layer execution.
        max_params: trainable parameters.
        min_quality: lowest acceptable value of a higher-is-better quality metric (accuracy, F1, Pearson r,
            within_5), in (0, 1]; checked after training.
        max_error: highest acceptable value of a lower-is-better metric (MAE, RMSE), in the target's unit.
    """

    max_storage_bytes: float | None = None
    max_flops: float | None = None
    max_peak_ram_bytes: float | None = None
    max_params: float | None = None
    min_quality: float | None = None
    max_error: float | None = None

    RULES: ClassVar[dict[str, Rule]] = {
        "max_storage_bytes": _POSITIVE,
        "max_flops": _POSITIVE,
        "max_peak_ram_bytes": _POSITIVE,
        "max_params": _POSITIVE,
        "min_quality": Interval(float, 0, 1, closed="right", optional=True),
        "max_error": _POSITIVE,
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)

    def hardware_violation(self, cost: CostReport) -> str | None:
        """A sentence naming the first violated hardware limit, or None."""
        checks = (
            ("storage", cost.storage_bytes(32), self.max_storage_bytes, "B"),
            ("FLOPs", cost.flops, self.max_flops, ""),
            ("peak RAM", cost.peak_activation_bytes(32), self.max_peak_ram_bytes, "B"),
            ("parameters", cost.params, self.max_params, ""),
        )
        for name, value, limit, unit in checks:
            if limit is not None and value > limit:
                return f"{name} {value:,.0f}{unit} > {limit:,.0f}{unit}"
        return None

    def quality_violation(self, value: float, lower_is_better: bool) -> str | None:
        """Why a trained network's raw metric ``value`` misses the quality limit, or None."""
        if lower_is_better and self.max_error is not None and value > self.max_error:
            return f"error {value:g} > max_error {self.max_error:g}"
        if not lower_is_better and self.min_quality is not None and value < self.min_quality:
            return f"quality {value:g} < min_quality {self.min_quality:g}"
        return None
