"""Reports: computing (dataclasses) is kept apart from rendering (matplotlib PNG, Markdown, HTML)."""

from __future__ import annotations

from biowear.report.explore import ComparisonRow, compare_rows, render_study_report

__all__ = ["ComparisonRow", "compare_rows", "render_study_report"]
