"""Validation of the R-peak detectors against MIT-BIH reference beat annotations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.bench.matching import match_events
from biowear.data.datasets import get_dataset
from biowear.data.labels import BEAT_SYMBOLS
from biowear.registry import Registry
from biowear.signal.morphology import morphological_filter
from biowear.signal.rpeaks import pan_tompkins, reward

#: MIT-BIH annotation codes that mark a beat (the reference for detection).
BEAT_CODES = frozenset(BEAT_SYMBOLS)

DETECTORS: Registry[Callable[[np.ndarray, float], np.ndarray]] = Registry("R-peak detector")
DETECTORS.register("pan_tompkins", pan_tompkins)
DETECTORS.register("reward", lambda x, fs: reward(morphological_filter(x, fs), fs))


@dataclass(frozen=True)
class DetectionScore:
    """Detection counts of one detector on one record, and the time it took."""

    record: str
    detector: str
    tp: int
    fn: int
    fp: int
    seconds: float
    signal_s: float

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def positive_predictivity(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")


def evaluate_record(
    record_id: str,
    detectors: tuple[str, ...] = ("pan_tompkins", "reward"),
    root: Path | None = None,
    tolerance_s: float = 0.15,
    channel: int = 0,
) -> list[DetectionScore]:
    """Run each detector on one MIT-BIH lead and match its beats one-to-one within ``tolerance_s``."""
    rec = get_dataset("mitdb").load(record_id, root)
    x = rec.signal[:, channel].astype(np.float64)
    is_beat = np.array([s in BEAT_CODES for s in rec.annotations.symbol], dtype=bool)
    ref = rec.annotations.sample[is_beat]
    out = []
    for name in detectors:
        fn = DETECTORS.get(name)
        start = time.perf_counter()
        det = fn(x, rec.fs_hz)
        elapsed = time.perf_counter() - start
        m = match_events(ref, det, int(round(tolerance_s * rec.fs_hz)))
        out.append(DetectionScore(record_id, name, m.tp, m.fn, m.fp, elapsed, x.size / rec.fs_hz))
    return out


def totals(scores: list[DetectionScore]) -> dict[str, DetectionScore]:
    """Gross (beat-weighted) totals per detector."""
    out = {}
    for name in dict.fromkeys(s.detector for s in scores):
        ss = [s for s in scores if s.detector == name]
        out[name] = DetectionScore(
            "all",
            name,
            sum(s.tp for s in ss),
            sum(s.fn for s in ss),
            sum(s.fp for s in ss),
            sum(s.seconds for s in ss),
            sum(s.signal_s for s in ss),
        )
    return out
