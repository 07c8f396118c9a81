"""Exploration reports: plots of evaluated networks, Pareto fronts and strategy selections; tables."""

from __future__ import annotations

import html
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from biowear.search.pareto import hypervolume, pareto_mask  # noqa: E402
from biowear.search.study import StrategyResult, Study  # noqa: E402
from biowear.train.artifacts import write_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComparisonRow:
    """One strategy against the exhaustive reference."""

    strategy: str
    n_trained: int
    exploration_time_s: float
    hypervolume: float
    hypervolume_ratio: float | None
    time_reduction: float | None
    best_phi: float | None


def compare_rows(results: dict[str, StrategyResult], reference: str = "exhaustive") -> list[ComparisonRow]:
    """Rows of the strategy comparison; ratios are against ``reference`` when it was run."""
    ref = results.get(reference)
    rows = []
    for name, r in results.items():
        hv_ratio = r.hypervolume / ref.hypervolume if ref and ref.hypervolume > 0 else None
        reduction = ref.exploration_time_s / r.exploration_time_s if ref and r.exploration_time_s > 0 else None
        rows.append(
            ComparisonRow(
                name,
                r.n_trained,
                r.exploration_time_s,
                r.hypervolume,
                hv_ratio,
                reduction,
                r.best.phi if r.best else None,
            )
        )
    return rows


def _axis_label(study: Study) -> str:
    """The quality axis: the raw metric, with its direction when lower is better."""
    objective = study.config.objective
    return f"{objective.metric_name} ({objective.direction()})" if objective.lower_is_better else objective.metric


def _scatter(study: Study, results: dict[str, StrategyResult], path: Path, synthetic: bool) -> None:
    everything = study.all_points()
    hw_name = study.config.objective.hardware
    scale, unit = (1e3, "kB") if hw_name == "storage" else (1e6, "MFLOPs")
    n = max(len(results), 1)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.6 * nrows), squeeze=False, sharey=True)
    flat = list(axes.flat)
    for ax in flat[len(results) :]:
        ax.set_visible(False)
    for ax, (name, r) in zip(flat, results.items()):
        ax.scatter(
            [p.hardware / scale for p in everything],
            [p.value for p in everything],
            s=12,
            c="0.8",
            label="all trained",
        )
        ax.scatter(
            [p.hardware / scale for p in r.points],
            [p.value for p in r.points],
            s=16,
            c="tab:blue",
            label=f"selected by {name}",
        )
        ax.plot(
            [p.hardware / scale for p in r.front],
            [p.value for p in r.front],
            "o-",
            c="tab:red",
            ms=7,
            mfc="none",
            lw=1.2,
            drawstyle="steps-post",
            label="Pareto front",
        )
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(alpha=0.3)
        ax.set_xlabel(f"{hw_name} ({unit}, log)")
        ax.set_title(f"{name}: {r.n_trained} trained, HV {r.hypervolume:.3f}", fontsize=9)
    for ax in flat:
        if not ax.collections or all(len(c.get_offsets()) == 0 for c in ax.collections):
            ax.set_xscale("linear")
            ax.text(0.5, 0.5, "no trained network", ha="center", va="center", transform=ax.transAxes)
    for row in axes:
        row[0].set_ylabel(_axis_label(study))
    flat[0].legend(fontsize=7, loc="lower right")
    if synthetic:
        fig.suptitle("SYNTHETIC DATA — no accuracy claim", color="darkorange")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fronts_by_measure(study: Study, path: Path, synthetic: bool) -> dict[str, float]:
    """Quality vs storage and quality vs FLOPs fronts over every trained feasible network; returns hypervolumes."""
    points = study.all_points()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    volumes = {}
    for ax, measure, scale, unit in zip(axes, ("storage", "flops"), (1e3, 1e6), ("kB", "MFLOPs")):
        values = [study.space.hardware_value(p.arch, measure) for p in points]
        quality = [p.quality for p in points]
        mask = pareto_mask(quality, values)
        front = sorted((v, q, p.value) for v, q, p, m in zip(values, quality, points, mask) if m)
        volumes[measure] = hypervolume(
            [q for _, q, _ in front], [v for v, _, _ in front], study.space.max_hardware(measure)
        )
        ax.scatter([v / scale for v in values], [p.value for p in points], s=14, c="0.6", label="trained")
        ax.plot(
            [v / scale for v, _, _ in front],
            [raw for _, _, raw in front],
            "o-",
            c="tab:red",
            mfc="none",
            drawstyle="steps-post",
            label=f"front (HV {volumes[measure]:.3f})",
        )
        if points:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        else:
            ax.text(0.5, 0.5, "no trained network", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(f"{measure} ({unit}, log)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(_axis_label(study))
    if synthetic:
        fig.suptitle("SYNTHETIC DATA — no accuracy claim", color="darkorange")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return volumes


_CLASSIFICATION_COLUMNS = ("accuracy", "macro_f1")
_REGRESSION_COLUMNS = ("mae", "rmse", "pearson_r", "within_5")


def _front_table(result: StrategyResult, study: Study) -> list[dict[str, object]]:
    objective = study.config.objective
    rows = []
    for p in result.front:
        ev = p.evaluation
        columns = _REGRESSION_COLUMNS if "mae" in ev.metrics else _CLASSIFICATION_COLUMNS
        extra = {} if not objective.lower_is_better else {objective.metric_name: round(p.value, 4)}
        rows.append(
            {
                "architecture": study.space.label(p.arch),
                "quality": round(p.quality, 4),
                **extra,
                "phi": round(p.phi, 4),
                **{c: round(float(ev.metrics.get(c, float("nan"))), 4) for c in columns},
                "params": ev.cost["params"],
                "storage_kB": round(ev.cost["storage_bytes"] / 1e3, 1),
                "MFLOPs": round(ev.cost["flops"] / 1e6, 2),
                "peak_RAM_kB": round(ev.cost["peak_ram_bytes"] / 1e3, 1),
                "train_time_s": round(ev.train_time_s, 1),
                "epochs": ev.epochs,
                "model": ev.model_path,
            }
        )
    return rows


def render_study_report(
    study: Study, results: dict[str, StrategyResult], out_dir: Path, synthetic: bool = False
) -> Path:
    """Write ``report.md``, ``report.html``, ``selections.png``, ``pareto.json`` and copy the Pareto networks'
    weights to ``pareto_models/``; returns the Markdown path. Only weights inside the study folder are copied; a
    store row naming another file is skipped with a warning in the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _scatter(study, results, out_dir / "selections.png", synthetic)
    volumes = _fronts_by_measure(study, out_dir / "fronts.png", synthetic)
    rows = compare_rows(results)
    main = results.get("exhaustive") or next(iter(results.values()))
    front = _front_table(main, study)
    write_json(
        out_dir / "pareto.json",
        {
            "study": study.config.name,
            "strategy": main.strategy,
            "objective": study.config.objective.label(),
            "front": front,
        },
    )
    models = out_dir / "pareto_models"
    models.mkdir(exist_ok=True)
    write_json(models / "config.json", study.config.to_dict())
    skipped: list[str] = []
    root = study.directory.resolve()
    for p in main.front:
        src = study.directory / "models" / p.evaluation.model_path
        if p.evaluation.model_path and not src.resolve().is_relative_to(root):  # a row naming a foreign file
            skipped.append(
                f"**Warning:** the model file {p.evaluation.model_path} of {study.space.label(p.arch)} lies "
                "outside the study folder; not copied."
            )
            log.warning("%s: %s lies outside %s; not copied", study.space.label(p.arch), src, root)
            continue
        if p.evaluation.model_path and src.is_file():
            dst = models / study.space.label(p.arch).replace(",", "_").replace("=", "")
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / "model.pt")
    objective = study.config.objective
    banner = "**SYNTHETIC DATA — generated by biowear; no accuracy claim.**\n\n" if synthetic else ""
    lines = [
        f"# Exploration report: {study.config.name}",
        "",
        banner
        + f"Objective: `{study.config.objective.label()}`; "
        + (f"quality {objective.metric_name} ({objective.direction()}); " if objective.lower_is_better else "")
        + f"family {study.config.family}; space: "
        + ", ".join(f"{k} {tuple(v)}" for k, v in study.config.bounds.items())
        + "; "
        f"{len(study.space.feasible_points)} of {len(study.space.points)} points hardware-feasible.",
        "",
        "## Strategies",
        "",
        "| strategy | trained | exploration time (s) | hypervolume | HV ratio | time reduction | best phi |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.strategy} | {r.n_trained} | {r.exploration_time_s:.1f} | {r.hypervolume:.4f} | "
            f"{_fmt(r.hypervolume_ratio)} | {_fmt(r.time_reduction, 'x')} | {_fmt(r.best_phi)} |"
        )
    lines += ["", f"## Pareto networks ({main.strategy})", ""]
    if front:
        keys = list(front[0])
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        for row in front:
            lines.append("| " + " | ".join(str(row[k]) for k in keys) + " |")
    else:
        lines.append("No feasible trained network yet.")
    for warning in skipped:
        lines += ["", warning]
    lines += [
        "",
        "Fronts over every trained network: hypervolume " + ", ".join(f"{k} {v:.4f}" for k, v in volumes.items()) + ".",
        "",
        "![fronts](fronts.png)",
        "",
        "![selections](selections.png)",
        "",
    ]
    md = "\n".join(lines)
    (out_dir / "report.md").write_text(md)
    (out_dir / "report.html").write_text(_html(md, study.config.name))
    return out_dir / "report.md"


def _fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.3f}{suffix}"


def _html(markdown: str, title: str) -> str:
    """A minimal HTML rendering of the report's Markdown (tables, headings, paragraphs, the image)."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}</style></head><body>"
    ]
    in_table = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= {"-", ":"} for c in cells):
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1 : line.rindex(")")]
            out.append(f"<img src='{html.escape(src)}' style='max-width:100%'>")
        elif line.strip():
            out.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    if in_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)
