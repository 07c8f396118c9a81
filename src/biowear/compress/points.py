"""Measured compression variants: :class:`CompressionPoint`, their labels and the choice within a loss budget.

Quality loss is always "how much worse" (positive = worse than the original network): percentage points of a
ratio metric (``100 * (original - new)`` for accuracy, F1, ...), and the plain difference ``new - original``
in the target's unit for an error metric that is lower-is-better (MAE, RMSE of a regression).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from biowear.train.metrics import Metrics, RegressionMetrics, lower_is_better

#: The method name of the control arm: the original fine-tuned like the variants, nothing compressed.
CONTROL = "original+finetune"

#: Metrics whose loss is a plain difference of unitless values (not percentage points).
_UNITLESS = frozenset({"pearson_r"})


@dataclass(frozen=True)
class CompressionPoint:
    """One compressed variant and what it costs and buys.

    Attributes:
        method: the variant's kind (``original``, ``kmeans``, ``prune-global+kmeans``, ``int8-ptq``, ...).
        sparsity: unstructured sparsity or structured channel ratio (0: not pruned).
        bits: k-means bits (8 for int8), None when not quantised.
        quality: the quality metric on the test split.
        quality_loss: how much worse than the original, in ``loss_unit`` (positive = worse).
        metrics: every test metric.
        storage_bytes: exact stored size; compression: original float32 size / storage_bytes.
        macs, effective_macs: multiply-accumulates per inference, all and non-zero-weight ones.
        latency_ms: median CPU latency of a batch of one; latency_iqr_ms: its interquartile range.
        loss_unit: ``pp`` (percentage points), the target's unit (e.g. ``BPM``) or ``r``.
    """

    method: str
    sparsity: float
    bits: int | None
    quality: float
    quality_loss: float
    metrics: Metrics | RegressionMetrics
    storage_bytes: float
    compression: float
    macs: int
    effective_macs: int
    latency_ms: float
    loss_unit: str = "pp"
    latency_iqr_ms: float = 0.0

    def label(self) -> str:
        return self.make_label(self.method, self.sparsity, self.bits)

    @property
    def quality_loss_pp(self) -> float:
        """The quality loss under its first name (percentage points for classification metrics)."""
        return self.quality_loss

    @staticmethod
    def make_label(method: str, sparsity: float, bits: int | None) -> str:
        parts = [method]
        if sparsity:
            parts.append(f"s={sparsity:g}")
        if bits and not method.startswith("int8"):
            parts.append(f"q={bits}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the line a resumable run writes)."""
        return {
            "method": self.method,
            "sparsity": self.sparsity,
            "bits": self.bits,
            "quality": self.quality,
            "quality_loss": self.quality_loss,
            "metrics": self.metrics.to_dict(with_roc=True) if isinstance(self.metrics, Metrics) else _reg(self.metrics),
            "storage_bytes": self.storage_bytes,
            "compression": self.compression,
            "macs": self.macs,
            "effective_macs": self.effective_macs,
            "latency_ms": self.latency_ms,
            "latency_iqr_ms": self.latency_iqr_ms,
            "loss_unit": self.loss_unit,
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> CompressionPoint:
        """Inverse of :meth:`to_dict` (also reads the first format, whose loss was ``quality_loss_pp``)."""
        fields = dict(d)
        if "quality_loss_pp" in fields:
            fields["quality_loss"] = fields.pop("quality_loss_pp")
        m = dict(fields["metrics"])
        if "mae" in m:
            fields["metrics"] = RegressionMetrics(
                **{k: m[k] for k in ("mae", "rmse", "pearson_r", "within_5", "n", "target_mean")}
            )
        else:
            m.pop("macro_auc", None)
            fields["metrics"] = Metrics(**m)
        return CompressionPoint(**fields)


def _reg(metrics: RegressionMetrics) -> dict[str, Any]:
    d = metrics.to_dict()
    d.pop("task", None)
    return d


def quality_loss(original: float, new: float, metric: str, unit: str = "") -> tuple[float, str]:
    """How much worse ``new`` is than ``original`` (positive = worse), and the loss's unit.

    Args:
        metric: the metric's name; error metrics (MAE, RMSE) are lower-is-better.
        unit: the regression target's unit (e.g. ``BPM``), the unit of an error metric's loss.

    Returns:
        ``(new - original, unit or "units")`` for an error metric, ``(original - new, "r")`` for Pearson r, else
        ``(100 * (original - new), "pp")``.
    """
    if lower_is_better(metric):
        return new - original, unit or "units"
    if metric in _UNITLESS:
        return original - new, "r"
    return 100 * (original - new), "pp"


def best_within_loss(points: Sequence[CompressionPoint], max_loss: float) -> CompressionPoint | None:
    """The most compressed point whose quality loss is at most ``max_loss`` (in the points' loss unit:
    percentage points, or the target's unit for an error metric). The control arm (``original+finetune``) is a
    reference, never a chosen variant."""
    ok = [p for p in points if p.quality_loss <= max_loss + 1e-12 and p.method != CONTROL]
    return max(ok, key=lambda p: p.compression) if ok else None


def reference_quality(points: Sequence[CompressionPoint], metric: str) -> float:
    """The quality every loss of ``points`` is measured against: the better of the original (the first point) and
    the control arm when there is one (see :func:`against_best_reference`), else the original's."""
    refs = [p.quality for p in points if p.method in ("original", CONTROL)]
    if len(refs) < 2:
        return points[0].quality
    return min(refs) if lower_is_better(metric) else max(refs)


def quality_at_loss(reference: float, loss: float, metric: str) -> float:
    """The quality that is exactly ``loss`` worse than ``reference`` (the inverse of :func:`quality_loss`): the
    quality a loss budget allows, e.g. ``0.95 - 0.2 / 100`` for accuracy and a 0.2 pp budget."""
    if lower_is_better(metric):
        return reference + loss
    if metric in _UNITLESS:
        return reference - loss
    return reference - loss / 100


def against_best_reference(points: Sequence[CompressionPoint], metric: str, unit: str = "") -> list[CompressionPoint]:
    """``points`` with every quality loss measured against the better of the original (the first point) and the
    control arm (the original fine-tuned for the same budget, method ``original+finetune``) when there is one,
    so that fine-tuning alone is not credited to compression."""
    from dataclasses import replace

    if sum(1 for p in points if p.method in ("original", CONTROL)) < 2:
        return list(points)
    reference = reference_quality(points, metric)
    return [replace(p, quality_loss=quality_loss(reference, p.quality, metric, unit)[0]) for p in points]
