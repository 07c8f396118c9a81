"""``biowear compare STUDY --table FILE``: strategies replayed against a tabular benchmark."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from biowear.cli.common import console
from biowear.search.replay import goal_met, replay
from biowear.search.table import TabularBenchmark


def replay_command(cfg, table_path: Path, seeds: int, strategies: str | None, directory: Path) -> None:
    """Replay, print the per-strategy table and write the report under ``directory/replay-<table>``."""
    from biowear.report.replay import render_replay_report

    table = TabularBenchmark.load(table_path)
    names = [s.strip() for s in strategies.split(",") if s.strip()] if strategies else None
    if not table.complete:
        console.print(
            f"[yellow]table {escape(table.name)} is PARTIAL: {len(table.entries)} of {table.expected} networks; "
            "the space is restricted to them[/yellow]"
        )
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying", total=None)
        result = replay(cfg, table, names, seeds, lambda name, seed: progress.update(task, description=name, advance=1))
    out = Table(title=escape(f"strategies replayed on table {table.name} ({seeds} seeds; median [quartiles])"))
    for col in ("strategy", "HV / exhaustive", "cost epochs", "cost seconds", "trained", "goal"):
        out.add_column(col, justify="right")
    for s in result.summaries:
        out.add_row(
            s.strategy,
            f"{s.hv_ratio[2]:.4f} [{s.hv_ratio[1]:.4f}, {s.hv_ratio[3]:.4f}]",
            f"{s.cost_ratio[2]:.1%} [{s.cost_ratio[1]:.1%}, {s.cost_ratio[3]:.1%}]",
            f"{s.seconds_ratio[2]:.1%}",
            f"{s.n_trained:g}",
            "met" if goal_met(s) else "-",
        )
    console.print(out)
    console.print(
        f"exhaustive: hypervolume {result.exhaustive_hypervolume:.4f}, {result.exhaustive_epochs} epochs, "
        f"{result.exhaustive_seconds:.0f} s"
    )
    md = render_replay_report(result, directory / f"replay-{table.name}")
    console.print(f"report: {escape(str(md))} (plot: {escape(str(md.with_name('replay.png')))})")
