"""The replay report: hypervolume ratio against training cost for every strategy and seed (plot, Markdown, JSON)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from biowear.paths import atomic_write
from biowear.report.figures import decorate, save_figure
from biowear.search.replay import ReplayResult, goal_met
from biowear.train.artifacts import write_json

_MARKERS = "osD^v<>Ph*X"


def replay_figure(result: ReplayResult, cost: str = "epochs"):
    """Per strategy: each seed's (cost ratio, HV ratio) and the median with its interquartile range."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, s in enumerate(result.summaries):
        runs = [r for r in result.runs if r.strategy == s.strategy]
        xs = [r.cost_ratio if cost == "epochs" else r.seconds_ratio for r in runs]
        ys = [r.hv_ratio for r in runs]
        colour = f"C{i % 10}"
        ax.scatter(xs, ys, s=10, alpha=0.35, c=colour, marker=_MARKERS[i % len(_MARKERS)])
        q = s.cost_ratio if cost == "epochs" else s.seconds_ratio
        ax.errorbar(
            [q[2]], [s.hv_ratio[2]], xerr=[[q[2] - q[1]], [q[3] - q[2]]],
            yerr=[[s.hv_ratio[2] - s.hv_ratio[1]], [s.hv_ratio[3] - s.hv_ratio[2]]],
            fmt=_MARKERS[i % len(_MARKERS)], c=colour, ms=8, mec="k", capsize=3, label=s.strategy,
        )  # fmt: skip
    ax.axhline(0.99, c="0.4", ls="--", lw=0.8)
    ax.axvline(1 / 15, c="0.4", ls=":", lw=0.8)
    ax.text(1 / 15, ax.get_ylim()[0], " 1/15 cost", fontsize=7, va="bottom", color="0.3")
    ax.set_xscale("log")
    ax.set_xlabel(f"training cost / exhaustive ({cost}, log)")
    ax.set_ylabel("hypervolume / exhaustive")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    partial = (
        ""
        if result.networks >= result.expected_networks
        else (f" — PARTIAL table: {result.networks} of {result.expected_networks} networks")
    )
    seeds = max((s.runs for s in result.summaries), default=0)
    title = f"table {result.table}: strategies replayed over {seeds} seeds (median and quartiles){partial}"
    decorate(fig, title, synthetic=False)
    return fig


def _q(values: tuple[float, ...], pct: bool = False) -> str:
    fmt = (lambda v: f"{100 * v:.1f}%") if pct else (lambda v: f"{v:.4f}")
    return f"{fmt(values[2])} [{fmt(values[1])}, {fmt(values[3])}]"


def replay_markdown(result: ReplayResult) -> str:
    lines = [
        f"# Replay against table `{result.table}`",
        "",
        f"Networks in the table: {result.networks} of {result.expected_networks}"
        + ("" if result.networks >= result.expected_networks else " (PARTIAL: the space is restricted to them)"),
        f"Exhaustive: hypervolume {result.exhaustive_hypervolume:.4f}, {result.exhaustive_epochs} epochs, "
        f"{result.exhaustive_seconds:.0f} s of training; front: {', '.join(result.exhaustive_front)}",
        "",
        "Median [quartiles] over seeds. Cost is the training a strategy would have paid, relative to exhaustive.",
        "",
        "| strategy | objectives | seeds | HV / exhaustive | cost (epochs) | cost (seconds) | networks trained | "
        "goal (HV >= 0.99 at <= 1/15 cost) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in result.summaries:
        lines.append(
            f"| {s.strategy} | {'Q, H' if s.objectives == 2 else 'phi'} | {s.runs} | {_q(s.hv_ratio)} | "
            f"{_q(s.cost_ratio, True)} | {_q(s.seconds_ratio, True)} | {s.n_trained:g} | "
            f"{'met' if goal_met(s) else 'not met'} |"
        )
    return "\n".join(lines) + "\n"


def render_replay_report(result: ReplayResult, out_dir: Path) -> Path:
    """Write ``replay.png`` (cost in epochs), ``replay_seconds.png``, ``replay.md`` and ``replay.json``; returns
    the Markdown path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [
        save_figure(replay_figure(result, "epochs"), out_dir / "replay.png").to_dict(),
        save_figure(replay_figure(result, "seconds"), out_dir / "replay_seconds.png").to_dict(),
    ]
    text = replay_markdown(result)
    md = out_dir / "replay.md"
    atomic_write(md, lambda fh: fh.write(text.encode("utf-8")))
    write_json(out_dir / "replay.json", {**result.to_dict(), "figures": records})
    return md
