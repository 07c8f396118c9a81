"""The bench report: tables, figures (per subject, confusion), the real vs generated profile comparison, and the
page as headless Chromium renders it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from biowear.report.bench import kernel_shares, render_bench_report, spread


def _kernel(name, time_s, **ops):
    return {"phase": "feature_extraction", "kernel": name, "calls": 1, "time_s": time_s, "ops": ops}


def _metrics(conf):
    n = sum(map(sum, conf))
    acc = sum(conf[i][i] for i in range(len(conf))) / n
    recall = [conf[i][i] / sum(conf[i]) for i in range(len(conf))]
    return {"n": n, "accuracy": acc, "balanced_accuracy": sum(recall) / len(recall), "macro_f1": acc,
            "confusion": conf}  # fmt: skip


def _result(synthetic: bool):
    base = {
        "app": "CoughDet",
        "fixed_point": False,
        "arithmetic": "fp32",
        "synthetic": synthetic,
        "data_source": "generated" if synthetic else "real: coswara",
        "window_s": 0.3,
        "wall_s": 0.002,
        "dominant_phase": "feature_extraction",
        "dominant_kernel": "mfcc",
        "static_bytes": 100,
        "kernels": [_kernel("mfcc", 0.003, macs=600), _kernel("fft_power", 0.001, macs=400)]
        if synthetic
        else [_kernel("mfcc", 0.001, macs=300), _kernel("fft_power", 0.003, macs=700)],
    }
    if synthetic:
        return base
    per = {"p1": _metrics([[40, 10], [2, 8]]), "p2": _metrics([[30, 0], [5, 5]])}
    return {
        **base,
        "dataset": "coswara",
        "split": "lopo",
        "subjects": ["p1", "p2"],
        "n_windows": 100,
        "classes": ["non_cough", "cough"],
        "label_source": "clip file name",
        "chance": {"majority_of_test": 0.7, "uniform": 0.5, "balanced_accuracy": 0.5},
        "pooled": {**_metrics([[70, 10], [7, 13]]), "clip_accuracy": 0.9},
        "per_subject": per,
        "baselines": {
            "majority": {
                "pooled": _metrics([[80, 0], [20, 0]]),
                "per_subject": {s: _metrics([[1, 0], [1, 0]]) for s in per},
            },
            "sklearn": {"pooled": _metrics([[60, 20], [10, 10]]), "per_subject": per},
        },
        "notes": ["0.3 s windows"],
        "evaluations": {},
    }


def test_spread_and_kernel_shares():
    assert spread({"a": {"x": 0.2}, "b": {"x": 0.8}, "c": {"x": 0.5}}, "x") == (0.2, 0.5, 0.8)
    shares = kernel_shares(_result(False))
    assert shares["fft_power"] == {"ops": 0.7, "time": 0.75}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    page = render_bench_report([_result(True), _result(False)], out)
    return out, page


def test_report_tables_figures_and_comparison(report):
    out, page = report
    assert page == out / "bench.html"
    assert sorted(p.name for p in out.iterdir()) == [
        "CoughDet_confusion.png", "CoughDet_subjects.png", "bench.html", "bench.json", "bench.md",
    ]  # fmt: skip
    md = (out / "bench.md").read_text()
    assert "## CoughDet on coswara" in md and "| lopo | 100 | 2 | 0.830 |" in md
    assert "0.750 / 0.775 / 0.800" in md  # per-subject balanced accuracy min / median / max
    assert "clip accuracy 0.900" in md and "**SYNTHETIC**" in md
    assert "| `fft_power` | 70.0% | 40.0% | +30.0 |" in md  # ops shares real vs generated
    summary = json.loads((out / "bench.json").read_text())
    titles = [f["title"] for f in summary["figures"]]
    assert titles == [
        "coswara · CoughDet · lopo balanced accuracy per subject",
        "coswara · CoughDet · lopo confusion (pooled)",
    ]
    assert summary["figures"][0]["reference_lines"] == {"chance (1/2)": 0.5}
    assert not any(f["synthetic_banner"] for f in summary["figures"])  # real-data figures carry no banner


def test_report_renders_in_headless_chromium(report):
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium on this machine")
    out, page = report
    probe = out / "probe.html"  # the page plus a script that records what the browser loaded
    script = (
        "<script>window.addEventListener('load',()=>{document.body.setAttribute('data-images',"
        "Array.from(document.images).map(i=>i.naturalWidth+'x'+i.naturalHeight).join(','));"
        "document.body.setAttribute('data-tables',document.querySelectorAll('table').length);"
        "document.body.setAttribute('data-overflow',document.documentElement.scrollWidth>window.innerWidth)})</script>"
    )
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    try:
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
             "--window-size=1200,900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
    finally:
        probe.unlink()
    images = dom.split('data-images="', 1)[1].split('"', 1)[0].split(",")
    assert len(images) == 2 and all(int(size.split("x")[0]) > 100 for size in images), images
    assert 'data-tables="3"' in dom  # scores, profiles, kernel comparison
    assert 'data-overflow="false"' in dom  # wide tables scroll inside their box, the page does not widen
    assert "CoughDet on coswara" in dom
