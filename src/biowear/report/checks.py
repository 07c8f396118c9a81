"""Checks a report states in words: networks that learned nothing beyond the majority class.

The rule (:func:`at_majority_rate`): a classifier "sits at the majority-class rate" when, on the evaluated split,
it predicts one class for every window, or its accuracy is within :data:`MAJORITY_TOLERANCE` (0.5 percentage
points) of the majority class's share of that split. The share comes from the split's true class counts
(``support``), the predictions from the confusion matrix's columns. A report warns when *every* network it
shows sits there: its ranking then measures storage alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Accuracy within this distance of the majority-class share counts as "at the majority-class rate".
MAJORITY_TOLERANCE = 0.005


@dataclass(frozen=True)
class MajorityCheck:
    """How one network's test accuracy compares with always answering the majority class.

    Attributes:
        accuracy: the network's accuracy on the split.
        majority_share: the share of the split's most frequent class.
        majority_class: that class's name.
        predicted_classes: how many classes the network predicted at least once.
    """

    accuracy: float
    majority_share: float
    majority_class: str
    predicted_classes: int

    @property
    def at_majority_rate(self) -> bool:
        return self.predicted_classes <= 1 or abs(self.accuracy - self.majority_share) <= MAJORITY_TOLERANCE


def majority_check(metrics: Mapping[str, Any]) -> MajorityCheck | None:
    """The check of one classification metrics dict (``support``, ``confusion``, ``accuracy``, ``classes``);
    None for regression metrics or an empty split."""
    support = metrics.get("support")
    confusion = metrics.get("confusion")
    if support is None or confusion is None or "accuracy" not in metrics:
        return None
    counts = [int(c) for c in support]
    total = sum(counts)
    if total == 0:
        return None
    top = max(range(len(counts)), key=counts.__getitem__)
    predicted = [sum(int(row[k]) for row in confusion) for k in range(len(counts))]
    classes = list(metrics.get("classes") or range(len(counts)))
    return MajorityCheck(
        accuracy=float(metrics["accuracy"]),
        majority_share=counts[top] / total,
        majority_class=str(classes[top]),
        predicted_classes=sum(1 for n in predicted if n > 0),
    )


def at_majority_rate(metrics: Mapping[str, Any]) -> bool:
    """True when the network of ``metrics`` sits at the majority-class rate (see the module's rule)."""
    check = majority_check(metrics)
    return check is not None and check.at_majority_rate


def majority_warning(all_metrics: Iterable[Mapping[str, Any]], what: str = "network") -> str | None:
    """A one-paragraph Markdown warning when every classifier of ``all_metrics`` sits at the majority-class rate;
    None when one of them does better, for regression, or when there is nothing to check."""
    checks = [majority_check(m) for m in all_metrics]
    if not checks or any(c is None for c in checks):
        return None
    if not all(c.at_majority_rate for c in checks if c is not None):
        return None
    first = checks[0]
    assert first is not None
    return (
        f"**Warning:** every {what} sits at the majority-class rate: it predicts one class only, or its accuracy "
        f"is within {100 * MAJORITY_TOLERANCE:g} pp of the share of class {first.majority_class} in the test "
        f"split ({100 * first.majority_share:.1f}%). These networks have learned little beyond the class "
        'balance; train longer, balance the classes (class_weighting = "balanced") or use more data before '
        "reading the trade-off."
    )
