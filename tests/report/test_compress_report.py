"""The compression report: budget and original lines, labelled front, one ROC panel for binary tasks, the
SYNTHETIC banner on every figure, the majority-class warning, and compression.html."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biowear.compress.points import CONTROL, CompressionPoint, best_within_loss, quality_loss
from biowear.report.compress import render_compression_report, roc_figure
from biowear.report.figures import ReportContext, has_banner
from biowear.train.metrics import compute_metrics

CLASSES = ("normal", "anomaly")
CONTEXT = ReportContext("synthetic_ecg", "model blocks=1,x=1,lstm=16", "test (random split)")


def _labels(n: int = 200, seed: int = 0, classes: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = [0.7, 0.3] if classes == 2 else [0.5, 0.3, 0.2]
    return rng.choice(classes, size=n, p=weights)


def _proba(y: np.ndarray, skill: float, seed: int, classes: int = 2) -> np.ndarray:
    """Seeded class probabilities whose argmax is right about ``skill`` of the time (0: always class 0)."""
    rng = np.random.default_rng(seed)
    out = rng.uniform(0, 0.3, size=(len(y), classes))
    if skill == 0:
        out[:, 0] += 1.0  # a collapsed network: class 0 everywhere
    else:
        right = rng.random(len(y)) < skill
        out[np.arange(len(y)), np.where(right, y, (y + 1) % classes)] += 1.0
    return out / out.sum(axis=1, keepdims=True)


def _points(skills: dict[tuple[str, float, int | None], float], classes: int = 2) -> list[CompressionPoint]:
    """Points with metrics from seeded predictions; the first key is the original; storage halves per point."""
    y = _labels(classes=classes)
    names = CLASSES if classes == 2 else ("N", "S", "V")
    points, original_quality = [], None
    for k, ((method, sparsity, bits), skill) in enumerate(skills.items()):
        metrics = compute_metrics(y, _proba(y, skill, seed=k, classes=classes), names)
        original_quality = metrics.accuracy if original_quality is None else original_quality
        storage = 16_000 / (1 + k)
        points.append(
            CompressionPoint(
                method=method,
                sparsity=sparsity,
                bits=bits,
                quality=metrics.accuracy,
                quality_loss=quality_loss(original_quality, metrics.accuracy, "accuracy")[0],
                metrics=metrics,
                storage_bytes=storage,
                compression=16_000 / storage,
                macs=1000,
                effective_macs=1000,
                latency_ms=0.5,
            )
        )
    return points


LEARNED = {
    ("original", 0.0, None): 0.95,
    ("kmeans", 0.0, 4): 0.95,
    ("kmeans", 0.0, 3): 0.93,
    ("prune-global", 0.5, None): 0.9,
    ("prune-global+kmeans", 0.8, 3): 0.8,
}
COLLAPSED = {key: 0.0 for key in LEARNED}


def _render(tmp_path, points, max_loss=1.0, synthetic=True):
    chosen = best_within_loss(points, max_loss)
    md = render_compression_report(points, tmp_path, "accuracy", chosen, synthetic, max_loss=max_loss, context=CONTEXT)
    return md, json.loads((tmp_path / "compression.json").read_text()), chosen


def test_front_has_the_original_and_the_loss_budget_lines(tmp_path):
    points = _points(LEARNED)
    _, doc, chosen = _render(tmp_path, points, max_loss=1.0)
    front = next(f for f in doc["figures"] if f["file"] == "front.png")
    lines = front["reference_lines"]
    budget = next(v for k, v in lines.items() if k.startswith("loss budget"))
    original = next(v for k, v in lines.items() if k.startswith("original"))
    assert original == pytest.approx(points[0].quality)
    assert budget == pytest.approx(points[0].quality - 0.01)  # 1 pp below the original
    assert chosen is not None and chosen.quality >= budget - 1e-12  # the chosen variant lies on or above it
    assert all(p.quality < budget for p in points if p.compression > chosen.compression)
    assert doc["max_loss"] == 1.0


def test_the_budget_is_measured_from_the_control_arm_when_it_is_better(tmp_path):
    skills = {("original", 0.0, None): 0.85, (CONTROL, 0.0, None): 0.95, ("kmeans", 0.0, 4): 0.9}
    points = _points(skills)
    _, doc, _ = _render(tmp_path, points, max_loss=2.0)
    lines = doc["figures"][0]["reference_lines"]
    budget_label = next(k for k in lines if k.startswith("loss budget"))
    assert CONTROL in budget_label and lines[budget_label] == pytest.approx(points[1].quality - 0.02)


def test_without_a_budget_there_is_no_budget_line(tmp_path):
    points = _points(LEARNED)
    render_compression_report(points, tmp_path, "accuracy", None, False)
    lines = json.loads((tmp_path / "compression.json").read_text())["figures"][0]["reference_lines"]
    assert not any(k.startswith("loss budget") for k in lines) and any(k.startswith("original") for k in lines)


def test_front_points_are_labelled_with_sparsity_and_bits(tmp_path):
    _, doc, _ = _render(tmp_path, _points(LEARNED))
    front = next(f for f in doc["figures"] if f["file"] == "front.png")
    on_front = [r["variant"] for r in doc["points"] if r["pareto"]]
    assert len(front["point_labels"]) == len(on_front) >= 2
    assert "fp32" in front["point_labels"] or "q=4" in front["point_labels"]
    assert any("s=" in label or "q=" in label for label in front["point_labels"])


def test_every_figure_of_synthetic_data_has_the_banner_and_a_title(tmp_path):
    _, doc, _ = _render(tmp_path, _points(LEARNED), synthetic=True)
    assert {f["file"] for f in doc["figures"]} == {"front.png", "roc.png"}
    for fig in doc["figures"]:
        assert fig["synthetic_banner"], fig["file"]
        assert fig["title"].startswith("synthetic_ecg · model blocks=1,x=1,lstm=16 · test (random split) ")
    _, real, _ = _render(tmp_path / "real", _points(LEARNED), synthetic=False)
    assert not any(f["synthetic_banner"] for f in real["figures"])


def test_roc_has_one_panel_for_a_binary_task_and_one_per_class_otherwise(tmp_path):
    binary = roc_figure(_points(LEARNED), None, synthetic=True, context=CONTEXT)
    assert len(binary.axes) == 1 and binary.axes[0].get_title() == "class anomaly vs normal"
    assert has_banner(binary)
    three = _points({("original", 0.0, None): 0.9, ("kmeans", 0.0, 4): 0.85}, classes=3)
    multi = roc_figure(three, None, synthetic=False, context=CONTEXT)
    assert sum(ax.get_visible() for ax in multi.axes) == 3 and not has_banner(multi)
    _, doc, _ = _render(tmp_path, _points(LEARNED))
    assert next(f for f in doc["figures"] if f["file"] == "roc.png")["panels"] == 1


def test_majority_warning_only_when_every_variant_predicts_the_majority(tmp_path):
    md, doc, _ = _render(tmp_path / "collapsed", _points(COLLAPSED))
    assert doc["warnings"] and "majority-class rate" in doc["warnings"][0]
    assert "majority-class rate" in md.read_text()
    assert "majority-class rate" in (tmp_path / "collapsed" / "compression.html").read_text()
    md, doc, _ = _render(tmp_path / "learned", _points(LEARNED))
    assert doc["warnings"] == [] and "majority-class rate" not in md.read_text()


def test_compression_html_holds_the_table_and_the_images(tmp_path):
    md, _, chosen = _render(tmp_path, _points(LEARNED))
    page = (tmp_path / "compression.html").read_text()
    assert page.startswith("<!doctype html>") and "<table>" in page and "<th>variant</th>" in page
    assert "<img src='front.png'" in page and "<img src='roc.png'" in page
    assert chosen is not None and f"<strong>{chosen.label()}</strong>" in page
    assert "`" not in page and "**" not in page
