"""Heart-rate reports: estimate-vs-truth traces per recording, a Bland-Altman plot, and the LOSO table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from biowear.hr.evaluate import (  # noqa: E402
    METHOD_TITLES,
    METHODS,
    FoldResult,
    HRWindows,
    LosoTable,
    recording_spans,
)
from biowear.train.artifacts import write_json  # noqa: E402

#: Methods drawn on the trace plots (all would crowd them).
TRACED = ("classical", "teacher", "student_kd", "student_int8")


def _trace_figure(
    windows: HRWindows, results: Sequence[FoldResult], table: LosoTable, post: bool, dataset: str
) -> plt.Figure:
    recs = [(res, r, sel) for res in results for r, sel in recording_spans(windows.recording[res.index])]
    cols = 3 if len(recs) > 4 else max(1, len(recs))
    rows = int(np.ceil(len(recs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False, sharey=False)
    for ax in axes.flat[len(recs) :]:
        ax.set_visible(False)
    maes = table.mae_post if post else table.mae
    for ax, (res, r, sel) in zip(axes.flat, recs):
        t_min = np.arange(len(sel)) * 2.0 / 60.0
        ax.plot(t_min, windows.y[res.index][sel], "k-", lw=1.6, label="ground truth")
        estimates = res.post if post else res.estimates
        for m in TRACED:
            ax.plot(t_min, estimates[m][sel], lw=0.9, label=f"{m} ({maes[m][r]:.1f})")
        ax.set_title(f"{r} (test subject {res.subject})", fontsize=8)
        ax.set_xlabel("time (min)", fontsize=7)
        ax.set_ylabel("BPM", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5, loc="best")
    which = "post-processed" if post else "raw"
    fig.suptitle(f"{dataset} · leave-one-subject-out · {which} estimates vs ground truth (MAE, BPM)", fontsize=9)
    fig.tight_layout()
    return fig


def _bland_altman(windows: HRWindows, results: Sequence[FoldResult], method: str, post: bool, dataset: str):
    est = np.concatenate([(r.post if post else r.estimates)[method] for r in results])
    truth = np.concatenate([windows.y[r.index] for r in results]).astype(np.float64)
    mean, diff = (est + truth) / 2, est - truth
    bias, sd = float(np.mean(diff)), float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    ax.scatter(mean, diff, s=4, alpha=0.4)
    for level, style, label in (
        (bias, "-", f"bias {bias:+.2f}"),
        (bias + 1.96 * sd, "--", f"+1.96 SD {bias + 1.96 * sd:+.2f}"),
        (bias - 1.96 * sd, "--", f"−1.96 SD {bias - 1.96 * sd:+.2f}"),
    ):
        ax.axhline(level, color="C3", ls=style, lw=1, label=label)
    ax.set_xlabel("mean of estimate and ground truth (BPM)")
    ax.set_ylabel("estimate − ground truth (BPM)")
    ax.set_title(
        f"{dataset} · Bland-Altman\n{METHOD_TITLES[method]} ({'post-processed' if post else 'raw'})", fontsize=10
    )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, {"bias_bpm": bias, "loa_low_bpm": bias - 1.96 * sd, "loa_high_bpm": bias + 1.96 * sd}


def render_hr_report(
    windows: HRWindows,
    results: Sequence[FoldResult],
    table: LosoTable,
    out_dir: Path,
    dataset: str,
    anchors: dict[str, str] | None = None,
    bland_altman_method: str = "student_int8",
) -> Path:
    """Write ``hr_report.md``, ``hr_report.json``, ``traces.png``, ``traces_post.png`` and ``bland_altman.png``
    into ``out_dir``; returns the Markdown path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for post, name in ((False, "traces.png"), (True, "traces_post.png")):
        fig = _trace_figure(windows, results, table, post, dataset)
        fig.savefig(out_dir / name, dpi=100)
        plt.close(fig)
    fig, agreement = _bland_altman(windows, results, bland_altman_method, True, dataset)
    fig.savefig(out_dir / "bland_altman.png", dpi=110)
    plt.close(fig)
    doc = {"dataset": dataset, **table.to_dict(), "bland_altman": {bland_altman_method: agreement}}
    write_json(out_dir / "hr_report.json", doc)
    lines = [f"# Heart rate from PPG + accelerometer: {dataset}, leave one subject out", ""]
    lines += ["MAE in BPM per test recording; `post` = each estimate limited to a band around its recent history.", ""]
    head = ["recording"] + [m for m in METHODS]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.recordings:
        cells = [f"{table.mae[m][r]:.2f} / {table.mae_post[m][r]:.2f}" for m in METHODS]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    means = [f"**{table.mean(m):.2f} / {table.mean(m, True):.2f}**" for m in METHODS]
    lines += ["| mean (raw / post) | " + " | ".join(means) + " |", ""]
    if table.costs:
        keys = ["params", "storage_kB_fp32", "storage_kB_int8", "macs", "peak_ram_kB", "latency_ms", "energy_mJ"]
        lines += [f"Costs per window (platform {next(iter(table.costs.values())).platform}):", ""]
        lines += ["| network | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 1)]
        for name, c in table.costs.items():
            d = c.to_dict()
            lines.append(f"| {name} ({c.arithmetic}) | " + " | ".join(str(d[k]) for k in keys) + " |")
        lines.append("")
    if anchors:
        lines += ["Published figures for orientation (other models, splits or data):", ""]
        lines += [f"- {k}: {v}" for k, v in anchors.items()] + [""]
    lines += ["![traces](traces.png)", "", "![traces, post-processed](traces_post.png)", ""]
    lines += ["![Bland-Altman](bland_altman.png)", ""]
    path = out_dir / "hr_report.md"
    path.write_text("\n".join(lines))
    return path
