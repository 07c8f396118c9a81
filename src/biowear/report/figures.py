"""What every report figure shares: a title naming dataset, study and split, the SYNTHETIC banner, readable log
axes, point labels, and a record of what was drawn (so reports and tests can check a figure without its pixels).

Rendering functions build and return a :class:`matplotlib.figure.Figure`; :func:`save_figure` writes the PNG,
closes the figure and returns its :class:`FigureRecord`, which the reports keep in their JSON.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: The banner text of every figure made from synthetic data.
SYNTHETIC_TEXT = "SYNTHETIC DATA — no accuracy claim"
_BANNER_GID = "synthetic-banner"


@dataclass(frozen=True)
class ReportContext:
    """What the figures and tables of one report are about.

    Args:
        dataset: the dataset name(s), e.g. ``mitdb`` or ``mitdb+cudb``.
        subject: what was explored or compressed, e.g. ``study demo-synthetic`` or ``model blocks=1,...``.
        split: the evaluated split, e.g. ``test`` or ``test (random split)``.
    """

    dataset: str
    subject: str
    split: str = "test"

    def title(self, measure: str) -> str:
        """``"<dataset> · <subject> · <split> <measure>"``, e.g. ``mitdb · study X · test accuracy``."""
        return f"{self.dataset} · {self.subject} · {self.split} {measure}"

    @staticmethod
    def of(data_config: Any, subject: str, split_kind: str | None = None) -> ReportContext:
        """The context of a :class:`~biowear.data.DataConfig` (its datasets) and a split kind."""
        names = "+".join(Path(str(d)).name for d in data_config.datasets)
        split = "test" if split_kind is None else f"test ({split_kind} split)"
        return ReportContext(names, subject, split)


@dataclass(frozen=True)
class FigureRecord:
    """What one saved figure shows.

    Attributes:
        file: the PNG's name in the report folder.
        title: the figure's title (on one line; the figure may wrap it).
        synthetic_banner: True when the SYNTHETIC banner is drawn on it.
        panels: number of visible axes.
        reference_lines: named horizontal lines (e.g. ``original``, ``loss budget``) and their y values.
        point_labels: the texts of the labelled points.
    """

    file: str
    title: str
    synthetic_banner: bool
    panels: int
    reference_lines: dict[str, float] = field(default_factory=dict)
    point_labels: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["point_labels"] = list(self.point_labels)
        return d


_BANNER_IN = 0.28  # height of the banner line, inches


def decorate(fig: Figure, title: str, synthetic: bool) -> None:
    """Give ``fig`` its title (wrapped to the figure's width) and, for synthetic data, the orange SYNTHETIC
    banner above it; :func:`save_figure` keeps both clear of the axes."""
    width_chars = max(int(fig.get_figwidth() * 13), 40)
    wrapped = "\n".join(textwrap.wrap(title, width_chars, break_on_hyphens=False)) or title
    height = fig.get_figheight()
    top = 0.06 + (_BANNER_IN if synthetic else 0.0)
    fig.suptitle(wrapped, fontsize=10, y=1 - top / height, va="top")
    if synthetic:
        fig.text(0.5, 1 - 0.05 / height, SYNTHETIC_TEXT, ha="center", va="top", color="darkorange", weight="bold",
                 gid=_BANNER_GID)  # fmt: skip


def _top_fraction(fig: Figure) -> float:
    """The share of the figure's height kept above the layout for the banner (tight_layout places the title)."""
    return (0.04 + _BANNER_IN) / fig.get_figheight() if has_banner(fig) else 0.0


def has_banner(fig: Figure) -> bool:
    """True when :func:`decorate` drew the SYNTHETIC banner on ``fig``."""
    return any(t.get_gid() == _BANNER_GID and t.get_text() == SYNTHETIC_TEXT for t in fig.texts)


def _plain(value: float, _pos: object = None) -> str:
    """A log-axis tick as a plain number: 0.5, 2, 10, 200, 1,000."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


class ReadableLogLocator(matplotlib.ticker.Locator):
    """Log-axis ticks at 1-2-5 per decade (10, 20, 50, 100); every integer multiple (10, 20, 30, ...) when the
    view spans too little for three such ticks, and only the powers of ten when it spans many decades."""

    def __call__(self) -> Sequence[float]:
        vmin, vmax = self.axis.get_view_interval()  # type: ignore[union-attr]
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        vmin, vmax = sorted((vmin, vmax))
        if vmin <= 0 or not math.isfinite(vmax):
            return []
        decades = range(math.floor(math.log10(vmin)), math.ceil(math.log10(vmax)) + 1)
        for subs in ((1, 2, 5), tuple(range(1, 10))):
            ticks = [b * 10.0**e for e in decades for b in subs]
            inside = [t for t in ticks if vmin <= t <= vmax]
            if len(inside) > 9:
                return [10.0**e for e in decades]
            if len(inside) >= 3:
                return inside
        return inside


def readable_log_x(ax: Axes) -> None:
    """A logarithmic x axis ticked with plain numbers (10, 20, 50, 100 kB), not ``10^1`` alone."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ReadableLogLocator())
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


#: Where a point label may go, in offset points from the point, with its alignment: below-right and above-left
#: first (a rising front leaves those free of its line), then further out.
_LABEL_SPOTS = (
    ((5, -9), "left"),
    ((-5, 5), "right"),
    ((5, 5), "left"),
    ((-5, -9), "right"),
    ((5, -17), "left"),
    ((-5, 13), "right"),
    ((5, 13), "left"),
    ((-5, -17), "right"),
)


def label_points(ax: Axes, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str]) -> list[str]:
    """Write ``labels`` beside the points (call once the axis scales are set); returns them.

    Each label takes the first spot of :data:`_LABEL_SPOTS` (alternating the first two along the front) where it
    overlaps no label already written, so neighbouring points stay readable.
    """
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.get_xlim(), ax.get_ylim()  # settle the autoscaled limits so that label extents are where they will be
    placed = []
    for k, (x, y, text) in enumerate(zip(xs, ys, labels)):
        spots = _LABEL_SPOTS if k % 2 == 0 else (_LABEL_SPOTS[1], _LABEL_SPOTS[0], *_LABEL_SPOTS[2:])
        for offset, ha in spots:
            note = ax.annotate(text, (x, y), xytext=offset, textcoords="offset points", ha=ha, fontsize=6,
                               color="0.2", gid="point-label")  # fmt: skip
            box = note.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed) or (offset, ha) == spots[-1]:
                placed.append(box)
                break
            note.remove()
    return list(labels)


def reference_line(ax: Axes, y: float, label: str, style: str = "--", color: str = "0.35") -> None:
    """A labelled horizontal line across ``ax`` (the original's quality, a loss budget)."""
    ax.axhline(y, ls=style, lw=1, color=color, label=label, gid="reference-line")


def reference_lines(fig: Figure) -> dict[str, float]:
    """The labelled horizontal lines :func:`reference_line` drew on ``fig``: ``{label: y}``."""
    return {
        line.get_label(): float(line.get_ydata()[0])  # type: ignore[index]
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_gid() == "reference-line"
    }


def point_labels(fig: Figure) -> tuple[str, ...]:
    """The texts :func:`label_points` wrote on ``fig``."""
    return tuple(t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "point-label")


def record(fig: Figure, file: str) -> FigureRecord:
    """The :class:`FigureRecord` of ``fig`` as it stands."""
    return FigureRecord(
        file=file,
        title=" ".join(fig.get_suptitle().splitlines()),  # as given, before decorate wrapped it
        synthetic_banner=has_banner(fig),
        panels=sum(1 for ax in fig.axes if ax.get_visible()),
        reference_lines=reference_lines(fig),
        point_labels=point_labels(fig),
    )


def save_figure(fig: Figure, path: Path) -> FigureRecord:
    """Save ``fig`` as ``path`` (PNG), close it and return what it showed."""
    import matplotlib.pyplot as plt

    rec = record(fig, path.name)
    fig.tight_layout(rect=(0, 0, 1, 1 - _top_fraction(fig)))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return rec


def records_dict(records: Iterable[FigureRecord]) -> list[dict[str, Any]]:
    """JSON-ready list of figure records."""
    return [r.to_dict() for r in records]
