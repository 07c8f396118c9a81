"""Compression reports: storage-vs-quality front, ROC curves of original vs compressed, tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from biowear.compress.points import CompressionPoint  # noqa: E402
from biowear.search.pareto import pareto_mask  # noqa: E402
from biowear.train.artifacts import write_json
from biowear.train.metrics import Metrics, lower_is_better  # noqa: E402


def render_compression_report(
    points: Sequence[CompressionPoint], out_dir: Path, metric: str, chosen: CompressionPoint | None, synthetic: bool
) -> Path:
    """Write ``front.png``, ``roc.png`` (classification), ``compression.md`` and ``compression.json``; returns the
    Markdown path. The quality loss is in percentage points (``loss_pp``), or for an error metric such as MAE in
    the target's unit (``loss``, with ``loss_unit``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sign = -1.0 if lower_is_better(metric) else 1.0  # the front keeps the best quality at each storage
    mask = pareto_mask([sign * p.quality for p in points], [p.storage_bytes for p in points])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    methods = sorted({p.method for p in points})
    for m in methods:
        sel = [p for p in points if p.method == m]
        ax.scatter([p.storage_bytes / 1e3 for p in sel], [p.quality for p in sel], s=22, label=m)
    front = sorted((p for p, keep in zip(points, mask) if keep), key=lambda p: p.storage_bytes)
    ax.plot([p.storage_bytes / 1e3 for p in front], [p.quality for p in front], "k--", lw=1, label="Pareto front")
    ax.set_xscale("log")
    ax.set_xlabel("storage (kB, log)")
    unit = points[0].loss_unit
    ax.set_ylabel(metric if unit in ("pp", "r") else f"{metric} ({unit})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if synthetic:
        ax.set_title("SYNTHETIC DATA — no accuracy claim", color="darkorange")
    fig.tight_layout()
    fig.savefig(out_dir / "front.png", dpi=110)
    plt.close(fig)

    original = points[0]
    classification = isinstance(original.metrics, Metrics)
    if classification:
        _render_roc(points, out_dir, original, chosen, front)
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
    doc = {"metric": metric, "loss_unit": unit, "chosen": chosen.label() if chosen else None, "points": rows}
    write_json(out_dir / "compression.json", doc)
    lines = [f"# Compression report ({metric})", ""]
    if synthetic:
        lines += ["**SYNTHETIC DATA — no accuracy claim.**", ""]
    if chosen is not None:
        lines += [
            f"Most compressed variant within the loss budget: **{chosen.label()}**, {chosen.compression:.1f}x "
            f"smaller than fp32 at {chosen.quality_loss:+.2f} {unit}.",
            "",
        ]
    keys = list(rows[0])
    lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    lines += ["", "![front](front.png)", ""] + (["![roc](roc.png)", ""] if classification else [])
    (out_dir / "compression.md").write_text("\n".join(lines))
    return out_dir / "compression.md"


def _render_roc(
    points: Sequence[CompressionPoint],
    out_dir: Path,
    original: CompressionPoint,
    chosen: CompressionPoint | None,
    front: list[CompressionPoint],
) -> None:
    """``roc.png``: one-vs-rest ROC curves of the original, the chosen and the smallest front variant."""
    assert isinstance(original.metrics, Metrics)
    shown = [original]
    for extra in (chosen, front[0] if front else None):  # the chosen variant and the smallest on the front
        if extra is not None and all(extra is not p for p in shown):
            shown.append(extra)
    n_classes = len(original.metrics.classes)
    fig, axes = plt.subplots(1, n_classes, figsize=(3.4 * n_classes, 3.3), squeeze=False)
    for k, ax in enumerate(axes[0]):
        for p in shown:
            m = p.metrics
            roc = m.roc[k] if isinstance(m, Metrics) else None
            if isinstance(m, Metrics) and roc is not None:
                ax.plot(roc[0], roc[1], label=f"{p.label()} (AUC {m.auc[k]:.3f})")
        ax.plot([0, 1], [0, 1], c="0.7", lw=0.8)
        ax.set_title(f"class {original.metrics.classes[k]} vs rest", fontsize=9)
        ax.set_xlabel("false-positive rate")
        ax.legend(fontsize=6, loc="lower right")
    axes[0][0].set_ylabel("true-positive rate")
    fig.tight_layout()
    fig.savefig(out_dir / "roc.png", dpi=110)
    plt.close(fig)
