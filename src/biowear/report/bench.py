"""The bench report: per application, its real-data scores (pooled, spread over subjects, chance, baselines,
the paper's figure) in a table with two figures, and every profile, real and generated, side by side.

:func:`render_bench_report(results, out_dir)` takes the :class:`~biowear.bench.runner.BenchResult` records of a
``biowear bench`` run (or their JSON dicts) and writes ``bench.md``, ``bench.html``, ``bench.json`` (figures
drawn, the kernel-share comparison) and ``<app>_subjects.png`` / ``<app>_confusion.png`` per real-data
application into ``out_dir`` only. Results on generated input are marked SYNTHETIC and carry no accuracy claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from biowear.paths import atomic_write
from biowear.report.bench_figures import SUBJECT_METRIC, confusion_figure, subject_figure
from biowear.report.figures import records_dict, save_figure
from biowear.report.html import markdown_to_html

#: Published figures to print beside ours (where one exists), with where they come from.
PAPER_FIGURES: dict[str, str] = {
    "EmotionClass": (
        "WESAD (Schmidt et al. 2018), binary stress vs non-stress: up to 93 % accuracy over chest + wrist (abstract; "
        "verified). Wrist-only accuracy / F1 of its Table: not verified here (remembered as about 87-88 % / 84-87 %)"
    ),
    "GestureClass": "UCI EMG README check: nearest centroid on log-MAV, series 1 -> 2: 0.867 / 0.988 / 0.921",
}


def _as_dict(result: Any) -> dict[str, Any]:
    return dict(result) if isinstance(result, Mapping) else result.to_dict()


def _f(value: Any, digits: int = 3) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{v:.{digits}f}"


def spread(per_subject: Mapping[str, Mapping[str, Any]], metric: str) -> tuple[float, float, float]:
    """(min, median, max) of ``metric`` over subjects (NaN-free subjects only)."""
    import numpy as np

    vals = [float(m[metric]) for m in per_subject.values() if metric in m and float(m[metric]) == float(m[metric])]
    if not vals:
        return (float("nan"),) * 3  # type: ignore[return-value]
    return float(np.min(vals)), float(np.median(vals)), float(np.max(vals))


def kernel_shares(result: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """kernel -> ``{"ops": share of the window's operations, "time": share of its wall time}``."""
    ops: dict[str, float] = {}
    time: dict[str, float] = {}
    for k in result["kernels"]:
        ops[k["kernel"]] = ops.get(k["kernel"], 0.0) + float(sum(k["ops"].values()))
        time[k["kernel"]] = time.get(k["kernel"], 0.0) + float(k["time_s"])
    tot_ops, tot_time = max(sum(ops.values()), 1e-30), max(sum(time.values()), 1e-30)
    return {name: {"ops": ops[name] / tot_ops, "time": time[name] / tot_time} for name in ops}


def profile_comparison(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per app with a float result on real and on generated input: both kernel shares and the total
    operations of one window."""
    out: dict[str, dict[str, Any]] = {}
    for app in dict.fromkeys(r["app"] for r in results):
        real = next((r for r in results if r["app"] == app and not r["synthetic"] and not r["fixed_point"]), None)
        syn = next((r for r in results if r["app"] == app and r["synthetic"] and not r["fixed_point"]), None)
        if real is None or syn is None:
            continue
        rs, ss = kernel_shares(real), kernel_shares(syn)
        out[app] = {
            "real_ops": float(sum(sum(k["ops"].values()) for k in real["kernels"])),
            "generated_ops": float(sum(sum(k["ops"].values()) for k in syn["kernels"])),
            "real_source": real["data_source"],
            "generated_source": syn["data_source"],
            "kernels": {
                k: {"real": rs.get(k, {"ops": 0.0, "time": 0.0}), "generated": ss.get(k, {"ops": 0.0, "time": 0.0})}
                for k in dict.fromkeys([*rs, *ss])
            },
        }
    return out


def _score_lines(r: dict[str, Any]) -> list[str]:
    lines = [
        "| split | windows | subjects | accuracy | balanced acc. | macro F1 | per-subject bal. acc. min / median / max "
        "| chance (majority of test) | majority baseline acc. | sklearn baseline acc. / bal. acc. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    evaluations = {r["split"]: r, **{k: v for k, v in (r.get("evaluations") or {}).items()}}
    for name, e in evaluations.items():
        p, b = e["pooled"], e["baselines"]
        lo, med, hi = spread(e["per_subject"], SUBJECT_METRIC)
        sk = b.get("sklearn", {}).get("pooled", {})
        lines.append(
            f"| {name} | {e['n_windows']} | {len(e['subjects'])} | {_f(p['accuracy'])} | {_f(p['balanced_accuracy'])} "
            f"| {_f(p['macro_f1'])} | {_f(lo)} / {_f(med)} / {_f(hi)} | {_f(e['chance']['majority_of_test'])} "
            f"| {_f(b.get('majority', {}).get('pooled', {}).get('accuracy'))} "
            f"| {_f(sk.get('accuracy'))} / {_f(sk.get('balanced_accuracy'))} |"
        )
    return lines


def _extra_scores(r: dict[str, Any]) -> list[str]:
    skip = {"n", "accuracy", "balanced_accuracy", "macro_f1", "confusion"}
    extra = {k: v for k, v in r["pooled"].items() if k not in skip and isinstance(v, (int, float))}
    return [", ".join(f"{k.replace('_', ' ')} {_f(v)}" for k, v in extra.items()) + "."] if extra else []


def _profile_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| app | input | arith | window s | dominant phase | dominant kernel | ops | static B | wall ms |",
        "|---|---|---|---:|---|---|---:|---:|---:|",
    ]
    for r in results:
        ops = sum(sum(k["ops"].values()) for k in r["kernels"])
        data = "**SYNTHETIC** (generated)" if r["synthetic"] else f"real: {r.get('dataset') or r['data_source']}"
        lines.append(
            f"| {r['app']} | {data} | {r['arithmetic']} | {r['window_s']:g} | {r['dominant_phase']} "
            f"| `{r['dominant_kernel']}` | {ops:,.0f} | {r['static_bytes']} | {r['wall_s'] * 1e3:.2f} |"
        )
    return lines


def _comparison_lines(app: str, c: dict[str, Any]) -> list[str]:
    lines = [
        f"### {app}: one window, real vs generated",
        "",
        f"Operations per window: real {c['real_ops']:,.0f}, generated {c['generated_ops']:,.0f}. "
        f"Real: {c['real_source']}. Generated: {c['generated_source']}.",
        "",
        "| kernel | ops share real | ops share generated | change (pp) | time share real | time share generated |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = sorted(c["kernels"].items(), key=lambda kv: -max(kv[1]["real"]["ops"], kv[1]["generated"]["ops"]))
    for name, s in rows:
        re, ge = s["real"], s["generated"]
        lines.append(
            f"| `{name}` | {100 * re['ops']:.1f}% | {100 * ge['ops']:.1f}% | {100 * (re['ops'] - ge['ops']):+.1f} "
            f"| {100 * re['time']:.1f}% | {100 * ge['time']:.1f}% |"
        )
    return lines + [""]


def render_bench_report(results: Iterable[Any], out_dir: Path) -> Path:
    """Write the bench report of ``results`` into ``out_dir``; returns the HTML page's path.

    Args:
        results: :class:`~biowear.bench.runner.BenchResult` records or their ``to_dict()`` forms; real-data ones
            carry ``dataset``, ``split``, ``pooled``, ``per_subject``, ``baselines`` and ``chance``.
        out_dir: the report folder (created); nothing is written elsewhere.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [_as_dict(r) for r in results]
    lines = ["# BiomedBench report", ""]
    if any(r["synthetic"] for r in rows):
        lines += [
            "**SYNTHETIC inputs are marked in the profile table: generated by biowear, no accuracy claim.**",
            "",
        ]
    figures = []
    real = [r for r in rows if not r["synthetic"] and not r["fixed_point"] and r.get("per_subject")]
    for r in real:
        lines += [f"## {r['app']} on {r['dataset']}", ""]
        lines += [
            f"Labels: {r.get('label_source') or '-'}. Classes: {', '.join(map(str, r.get('classes') or []))}.",
            "",
        ]
        lines += _score_lines(r) + [""] + _extra_scores(r)
        fixed = next((f for f in rows if f["app"] == r["app"] and f["fixed_point"] and not f["synthetic"]), None)
        if fixed is not None and fixed.get("fixed_vs_float"):
            lines += ["", f"Fixed vs float decision agreement on real windows: "
                      f"{_f(fixed['fixed_vs_float'].get('decision_agreement'))}."]  # fmt: skip
        if r["app"] in PAPER_FIGURES:
            lines += ["", f"Paper / reference figure: {PAPER_FIGURES[r['app']]}."]
        for note in r.get("notes") or []:
            lines += ["", f"Note: {note}"]
        stem = r["app"].replace("/", "_")
        figures.append(save_figure(subject_figure(r), out_dir / f"{stem}_subjects.png"))
        figures.append(save_figure(confusion_figure(r), out_dir / f"{stem}_confusion.png"))
        lines += [
            "",
            f"![{r['app']} per subject]({stem}_subjects.png)",
            "",
            f"![{r['app']} confusion]({stem}_confusion.png)",
            "",
        ]
    lines += ["## Profiles (one window each)", ""] + _profile_lines(rows) + [""]
    comparison = profile_comparison(rows)
    for app, c in comparison.items():
        lines += _comparison_lines(app, c)
    md = "\n".join(lines) + "\n"
    page = markdown_to_html(md, "BiomedBench report")
    summary = {"figures": records_dict(figures), "profile_comparison": comparison, "apps": [r["app"] for r in rows]}
    atomic_write(out_dir / "bench.md", lambda fh: fh.write(md.encode()))
    atomic_write(out_dir / "bench.json", lambda fh: fh.write(json.dumps(summary, indent=2, default=float).encode()))
    return atomic_write(out_dir / "bench.html", lambda fh: fh.write(page.encode()))
