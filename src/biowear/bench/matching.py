"""One-to-one matching of detected events to reference annotations within a tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MatchResult:
    """Matched pairs (indices into the reference and detection arrays) and the counts they imply."""

    ref_index: np.ndarray
    det_index: np.ndarray
    n_ref: int
    n_det: int

    @property
    def tp(self) -> int:
        return int(self.ref_index.size)

    @property
    def fn(self) -> int:
        return self.n_ref - self.tp

    @property
    def fp(self) -> int:
        return self.n_det - self.tp

    @property
    def sensitivity(self) -> float:
        return self.tp / self.n_ref if self.n_ref else float("nan")

    @property
    def positive_predictivity(self) -> float:
        return self.tp / self.n_det if self.n_det else float("nan")


def match_events(reference: np.ndarray, detected: np.ndarray, tolerance: int) -> MatchResult:
    """Match sorted sample positions one-to-one: each detection pairs with at most one reference event
    within ``tolerance`` samples; candidates are taken closest-first, so a detection between two beats goes
    to the nearer one and an extra detection next to a matched one counts as a false positive.
    """
    ref = np.sort(np.asarray(reference, dtype=np.int64))
    det = np.sort(np.asarray(detected, dtype=np.int64))
    if ref.size == 0 or det.size == 0:
        return MatchResult(np.zeros(0, np.int64), np.zeros(0, np.int64), int(ref.size), int(det.size))
    # candidate pairs: each reference event with the detections inside its tolerance window
    lo = np.searchsorted(det, ref - tolerance, side="left")
    hi = np.searchsorted(det, ref + tolerance, side="right")
    counts = hi - lo
    r_idx = np.repeat(np.arange(ref.size), counts)
    d_idx = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]) if counts.sum() else np.zeros(0, np.int64)
    dist = np.abs(ref[r_idx] - det[d_idx])
    order = np.lexsort((d_idx, dist))
    used_r = np.zeros(ref.size, bool)
    used_d = np.zeros(det.size, bool)
    pr, pd = [], []
    for k in order:
        r, d = r_idx[k], d_idx[k]
        if not used_r[r] and not used_d[d]:
            used_r[r] = used_d[d] = True
            pr.append(r)
            pd.append(d)
    pr_a, pd_a = np.asarray(pr, np.int64), np.asarray(pd, np.int64)
    keep = np.argsort(pr_a)
    return MatchResult(pr_a[keep], pd_a[keep], int(ref.size), int(det.size))
