"""The exploration report: titled figures with the SYNTHETIC banner, labelled fronts, readable log ticks, the
majority-class warning, and an HTML page without raw Markdown and with a table that fits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from biowear.report import render_study_report
from biowear.report.explore import fronts_figure, selections_figure
from biowear.report.figures import has_banner
from biowear.search import Study, study_config_from_dict
from biowear.search.executor import LocalExecutor
from tests.search.conftest import SMALL_STUDY, FakeTrainer


class CountingTrainer(FakeTrainer):
    """The fake trainer with the test split's class counts: 80 normal and 20 anomaly windows; ``collapsed``
    networks predict "normal" for all of them (accuracy 0.8, the majority share)."""

    def __init__(self, space, collapsed: bool):
        super().__init__(space)
        self.collapsed = collapsed

    def __call__(self, task):
        ev = super().__call__(task)
        if self.collapsed:
            confusion, accuracy = [[80, 0], [20, 0]], 0.8
        else:
            hits = min(20, 8 + task.arch.blocks * 2 + task.arch.lstm_exp - 4)  # more capacity, more anomalies found
            confusion, accuracy = [[78, 2], [20 - hits, hits]], (78 + hits) / 100
        metrics = {**ev.metrics, "accuracy": accuracy, "support": [80, 20], "confusion": confusion}
        return replace(ev, metrics=metrics)


@pytest.fixture
def small_study(tmp_path):
    cfg = study_config_from_dict({**SMALL_STUDY, "space": {"blocks": [0, 3], "x": [1, 1], "lstm_exp": [4, 6]}})
    study = Study(cfg, tmp_path / "study")
    yield study
    study.close()


def _report(study, tmp_path, collapsed=False, synthetic=True):
    results = {s: study.run(s, LocalExecutor(CountingTrainer(study.space, collapsed))) for s in ("exhaustive", "nsga2")}
    out = tmp_path / ("collapsed" if collapsed else "learned")
    md = render_study_report(study, results, out, synthetic)
    return results, md, json.loads((out / "pareto.json").read_text())


def test_every_figure_is_titled_and_bannered_for_synthetic_data(small_study, tmp_path):
    results, _, doc = _report(small_study, tmp_path)
    assert {f["file"] for f in doc["figures"]} == {"fronts.png", "selections.png"}
    for fig in doc["figures"]:
        assert fig["synthetic_banner"], fig["file"]
        assert fig["title"].startswith("synthetic_ecg · study unit · test (random split) accuracy"), fig["title"]
    assert has_banner(fronts_figure(small_study, synthetic=True)[0])
    assert has_banner(selections_figure(small_study, results, synthetic=True))
    assert not has_banner(fronts_figure(small_study, synthetic=False)[0])
    assert not has_banner(selections_figure(small_study, results, synthetic=False))


def test_front_points_carry_their_architecture(small_study, tmp_path):
    results, _, doc = _report(small_study, tmp_path)
    fronts = next(f for f in doc["figures"] if f["file"] == "fronts.png")
    front = results["exhaustive"].front
    assert len(front) >= 2
    storage_labels = fronts["point_labels"][: len(front)]  # the storage panel comes first, in storage order
    expected = [small_study.space.label(p.arch).replace(",x=1", "").replace(",", " ") for p in front]
    assert storage_labels == expected  # x is fixed by the space, so it is left out of the label


def test_log_axis_ticks_are_plain_numbers(small_study, tmp_path):
    _report(small_study, tmp_path)
    fig, _ = fronts_figure(small_study, synthetic=False)
    fig.canvas.draw()
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert len(labels) >= 2, labels
        assert all("$" not in t and "^" not in t for t in labels), labels
        assert all(float(t.replace(",", "")) > 0 for t in labels)


def test_majority_warning_only_when_every_network_sits_at_the_majority_rate(small_study, tmp_path):
    _, md, doc = _report(small_study, tmp_path, collapsed=True)
    assert len(doc["warnings"]) == 1 and "majority-class rate" in doc["warnings"][0]
    assert "majority-class rate" in md.read_text()
    assert "majority-class rate" in (md.parent / "report.html").read_text()
    other = Study(replace(small_study.config, name="learned"), tmp_path / "other")
    _, md, doc = _report(other, tmp_path, collapsed=False)
    assert doc["warnings"] == [] and "majority-class rate" not in md.read_text()


def test_report_html_renders_code_spans_and_a_table_that_fits(small_study, tmp_path):
    _, md, doc = _report(small_study, tmp_path)
    page = (md.parent / "report.html").read_text()
    assert "`" in md.read_text()  # the Markdown has code spans ...
    assert "`" not in page and "**" not in page  # ... the page renders them
    assert "<code>0.5*accuracy + 0.5*H_storage</code>" in page
    assert page.count("<div class='table-wrap'>") == page.count("<table>") == 2  # every table scrolls on its own
    pareto_header = page.split("<table>")[2].split("</thead>")[0]
    assert "model" not in pareto_header and "train_time_s" not in pareto_header  # in pareto.json only
    assert all("model" in row and "train_time_s" in row for row in doc["front"])
