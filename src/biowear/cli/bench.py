"""``biowear bench``: run the BiomedBench applications and print their profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from biowear.bench.apps import APPS
from biowear.bench.platforms import PLATFORMS
from biowear.bench.runner import BenchResult, run_suite
from biowear.cli.common import SYNTHETIC_BANNER, app, console
from biowear.cli.common import progress as _progress
from biowear.kernels.profiler import OpCounts
from biowear.paths import atomic_write


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.0f}"


def _table(title: str, columns: tuple[str, ...], left: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="left" if col in left else "right")
    return table


def _mode(r: BenchResult) -> str:
    return r.arithmetic if r.fixed_point else "float"


def profile_table(results: list[BenchResult]) -> Table:
    table = _table(
        "BiomedBench profile (one window per app; wall time of this Python run)",
        (
            "app",
            "data",
            "arith",
            "window s",
            "wall ms",
            "RT factor",
            "dominant phase",
            "dominant kernel",
            "MACs",
            "ops",
            "static B",
            "dynamic B",
            "input B/s",
            "test acc",
        ),
        left=("app", "data", "arith"),
    )
    for r in results:
        ops = r.total_ops
        acc = "-" if r.accuracy is None else f"{r.accuracy:.3f}"
        table.add_row(
            r.app,
            "SYN" if r.synthetic else "real",
            _mode(r),
            f"{r.window_s:g}",
            f"{r.wall_s * 1e3:.1f}",
            f"{r.realtime_factor:.0f}",
            r.dominant_phase,
            r.dominant_kernel,
            _si(ops.macs),
            _si(ops.total),
            str(r.static_bytes),
            str(r.dynamic_bytes),
            f"{r.input_bytes_per_s:.0f}",
            acc,
        )
    return table


def platform_table(results: list[BenchResult]) -> Table:
    table = _table(
        "MCU estimates per window (first-order model; datasheet sources in biowear.bench.platforms)",
        (
            "app",
            "arith",
            "platform",
            "cycles",
            "proc ms",
            "proc uJ",
            "duty %",
            "acq+idle uJ",
            "total uJ",
            "dominant kernel",
        ),
        left=("app", "arith", "platform", "dominant kernel"),
    )
    for r in results:
        for p in r.platforms:
            table.add_row(
                r.app,
                _mode(r),
                p.platform,
                _si(p.cycles),
                f"{p.processing_s * 1e3:.2f}",
                f"{p.processing_energy_j * 1e6:.1f}",
                _duty(p.duty_cycle),
                f"{p.acquisition_idle_energy_j * 1e6:.1f}",
                f"{p.total_energy_j * 1e6:.1f}",
                p.dominant_kernel,
            )
    return table


def _duty(d: float) -> str:
    if d != d:  # NaN: no acquisition phase
        return "-"
    return f"{d * 100:.3f}" + (" (not real time)" if d > 1 else "")


def fixed_table(results: list[BenchResult]) -> Table:
    columns = ("app", "arith", "decision agreement", "intermediate relative L2 errors")
    table = _table("fixed point vs floating point (test windows)", columns, left=columns)
    for r in results:
        if r.fixed_point:
            errs = ", ".join(
                f"{k.split('.', 1)[1]} {v:.2e}" for k, v in r.fixed_vs_float.items() if k.startswith("rel_error.")
            )
            mism = [k.split(".", 1)[1] for k in r.fixed_vs_float if k.startswith("shape_mismatch.")]
            if mism:
                errs += f" (count differs in some windows: {', '.join(mism)})"
            table.add_row(r.app, r.arithmetic, f"{r.fixed_vs_float['decision_agreement']:.3f}", errs)
    return table


def _spread(per_subject: dict, key: str) -> str:
    vals = [v[key] for v in per_subject.values() if v.get(key) == v.get(key)]
    return f"{min(vals):.2f}-{max(vals):.2f}" if vals else "-"


def real_table(results: list[BenchResult]) -> Table:
    """Real-data scores: pooled balanced accuracy and its per-subject range, chance and the baselines."""
    table = _table(
        "real recordings, split by subject (held-out windows; balanced accuracy)",
        (
            "app",
            "arith",
            "dataset",
            "split",
            "subjects",
            "windows",
            "bal. acc",
            "per subject",
            "chance",
            "majority",
            "sklearn",
            "app scores",
        ),
        left=("app", "arith", "dataset", "split"),
    )
    for r in results:
        if r.synthetic or not r.dataset:
            continue
        table.add_row(
            r.app,
            _mode(r),
            r.dataset,
            r.split or "-",
            str(len(r.subjects)),
            str(r.n_windows),
            f"{r.pooled['balanced_accuracy']:.3f}",
            _spread(r.per_subject, "balanced_accuracy"),
            f"{r.chance['balanced_accuracy']:.3f}",
            f"{r.baselines['majority']['pooled']['balanced_accuracy']:.3f}",
            f"{r.baselines['sklearn']['pooled']['balanced_accuracy']:.3f}",
        )
    return table


def kernel_table(r: BenchResult) -> Table:
    table = _table(
        f"{r.app} kernels ({'fixed' if r.fixed_point else 'float'})",
        ("phase", "kernel", "calls", "wall ms", *OpCounts().as_dict()),
        left=("phase", "kernel"),
    )
    for k in sorted(r.kernels, key=lambda k: -k.time_s):
        table.add_row(k.phase, k.kernel, str(k.calls), f"{k.time_s * 1e3:.2f}", *(_si(v) for v in k.ops.values()))
    return table


@app.command()
def bench(
    apps: Annotated[list[str] | None, typer.Argument(help=f"applications (default all): {APPS.choices(', ')}")] = None,
    fixed_point: Annotated[bool, typer.Option("--fixed-point", help="also run the fixed-point mode")] = False,
    platform: Annotated[list[str] | None, typer.Option(help=f"platform(s): {PLATFORMS.choices(', ')}")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="write all results as JSON")] = None,
    kernels: Annotated[bool, typer.Option(help="print the per-kernel table of every run")] = False,
    quick: Annotated[bool, typer.Option(help="small training/test sets (for smoke runs)")] = False,
    seed: Annotated[int, typer.Option(help="seed of data generation and training")] = 0,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="a folder of recordings in the app's dataset format (one application)"),
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="the dataset format of --data-dir (default: the app's own, e.g. szdb)")
    ] = None,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="run on generated inputs even where real recordings are present")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="write the HTML/Markdown bench report into this folder")
    ] = None,
) -> None:
    """Run the BiomedBench applications: per-phase/per-kernel profiles, fixed point, MCU energy estimates.

    Applications with real recordings (under BIOWEAR_DATA, or --data-dir) are scored on them, split by subject,
    beside chance and simple baselines; the others run on generated inputs, marked SYN."""
    names = list(apps) if apps else APPS.names()
    platforms = tuple(platform) if platform else tuple(PLATFORMS.names())
    with _progress() as bar:
        task = bar.add_task("bench", total=len(names))

        def on_progress(name: str, stage: str) -> None:
            if stage == "done":
                bar.advance(task)
                if not console.is_terminal:
                    console.print(f"{name}: done")
            else:
                bar.update(task, description=f"{name}: {stage}")

        results = run_suite(
            names,
            fixed=fixed_point,
            platforms=platforms,
            seed=seed,
            quick=quick,
            on_progress=on_progress,
            data_dir=data_dir,
            dataset=dataset,
            synthetic=synthetic,
        )
    if any(r.synthetic for r in results):
        console.print(SYNTHETIC_BANNER + " Apps marked SYN ran on generated input.")
    console.print(profile_table(results))
    if any(not r.synthetic and r.dataset for r in results):
        console.print(real_table(results))
    console.print(platform_table(results))
    if fixed_point:
        console.print(fixed_table(results))
    for r in results:
        if r.scores:
            console.print(
                f"{r.app} ({'fixed' if r.fixed_point else 'float'}): "
                + ", ".join(f"{k} {v:.4g}" for k, v in r.scores.items())
            )
    if kernels:
        for r in results:
            console.print(kernel_table(r))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps([r.to_dict() for r in results], indent=2, default=float)
        atomic_write(json_path, lambda fh: fh.write(text.encode()))
        console.print(f"wrote {json_path}")
    if report is not None:
        from biowear.report.bench import render_bench_report

        page = render_bench_report(results, report)
        console.print(f"report: {escape(str(page))}")
