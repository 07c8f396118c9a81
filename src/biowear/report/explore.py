"""Exploration reports: plots of evaluated networks, Pareto fronts and strategy selections; tables."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from biowear.report.checks import majority_warning  # noqa: E402
from biowear.report.figures import (  # noqa: E402
    ReportContext,
    decorate,
    label_points,
    readable_log_x,
    records_dict,
    save_figure,
)
from biowear.report.html import markdown_to_html  # noqa: E402
from biowear.search.pareto import hypervolume, pareto_mask  # noqa: E402
from biowear.search.study import StrategyResult, Study  # noqa: E402
from biowear.train.artifacts import write_json  # noqa: E402

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


def study_context(study: Study) -> ReportContext:
    """Dataset, study and split of a study's figures and tables."""
    return ReportContext.of(study.config.data, f"study {study.config.name}", study.config.split.kind)


def short_labels(study: Study, archs: Sequence[Any], universe: Sequence[Any]) -> list[str]:
    """Architecture labels of ``archs`` without the ``key=value`` parts every network of ``universe`` shares
    (e.g. a gene the space fixes), so that point labels on a plot stay short."""
    split = [study.space.label(a).split(",") for a in universe]
    constant = set.intersection(*(set(parts) for parts in split)) if len(split) > 1 else set()
    return [" ".join(part for part in study.space.label(a).split(",") if part not in constant) for a in archs]


def selections_figure(study: Study, results: dict[str, StrategyResult], synthetic: bool) -> Figure:
    """One panel per strategy: every trained network, those the strategy selected, and its labelled front."""
    everything = study.all_points()
    hw_name = study.config.objective.hardware
    scale, unit = (1e3, "kB") if hw_name == "storage" else (1e6, "MFLOPs")
    n = max(len(results), 1)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.8 * ncols, 3.8 * nrows + 0.5), squeeze=False, sharey=True)
    flat = list(axes.flat)
    for ax in flat[len(results) :]:
        ax.set_visible(False)
    for ax, (name, r) in zip(flat, results.items()):
        universe = [p.arch for p in everything] or [p.arch for p in r.front]
        ax.scatter([p.hardware / scale for p in everything], [p.value for p in everything], s=12, c="0.8",
                   label="all trained")  # fmt: skip
        ax.scatter([p.hardware / scale for p in r.points], [p.value for p in r.points], s=16, c="tab:blue",
                   label=f"selected by {name}")  # fmt: skip
        xs, ys = [p.hardware / scale for p in r.front], [p.value for p in r.front]
        ax.plot(xs, ys, "o-", c="tab:red", ms=7, mfc="none", lw=1.2, drawstyle="steps-post", label="Pareto front")
        ax.grid(alpha=0.3)
        ax.set_xlabel(f"{hw_name} ({unit}, log)")
        ax.set_title(f"{name}: {r.n_trained} trained, front of {len(r.front)}, HV {r.hypervolume:.3f}", fontsize=9)
        if everything or r.points:
            readable_log_x(ax)
            label_points(ax, xs, ys, short_labels(study, [p.arch for p in r.front], universe))
        else:
            ax.text(0.5, 0.5, "no trained network", ha="center", va="center", transform=ax.transAxes)
    for row in axes:
        row[0].set_ylabel(_axis_label(study))
    flat[0].legend(fontsize=7, loc="lower right")
    decorate(fig, study_context(study).title(f"{_axis_label(study)}: the networks each strategy trained"), synthetic)
    return fig


def fronts_figure(study: Study, synthetic: bool) -> tuple[Figure, dict[str, float]]:
    """Quality vs storage and quality vs FLOPs fronts over every trained feasible network, front points labelled
    with their architecture; returns the figure and the two hypervolumes."""
    points = study.all_points()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    volumes = {}
    universe = [p.arch for p in points]
    for ax, measure, scale, unit in zip(axes, ("storage", "flops"), (1e3, 1e6), ("kB", "MFLOPs")):
        values = [study.space.hardware_value(p.arch, measure) for p in points]
        quality = [p.quality for p in points]
        mask = pareto_mask(quality, values)
        front = sorted(((v, p) for v, p, m in zip(values, points, mask) if m), key=lambda vp: vp[0])
        volumes[measure] = hypervolume(
            [p.quality for _, p in front], [v for v, _ in front], study.space.max_hardware(measure)
        )
        ax.scatter([v / scale for v in values], [p.value for p in points], s=14, c="0.6", label="trained")
        xs, ys = [v / scale for v, _ in front], [p.value for _, p in front]
        ax.plot(xs, ys, "o-", c="tab:red", mfc="none", drawstyle="steps-post",
                label=f"front of {len(front)} (HV {volumes[measure]:.3f})")  # fmt: skip
        if points:
            readable_log_x(ax)
            label_points(ax, xs, ys, short_labels(study, [p.arch for _, p in front], universe))
        else:
            ax.text(0.5, 0.5, "no trained network", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(f"{measure} ({unit}, log)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(_axis_label(study))
    decorate(fig, study_context(study).title(f"{_axis_label(study)}: every trained network"), synthetic)
    return fig, volumes


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


#: Columns of pareto.json left out of the Markdown/HTML table (it must fit a page; the JSON keeps them).
_JSON_ONLY = ("train_time_s", "epochs", "model")


def pareto_model_folder(study: Study, arch: Any) -> str:
    """The folder name under ``pareto_models/`` holding a front network's ``model.pt``."""
    return study.space.label(arch).replace(",", "_").replace("=", "")


def _table_lines(front: list[dict[str, object]], metric_name: str) -> list[str]:
    """The Pareto table in Markdown: the report's columns only, ``quality`` dropped when it repeats the metric."""
    keys = [k for k in front[0] if k not in _JSON_ONLY and not (k == "quality" and metric_name in front[0])]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in front:
        cells = [str(row[k]).replace(",", ", ") if k == "architecture" else str(row[k]) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_study_report(
    study: Study, results: dict[str, StrategyResult], out_dir: Path, synthetic: bool = False
) -> Path:
    """Write ``report.md``, ``report.html``, ``fronts.png``, ``selections.png``, ``pareto.json`` and copy the
    Pareto networks' weights to ``pareto_models/``; returns the Markdown path. Only weights inside the study
    folder are copied; a store row naming another file is skipped with a warning in the report. Every figure is
    titled with dataset, study and split, and carries the SYNTHETIC banner for generated data; ``pareto.json``
    records what each figure shows (``figures``) and the report's warnings (``warnings``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fronts, volumes = fronts_figure(study, synthetic)
    figures = [
        save_figure(fronts, out_dir / "fronts.png"),
        save_figure(selections_figure(study, results, synthetic), out_dir / "selections.png"),
    ]
    rows = compare_rows(results)
    main = results.get("exhaustive") or next(iter(results.values()))
    front = _front_table(main, study)
    models = out_dir / "pareto_models"
    models.mkdir(exist_ok=True)
    write_json(models / "config.json", study.config.to_dict())
    warnings: list[str] = []
    majority = majority_warning((p.evaluation.metrics for p in study.all_points()), "trained network")
    if majority:
        warnings.append(majority)
    root = study.directory.resolve()
    for p in main.front:
        src = study.directory / "models" / p.evaluation.model_path
        if p.evaluation.model_path and not src.resolve().is_relative_to(root):  # a row naming a foreign file
            warnings.append(
                f"**Warning:** the model file {p.evaluation.model_path} of {study.space.label(p.arch)} lies "
                "outside the study folder; not copied."
            )
            log.warning("%s: %s lies outside %s; not copied", study.space.label(p.arch), src, root)
            continue
        if p.evaluation.model_path and src.is_file():
            dst = models / pareto_model_folder(study, p.arch)
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / "model.pt")
    write_json(
        out_dir / "pareto.json",
        {
            "study": study.config.name,
            "strategy": main.strategy,
            "objective": study.config.objective.label(),
            "front": front,
            "figures": records_dict(figures),
            "warnings": warnings,
        },
    )
    md = _markdown(study, rows, main, front, volumes, warnings, synthetic)
    (out_dir / "report.md").write_text(md)
    (out_dir / "report.html").write_text(markdown_to_html(md, f"Exploration report: {study.config.name}"))
    return out_dir / "report.md"


def _markdown(
    study: Study,
    rows: list[ComparisonRow],
    main: StrategyResult,
    front: list[dict[str, object]],
    volumes: dict[str, float],
    warnings: list[str],
    synthetic: bool,
) -> str:
    objective = study.config.objective
    context = study_context(study)
    lines = [f"# Exploration report: {study.config.name}", ""]
    if synthetic:
        lines += ["**SYNTHETIC DATA — generated by biowear; no accuracy claim.**", ""]
    lines += [
        f"Data: {context.dataset}, {context.split}. Objective: `{objective.label()}`; "
        + (f"quality {objective.metric_name} ({objective.direction()}); " if objective.lower_is_better else "")
        + f"family {study.config.family}; space: "
        + ", ".join(f"{k} {tuple(v)}" for k, v in study.config.bounds.items())
        + f"; {len(study.space.feasible_points)} of {len(study.space.points)} points hardware-feasible.",
        "",
    ]
    for warning in warnings:
        lines += [warning, ""]
    lines += [
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
    lines += ["", f"## Pareto networks ({main.strategy}, {len(front)})", ""]
    if front:
        lines += _table_lines(front, objective.metric_name)
        lines += [
            "",
            "Weights: `pareto_models/<architecture>/model.pt`; training time, epochs and model paths: `pareto.json`.",
        ]
    else:
        lines.append("No feasible trained network yet.")
    lines += [
        "",
        "Fronts over every trained network: hypervolume " + ", ".join(f"{k} {v:.4f}" for k, v in volumes.items()) + ".",
        "",
        "![fronts](fronts.png)",
        "",
        "![selections](selections.png)",
        "",
    ]
    return "\n".join(lines)


def _fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.3f}{suffix}"
