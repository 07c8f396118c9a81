"""Compression reports: storage-vs-quality front, ROC curves of original vs compressed, tables (Markdown, HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from biowear.compress.points import CONTROL, CompressionPoint, quality_at_loss, reference_quality  # noqa: E402
from biowear.report.checks import majority_warning  # noqa: E402
from biowear.report.figures import (  # noqa: E402
    FigureRecord,
    ReportContext,
    decorate,
    label_points,
    readable_log_x,
    records_dict,
    reference_line,
    save_figure,
)
from biowear.report.html import markdown_to_html  # noqa: E402
from biowear.search.pareto import pareto_mask  # noqa: E402
from biowear.train.artifacts import write_json  # noqa: E402
from biowear.train.metrics import Metrics, lower_is_better  # noqa: E402


def _title(context: ReportContext | None, measure: str) -> str:
    return context.title(measure) if context is not None else f"test {measure}"


def front_mask(points: Sequence[CompressionPoint], metric: str) -> list[bool]:
    """Which points are on the storage-vs-quality front (the best quality at each storage)."""
    sign = -1.0 if lower_is_better(metric) else 1.0
    return list(pareto_mask([sign * p.quality for p in points], [p.storage_bytes for p in points]))


def point_tag(point: CompressionPoint) -> str:
    """The short label of a front point on the plot (the method is in the legend): ``s=0.8 q=4``, ``int8``,
    ``fp32`` for the original, ``fp32+ft`` for the control arm."""
    if point.method == "original":
        return "fp32"
    if point.method == CONTROL:
        return "fp32+ft"
    parts = ["int8"] if point.method.startswith("int8") else []
    if point.sparsity:
        parts.append(f"s={point.sparsity:g}")
    if point.bits and not point.method.startswith("int8"):
        parts.append(f"q={point.bits}")
    return " ".join(parts) or point.method


def front_figure(
    points: Sequence[CompressionPoint],
    metric: str,
    synthetic: bool,
    context: ReportContext | None = None,
    max_loss: float | None = None,
) -> Figure:
    """Quality vs storage of every variant, one colour per method, the front's points labelled with their
    sparsity/bits; horizontal lines for the original's quality and, with ``max_loss``, for the loss budget (the
    lowest quality the chosen variant may have: the loss reference minus ``max_loss``)."""
    mask = front_mask(points, metric)
    fig, ax = plt.subplots(figsize=(9.0, 4.8))
    for m in sorted({p.method for p in points}):
        sel = [p for p in points if p.method == m]
        ax.scatter([p.storage_bytes / 1e3 for p in sel], [p.quality for p in sel], s=22, label=m)
    front = sorted((p for p, keep in zip(points, mask) if keep), key=lambda p: p.storage_bytes)
    xs, ys = [p.storage_bytes / 1e3 for p in front], [p.quality for p in front]
    ax.plot(xs, ys, "k--", lw=1, label="Pareto front")
    original = points[0]
    unit = original.loss_unit
    reference_line(ax, original.quality, f"original ({original.quality:.4f})", style=":", color="tab:green")
    if max_loss is not None:
        reference = reference_quality(points, metric)
        budget = quality_at_loss(reference, max_loss, metric)
        against = "original" if reference == original.quality else CONTROL
        reference_line(ax, budget, f"loss budget: {max_loss:g} {unit} below {against} ({budget:.4f})", color="tab:red")
    readable_log_x(ax)
    label_points(ax, xs, ys, [point_tag(p) for p in front])
    ax.set_xlabel("storage (kB, log)")
    ax.set_ylabel(metric if unit in ("pp", "r") else f"{metric} ({unit})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # beside, off the points
    ax.set_title("compressed variants: quality vs storage", fontsize=9)
    decorate(fig, _title(context, metric), synthetic)
    return fig


def roc_panels(metrics: Metrics) -> list[int]:
    """The classes that get a ROC panel: the positive (second) class only for a binary task, every class
    (one vs rest) otherwise."""
    return [1] if len(metrics.classes) == 2 else list(range(len(metrics.classes)))


def roc_figure(
    points: Sequence[CompressionPoint],
    chosen: CompressionPoint | None,
    synthetic: bool,
    context: ReportContext | None = None,
    front: Sequence[CompressionPoint] = (),
) -> Figure:
    """ROC curves of the original, the chosen and the smallest front variant: one panel for a binary task (its
    positive class), one-vs-rest panels otherwise."""
    original = points[0]
    assert isinstance(original.metrics, Metrics)
    shown = [original]
    for extra in (chosen, front[0] if front else None):  # the chosen variant and the smallest on the front
        if extra is not None and all(extra is not p for p in shown):
            shown.append(extra)
    classes = original.metrics.classes
    panels = roc_panels(original.metrics)
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(3.8 * ncols, 5.0), 3.6 * nrows + 0.6), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[len(panels) :]:
        ax.set_visible(False)
    for k, ax in zip(panels, flat):
        for p in shown:
            m = p.metrics
            roc = m.roc[k] if isinstance(m, Metrics) else None
            if isinstance(m, Metrics) and roc is not None:
                ax.plot(roc[0], roc[1], label=f"{p.label()} (AUC {m.auc[k]:.3f})")
        ax.plot([0, 1], [0, 1], c="0.7", lw=0.8)
        rest = classes[0] if len(classes) == 2 else "rest"
        ax.set_title(f"class {classes[k]} vs {rest}", fontsize=9)
        ax.set_xlabel("false-positive rate")
        ax.legend(fontsize=6, loc="lower right")
    for row in axes:
        row[0].set_ylabel("true-positive rate")
    decorate(fig, _title(context, "ROC, original and compressed"), synthetic)
    return fig


def render_compression_report(
    points: Sequence[CompressionPoint],
    out_dir: Path,
    metric: str,
    chosen: CompressionPoint | None,
    synthetic: bool,
    max_loss: float | None = None,
    context: ReportContext | None = None,
) -> Path:
    """Write ``front.png``, ``roc.png`` (classification), ``compression.md``, ``compression.html`` and
    ``compression.json``; returns the Markdown path.

    The quality loss is in percentage points (``loss_pp``), or for an error metric such as MAE in the target's
    unit (``loss``, with ``loss_unit``). ``max_loss`` is the budget the chosen variant was picked with
    (:func:`~biowear.compress.points.best_within_loss`); the front shows it as a line. ``compression.json``
    records what each figure shows (``figures``) and the report's warnings (``warnings``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    mask = front_mask(points, metric)
    front = sorted((p for p, keep in zip(points, mask) if keep), key=lambda p: p.storage_bytes)
    figures = [save_figure(front_figure(points, metric, synthetic, context, max_loss), out_dir / "front.png")]
    classification = isinstance(points[0].metrics, Metrics)
    if classification:
        figures.append(save_figure(roc_figure(points, chosen, synthetic, context, front), out_dir / "roc.png"))
    unit = points[0].loss_unit
    loss_key = "loss_pp" if unit == "pp" else "loss"
    rows = [
        {
            "variant": p.label(),
            "quality": round(p.quality, 4),
            loss_key: round(p.quality_loss, 3),
            "storage_kB": round(p.storage_bytes / 1e3, 2),
            "compression_x": round(p.compression, 2),
            "MMACs": round(p.macs / 1e6, 3),
            "effective_MMACs": round(p.effective_macs / 1e6, 3),
            "latency_ms": round(p.latency_ms, 3),
            "pareto": bool(keep),
        }
        for p, keep in zip(points, mask)
    ]
    warnings = []
    if classification:
        majority = majority_warning((p.metrics.to_dict() for p in points if isinstance(p.metrics, Metrics)), "variant")
        if majority:
            warnings.append(majority)
    doc = {
        "metric": metric,
        "loss_unit": unit,
        "chosen": chosen.label() if chosen else None,
        "max_loss": max_loss,
        "points": rows,
        "figures": records_dict(figures),
        "warnings": warnings,
    }
    write_json(out_dir / "compression.json", doc)
    md = _markdown(rows, metric, unit, chosen, max_loss, warnings, figures, synthetic, context)
    (out_dir / "compression.md").write_text(md)
    (out_dir / "compression.html").write_text(markdown_to_html(md, f"Compression report ({metric})"))
    return out_dir / "compression.md"


def _markdown(
    rows: list[dict[str, object]],
    metric: str,
    unit: str,
    chosen: CompressionPoint | None,
    max_loss: float | None,
    warnings: list[str],
    figures: list[FigureRecord],
    synthetic: bool,
    context: ReportContext | None,
) -> str:
    lines = [f"# Compression report ({metric})", ""]
    if synthetic:
        lines += ["**SYNTHETIC DATA — no accuracy claim.**", ""]
    if context is not None:
        lines += [f"Data: {context.dataset}, {context.split}; {context.subject}.", ""]
    for warning in warnings:
        lines += [warning, ""]
    budget = f" of {max_loss:g} {unit}" if max_loss is not None else ""
    if chosen is not None:
        lines += [
            f"Most compressed variant within the loss budget{budget}: **{chosen.label()}**, {chosen.compression:.1f}x "
            f"smaller than fp32 at {chosen.quality_loss:+.2f} {unit}.",
            "",
        ]
    elif max_loss is not None:
        lines += [f"No compressed variant stays within the loss budget{budget}.", ""]
    keys = list(rows[0])
    lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    lines += [""]
    for fig in figures:
        lines += [f"![{fig.file.removesuffix('.png')}]({fig.file})", ""]
    return "\n".join(lines)
