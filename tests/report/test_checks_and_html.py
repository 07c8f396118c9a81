"""The majority-class rule and the Markdown-to-HTML rendering the reports share."""

from __future__ import annotations

import pytest

from biowear.report.checks import MAJORITY_TOLERANCE, at_majority_rate, majority_warning
from biowear.report.html import inline, markdown_to_html


def _metrics(confusion, classes=("normal", "anomaly")):
    total = sum(map(sum, confusion))
    return {
        "classes": list(classes),
        "accuracy": sum(confusion[k][k] for k in range(len(confusion))) / total,
        "support": [sum(row) for row in confusion],
        "confusion": confusion,
    }


@pytest.mark.parametrize(
    ("confusion", "expected"),
    [
        ([[80, 0], [20, 0]], True),  # one class predicted
        ([[0, 80], [0, 20]], True),  # one class predicted, the minority one
        ([[799, 1], [199, 1]], True),  # accuracy 0.8000: at the 0.8 majority share
        ([[800, 0], [195, 5]], False),  # 0.805: a hair above the tolerance
        ([[78, 2], [10, 10]], False),  # 0.88: learned something
        ([[60, 20], [0, 20]], True),  # both classes predicted, but no better than the majority share: flagged
    ],
)
def test_at_majority_rate(confusion, expected):
    assert at_majority_rate(_metrics(confusion)) is expected


def test_the_tolerance_is_half_a_percentage_point():
    assert MAJORITY_TOLERANCE == 0.005


def test_regression_metrics_are_never_flagged():
    assert not at_majority_rate({"mae": 3.0, "rmse": 4.0})
    assert majority_warning([{"mae": 3.0}]) is None


def test_warning_needs_every_network_at_the_majority_rate():
    collapsed, learned = _metrics([[80, 0], [20, 0]]), _metrics([[78, 2], [5, 15]])
    text = majority_warning([collapsed, collapsed], "variant")
    assert text is not None and "every variant" in text and "normal" in text and "80.0%" in text
    assert majority_warning([collapsed, learned]) is None
    assert majority_warning([]) is None


def test_inline_renders_code_and_bold_and_escapes():
    assert inline("a `x<y` b") == "a <code>x&lt;y</code> b"
    assert inline("**bold** & `**not bold**`") == "<strong>bold</strong> &amp; <code>**not bold**</code>"


def test_markdown_to_html_tables_scroll_and_warnings_stand_out():
    md = "# T\n\n**Warning:** look\n\n| a | b |\n|---|---:|\n| `x` | 1 |\n\n![front](front.png)\n"
    page = markdown_to_html(md, "T")
    assert "<div class='table-wrap'><table>" in page and ".table-wrap{overflow-x:auto" in page
    assert "<th>a</th>" in page and "<td><code>x</code></td>" in page and "---" not in page
    assert "<p class='warning'><strong>Warning:</strong> look</p>" in page
    assert "<img src='front.png' alt='front'>" in page
