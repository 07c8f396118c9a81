"""Segmentation of records into labelled windows: fixed windows and beat-centred windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from biowear.data.labels import BEAT_SYMBOLS, VF_EPISODE, LabelMap
from biowear.data.record import Annotations
from biowear.errors import ConfigError

WindowRule = Literal["priority", "majority", "centre"]
WINDOW_RULES: tuple[str, ...] = ("priority", "majority", "centre")
WINDOW_KINDS: tuple[str, ...] = ("fixed", "beat", "kachuee")


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

    def __post_init__(self) -> None:
        if self.kind not in WINDOW_KINDS:
            raise ConfigError(f"unknown window kind {self.kind!r}; valid options are: {', '.join(WINDOW_KINDS)}")
        if self.rule not in WINDOW_RULES:
            raise ConfigError(f"unknown window rule {self.rule!r}; valid options are: {', '.join(WINDOW_RULES)}")
        if not 8 <= self.window_samples <= 1_000_000:
            raise ConfigError(f"window_samples must be within 8..1000000, got {self.window_samples}")
        if self.stride_samples is not None and self.stride_samples < 1:
            raise ConfigError(f"stride_samples must be >= 1, got {self.stride_samples}")
        if not 0.0 <= self.before_fraction <= 1.0:
            raise ConfigError(f"before_fraction must be within [0, 1], got {self.before_fraction}")
        if not 0.0 < self.episode_min_overlap <= 1.0:
            raise ConfigError(f"episode_min_overlap must be within (0, 1], got {self.episode_min_overlap}")

    @property
    def stride(self) -> int:
        return self.stride_samples or self.window_samples


@dataclass(frozen=True)
class Windows:
    """Labelled windows cut from one record: ``starts`` (samples) and class ``labels``."""

    starts: np.ndarray
    labels: np.ndarray


def episode_mask(annotations: Annotations, labels: LabelMap, n_samples: int) -> np.ndarray:
    """Per-sample class index from rhythm labels and ``[``...``]`` episodes; -1 outside mapped episodes."""
    mask = np.full(n_samples, -1, dtype=np.int64)
    if not labels.has_episodes:
        return mask
    rhythm_starts = [
        (int(s), aux.strip())
        for s, sym, aux in zip(annotations.sample, annotations.symbol, annotations.aux_note)
        if sym == "+" and aux.strip().startswith("(")
    ]
    for k, (start, rhythm) in enumerate(rhythm_starts):
        cls = labels.episode_class(rhythm)
        if cls >= 0:
            end = rhythm_starts[k + 1][0] if k + 1 < len(rhythm_starts) else n_samples
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
    """Dispatch on ``config.kind`` (``fixed`` or ``beat``; ``kachuee`` beats come from :func:`kachuee_beats`)."""
    if config.kind == "kachuee":
        raise ValueError("kachuee beats have variable extent; use kachuee_beats()")
    fn = fixed_windows if config.kind == "fixed" else beat_windows
    return fn(annotations, n_samples, labels, config, use_beats)


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
    all_beats = np.asarray([s for s, sym in zip(annotations.sample, annotations.symbol) if sym in BEAT_SYMBOLS])
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
