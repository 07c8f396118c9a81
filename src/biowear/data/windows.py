"""Segmentation of records into labelled windows: fixed windows, beat-centred windows, Kachuee beats.

Window kinds and label rules are registries (:data:`WINDOW_KINDS`, :data:`WINDOW_RULES`): a new kind is a
:class:`WindowKind` (a function cutting one preprocessed record into ``(x, y)``) plus one registration line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from biowear.data.labels import BEAT_SYMBOLS, VF_EPISODE, LabelMap, episode_key
from biowear.data.record import Annotations
from biowear.registry import Registry
from biowear.validate import Interval, check

log = logging.getLogger(__name__)

WindowRule = Literal["priority", "majority", "centre"]
WINDOW_RULES: Registry[str] = Registry("window rule")
WINDOW_RULES.register("priority", "the highest-priority class present in the window")
WINDOW_RULES.register("majority", "the most frequent class (ties by priority)")
WINDOW_RULES.register("centre", "the class of the beat nearest the window centre")


@dataclass(frozen=True)
class WindowConfig:
    """How records are cut into samples.

    Args:
        kind: ``fixed`` (consecutive windows), ``beat`` (one window around each annotated beat) or
            ``kachuee`` (Kachuee et al. 2018 beats: 10 s segments scaled to [0, 1]; each beat runs from its
            R peak for 1.2 x the segment's median RR interval, zero-padded or cut to ``window_samples``;
            the published setting is 187 samples at 125 Hz; the generic normalisation is not applied).
        window_samples: window length in samples at the working rate (BioNetExplorer: 256).
        stride_samples: step between fixed windows; default = ``window_samples`` (no overlap).
        rule: how a fixed window holding several labelled beats gets its class: ``priority`` (the
            highest-priority class present, see :class:`LabelMap`), ``majority`` (most frequent,
            ties by priority) or ``centre`` (the beat nearest the window centre).
        before_fraction: for beat windows, the fraction of the window placed before the R peak.
        episode_min_overlap: fraction of a window that must lie in a rhythm/VF episode for the
            window to take the episode's class.
    """

    kind: str = "fixed"
    window_samples: int = 256
    stride_samples: int | None = None
    rule: str = "priority"
    before_fraction: float = 0.4
    episode_min_overlap: float = 0.5

    RULES = {
        "window_samples": Interval(int, 8, 1_000_000),
        "stride_samples": Interval(int, 1, None, optional=True),
        "before_fraction": Interval(float, 0.0, 1.0),
        "episode_min_overlap": Interval(float, 0.0, 1.0, closed="right"),
    }

    def __post_init__(self) -> None:
        WINDOW_KINDS.get(self.kind)
        WINDOW_RULES.get(self.rule)
        check(self, self.RULES)

    @property
    def stride(self) -> int:
        return self.stride_samples or self.window_samples


@dataclass(frozen=True)
class Windows:
    """Labelled windows cut from one record: ``starts`` (samples) and class ``labels``."""

    starts: np.ndarray
    labels: np.ndarray


def episode_mask(annotations: Annotations, labels: LabelMap, n_samples: int) -> np.ndarray:
    """Per-sample class index from aux-note episodes and ``[``...``]`` episodes; -1 outside mapped episodes.

    An episode of a rhythm code (``(VT``) starts at a ``+`` annotation whose aux note is the code, one of an
    ``aux:TEXT`` code at any annotation whose aux note is ``TEXT``; either lasts until the next annotation of
    the same symbol carrying a non-empty aux note (or the record's end).
    """
    mask = np.full(n_samples, -1, dtype=np.int64)
    if not labels.has_episodes:
        return mask
    notes = [
        (int(s), sym, aux.strip())
        for s, sym, aux in zip(annotations.sample, annotations.symbol, annotations.aux_note)
        if aux.strip()
    ]
    wanted = {}
    for code in labels.episode_codes():
        symbol, text = episode_key(code)
        wanted.setdefault(text, []).append((symbol, labels.episode_class(code)))
    for k, (start, sym, text) in enumerate(notes):
        for symbol, cls in wanted.get(text, ()):
            if symbol is not None and symbol != sym:
                continue
            end = next((s for s, other, _ in notes[k + 1 :] if other == sym), n_samples)
            mask[start:end] = cls
    vf_cls = labels.episode_class(VF_EPISODE)
    if vf_cls >= 0:
        open_at: int | None = None
        for s, sym in zip(annotations.sample, annotations.symbol):
            if sym == "[":
                open_at = int(s)
            elif sym == "]" and open_at is not None:
                mask[open_at : int(s) + 1] = vf_cls
                open_at = None
        if open_at is not None:
            mask[open_at:] = vf_cls
    return mask


def _beat_classes(annotations: Annotations, labels: LabelMap, use_beats: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positions and class indices of the mapped beat annotations."""
    if not use_beats or not len(annotations):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cls = np.array([labels.beat_class(s) for s in annotations.symbol], dtype=np.int64)
    keep = cls >= 0
    return annotations.sample[keep], cls[keep]


def _episode_label(mask: np.ndarray, start: int, length: int, n_classes: int, min_overlap: float) -> int:
    seg = mask[start : start + length]
    inside = seg[seg >= 0]
    if inside.size < min_overlap * length:
        return -1
    return int(np.bincount(inside, minlength=n_classes).argmax())


def fixed_windows(
    annotations: Annotations, n_samples: int, labels: LabelMap, config: WindowConfig, use_beats: bool = True
) -> Windows:
    """Consecutive windows, each labelled from the annotations inside it; unlabelled windows are dropped.

    Episode classes win over beat classes when the window overlaps the episode by at least
    ``config.episode_min_overlap``.
    """
    length = config.window_samples
    starts_all = np.arange(0, n_samples - length + 1, config.stride, dtype=np.int64)
    beat_pos, beat_cls = _beat_classes(annotations, labels, use_beats)
    mask = episode_mask(annotations, labels, n_samples)
    rank = np.asarray(labels.rank)
    lo_idx = np.searchsorted(beat_pos, starts_all, side="left")
    hi_idx = np.searchsorted(beat_pos, starts_all + length, side="left")
    starts, out = [], []
    for start, lo, hi in zip(starts_all, lo_idx, hi_idx):
        label = _episode_label(mask, int(start), length, labels.n_classes, config.episode_min_overlap)
        if label < 0 and hi > lo:
            present = beat_cls[lo:hi]
            if config.rule == "priority":
                label = int(present[np.argmin(rank[present])])
            elif config.rule == "majority":
                counts = np.bincount(present, minlength=labels.n_classes)
                best = np.flatnonzero(counts == counts.max())
                label = int(best[np.argmin(rank[best])])
            else:  # centre
                centre = start + length / 2
                label = int(present[np.argmin(np.abs(beat_pos[lo:hi] - centre))])
        if label >= 0:
            starts.append(start)
            out.append(label)
    return Windows(np.asarray(starts, dtype=np.int64), np.asarray(out, dtype=np.int64))


def beat_windows(
    annotations: Annotations, n_samples: int, labels: LabelMap, config: WindowConfig, use_beats: bool = True
) -> Windows:
    """One window per mapped beat, ``before_fraction`` of it before the R peak.

    Beats lying in a mapped episode take the episode's class; episodes (which may hold no beats, as in
    ventricular fibrillation) are additionally tiled with fixed windows so episode classes get samples.
    """
    length = config.window_samples
    before = int(round(config.before_fraction * length))
    beat_pos, beat_cls = _beat_classes(annotations, labels, use_beats)
    mask = episode_mask(annotations, labels, n_samples)
    starts = beat_pos - before
    ok = (starts >= 0) & (starts + length <= n_samples)
    starts, cls = starts[ok], beat_cls[ok].copy()
    in_episode = mask[beat_pos[ok]] >= 0
    cls[in_episode] = mask[beat_pos[ok]][in_episode]
    if labels.has_episodes:
        tiled = fixed_windows(annotations, n_samples, labels, config, use_beats=False)
        starts = np.concatenate([starts, tiled.starts])
        cls = np.concatenate([cls, tiled.labels])
        order = np.argsort(starts, kind="stable")
        starts, cls = starts[order], cls[order]
    return Windows(starts.astype(np.int64), cls.astype(np.int64))


def segment(
    annotations: Annotations, n_samples: int, labels: LabelMap, config: WindowConfig, use_beats: bool = True
) -> Windows:
    """Window starts and labels of a ``fixed`` or ``beat`` kind (``kachuee`` beats come from :func:`kachuee_beats`)."""
    kind = WINDOW_KINDS.get(config.kind)
    if kind.starts is None:
        raise ValueError(f"{config.kind} windows have variable extent; use WINDOW_KINDS.get({config.kind!r}).cut")
    return kind.starts(annotations, n_samples, labels, config, use_beats)


def kachuee_beats(
    signal: np.ndarray,
    annotations: Annotations,
    labels: LabelMap,
    fs_hz: float,
    length: int,
    use_beats: bool = True,
    segment_s: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beats as in Kachuee et al. (2018), from annotated R peaks (the paper detects peaks; labels come from
    the annotations here, so their positions are used).

    Args:
        signal: ``(n_samples, n_channels)`` at ``fs_hz``.
        annotations: beat annotations (positions at ``fs_hz``).
        labels: the label map.
        fs_hz: sampling rate.
        length: output length per beat (187 in the paper).
        use_beats: False for datasets whose beats carry no class.
        segment_s: segment length for scaling and the nominal period (10 s in the paper).

    Returns:
        ``x`` of shape ``(n_beats, n_channels, length)`` in [0, 1] and the class of each beat.
    """
    pos, cls = _beat_classes(annotations, labels, use_beats)
    all_beats = np.asarray(
        [
            s
            for s, sym in zip(annotations.sample, annotations.symbol)
            if sym in BEAT_SYMBOLS or labels.beat_class(sym) >= 0
        ]
    )
    seg = int(round(segment_s * fs_hz))
    xs, ys = [], []
    for start in range(0, signal.shape[0] - seg + 1, seg):
        in_seg = (pos >= start) & (pos < start + seg)
        if not in_seg.any():
            continue
        beats = all_beats[(all_beats >= start) & (all_beats < start + seg)]
        if len(beats) < 2:
            continue
        period = int(round(1.2 * np.median(np.diff(beats))))
        part = signal[start : start + seg]
        lo, hi = part.min(axis=0), part.max(axis=0)
        scaled = (part - lo) / np.where(hi > lo, hi - lo, 1.0)
        for p, c in zip(pos[in_seg] - start, cls[in_seg]):
            piece = scaled[p : p + min(period, length)]
            out = np.zeros((length, signal.shape[1]), dtype=np.float32)
            out[: len(piece)] = piece
            xs.append(out.T)
            ys.append(c)
    if not xs:
        return np.zeros((0, signal.shape[1], length), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def drop_invalid(win: Windows, invalid: np.ndarray, n_samples: int, length: int) -> Windows:
    """Remove windows that overlap samples the source marked invalid (mask mapped to the working rate)."""
    source = np.minimum((np.arange(n_samples) * len(invalid)) // n_samples, len(invalid) - 1)
    bad = np.concatenate([[0], np.cumsum(invalid[source])])
    keep = bad[win.starts + length] - bad[win.starts] == 0
    if not keep.all():
        log.info("dropped %d window(s) over invalid samples", int((~keep).sum()))
    return Windows(win.starts[keep], win.labels[keep])


StartsFn = Callable[[Annotations, int, LabelMap, WindowConfig, bool], Windows]


@dataclass(frozen=True)
class CutContext:
    """One preprocessed record to cut: ``signal`` ``(n_samples, n_channels)`` at ``fs_hz`` with its annotations
    (positions at ``fs_hz``), the invalid-sample mask of the source (or None) and whether beats carry classes."""

    signal: np.ndarray
    annotations: Annotations
    fs_hz: float
    invalid: np.ndarray | None = None
    use_beats: bool = True


@dataclass(frozen=True)
class WindowKind:
    """A registered way of cutting records into windows.

    Args:
        description: one line for help texts.
        starts: for kinds of fixed extent, the function giving window starts and labels (see :func:`segment`);
            None for kinds with their own cutter.
        own_cut: for the others, ``(context, labels, config) -> (x, y)``.
        self_normalised: True when the kind scales its windows itself (the ``window`` normalisation is skipped).
    """

    description: str
    starts: StartsFn | None = None
    own_cut: Callable[[CutContext, LabelMap, WindowConfig], tuple[np.ndarray, np.ndarray]] | None = None
    self_normalised: bool = False

    def cut(self, ctx: CutContext, labels: LabelMap, config: WindowConfig) -> tuple[np.ndarray, np.ndarray]:
        """Windows ``(n, n_channels, window_samples)`` float32 and their int64 class indices."""
        if self.own_cut is not None:
            return self.own_cut(ctx, labels, config)
        assert self.starts is not None
        n = ctx.signal.shape[0]
        win = self.starts(ctx.annotations, n, labels, config, ctx.use_beats)
        if ctx.invalid is not None and ctx.invalid.any():
            win = drop_invalid(win, ctx.invalid, n, config.window_samples)
        offsets = win.starts[:, None] + np.arange(config.window_samples)[None, :]
        x = np.transpose(ctx.signal[offsets], (0, 2, 1)).astype(np.float32)
        return x, win.labels


def _kachuee_cut(ctx: CutContext, labels: LabelMap, config: WindowConfig) -> tuple[np.ndarray, np.ndarray]:
    return kachuee_beats(ctx.signal, ctx.annotations, labels, ctx.fs_hz, config.window_samples, ctx.use_beats)


WINDOW_KINDS: Registry[WindowKind] = Registry("window kind")
WINDOW_KINDS.register("fixed", WindowKind("consecutive windows labelled by their beats/episodes", fixed_windows))
WINDOW_KINDS.register("beat", WindowKind("one window around each annotated beat", beat_windows))
WINDOW_KINDS.register(
    "kachuee", WindowKind("Kachuee et al. 2018 beats (R peak + 1.2 x median RR, [0, 1])", None, _kachuee_cut, True)
)
