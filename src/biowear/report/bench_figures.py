"""Figures of the bench report: a metric per held-out subject (the app beside its baselines and chance) and the
confusion matrix of the pooled held-out windows. Both take the JSON form of a real-data
:class:`~biowear.bench.runner.BenchResult` (``per_subject``, ``baselines``, ``chance``, ``pooled``, ``classes``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from biowear.report.figures import decorate, reference_line  # noqa: E402

#: The per-subject metric drawn (mean recall of the classes present; chance is 1 / classes).
SUBJECT_METRIC = "balanced_accuracy"


def _short(subject: str, width: int = 8) -> str:
    return subject if len(subject) <= width else subject[:width] + "…"


def subject_figure(result: Mapping[str, Any], metric: str = SUBJECT_METRIC) -> Figure:
    """Bars of ``metric`` per held-out subject for the app, the scikit-learn baseline and the majority class,
    with the chance level as a labelled line."""
    per = result["per_subject"]
    subjects = list(per)
    series = [("app", per)] + [
        (name, result["baselines"][name]["per_subject"])
        for name in ("sklearn", "majority")
        if name in result["baselines"]
    ]
    fig, ax = plt.subplots(figsize=(min(11.0, max(5.0, 0.22 * len(subjects) * len(series) + 2)), 3.4))
    width = 0.8 / len(series)
    x = np.arange(len(subjects))
    for k, (name, values) in enumerate(series):
        ys = [float(values.get(s, {}).get(metric, np.nan)) for s in subjects]
        ax.bar(x + (k - (len(series) - 1) / 2) * width, ys, width, label=name)
    k_classes = len(result.get("classes") or []) or 2
    reference_line(ax, 1.0 / k_classes, f"chance (1/{k_classes})")
    ax.set_xticks(x, [_short(s) for s in subjects], rotation=45 if len(subjects) > 6 else 0, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_xlabel("held-out subject")
    ax.legend(fontsize=7, ncol=4, loc="lower right")
    decorate(
        fig, f"{result['dataset']} · {result['app']} · {result['split']} {metric.replace('_', ' ')} per subject", False
    )
    return fig


def confusion_figure(result: Mapping[str, Any]) -> Figure:
    """The pooled confusion matrix (rows: reference class, columns: decision), counts written in the cells."""
    conf = np.asarray(result["pooled"]["confusion"], dtype=float)
    classes = list(result.get("classes") or range(len(conf)))
    size = 2.2 + 0.45 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    shares = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{int(conf[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.6 else "black")  # fmt: skip
    labels = [str(c).replace("_", " ") for c in classes]
    ax.set_xticks(range(len(classes)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), labels, fontsize=7)
    ax.set_xlabel("decision")
    ax.set_ylabel("reference")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the reference row")
    decorate(fig, f"{result['dataset']} · {result['app']} · {result['split']} confusion (pooled)", False)
    return fig
