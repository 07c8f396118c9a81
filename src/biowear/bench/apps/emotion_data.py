"""WESAD's wrist recordings as EmotionClass windows: stress vs non-stress, with a per-subject calibration that
precedes every scored window.

**Task** (as the WESAD paper's binary case, Schmidt et al. 2018): *stress* is the TSST interval; *non-stress*
merges the baseline and amusement intervals; the two meditations are not scored. Labels come from the
dataset's protocol intervals (``derived/e4_condition_intervals.csv``, checked against ``SX_quest.csv``).

**Calibration.** A device worn by a new subject can calibrate only on what it has recorded so far. The first
:data:`CALIBRATION_S` seconds of the subject's baseline (the protocol's first condition: sitting and reading)
are the calibration segment: the mean and standard deviation of BVP, EDA and temperature over it
(:class:`~biowear.data.recordings.CalibrationNormaliser`, which refuses a segment reaching past the first
scored window) z-score that subject's 1-s averages. Scored windows start at the end of that segment or later;
the rest of the baseline, the stress and the amusement intervals are scored. The statistics of training
subjects come from their own calibration segments in the same way; nothing of a test subject beyond its
calibration segment is used before its windows are scored.

**Windows.** Consecutive, non-overlapping 10 s windows inside each scored interval (the baseline's start moved to
the end of the calibration segment): 640 BVP, 40 EDA and 40 temperature samples at the E4 rates.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from biowear.bench.app import Window
from biowear.data.recordings import CalibrationNormaliser
from biowear.errors import DataError

#: Rates of the real EmotionClass inputs: E4 BVP (64 Hz), EDA and skin temperature (4 Hz).
REAL_RATES = {"ppg": 64.0, "gsr": 4.0, "temp": 4.0}

#: Seconds of the baseline's start used for the per-subject calibration.
CALIBRATION_S = 300.0
WINDOW_S = 10.0
CLASSES: tuple[str, ...] = ("non_stress", "stress")
#: Interval label -> class index (meditation is not scored).
SCORED: dict[str, int] = {"baseline": 0, "amusement": 0, "stress": 1}
#: App signal -> E4 signal.
E4_OF: dict[str, str] = {"ppg": "bvp", "gsr": "eda", "temp": "temp"}


def wesad_windows(ds, quick: bool = False):
    """The scored 10 s windows of every subject of ``ds`` (a ``wesad``-format dataset).

    Args:
        ds: the recording dataset (only BVP, EDA and TEMP are read).
        quick: keep every third window (tests).

    Returns:
        :class:`~biowear.bench.realdata.LabelledWindows`: labels index :data:`CLASSES`; groups are subjects; meta
        ``condition``, ``start_s`` (E4 time of each window's start) and ``calibration_end_s`` (the end of its
        subject's calibration segment, never after ``start_s``). Each window's ``annotations["calibration"]``
        is the (3, 2) mean and standard deviation of PPG, GSR and temperature over the calibration segment.

    Raises:
        DataError: a subject has no baseline interval, or the baseline is shorter than the calibration segment.
    """
    from biowear.bench.realdata import LabelledWindows

    if hasattr(ds, "signals"):
        ds = replace(ds, signals=tuple(E4_OF.values()))
    windows, labels, groups, conditions, starts, calib_ends = [], [], [], [], [], []
    for rec in ds.recordings():
        base = next((iv for iv in rec.intervals if iv.label == "baseline"), None)
        if base is None or base.duration_s <= CALIBRATION_S + WINDOW_S:
            raise DataError(
                f"{rec.source}: subject {rec.subject} needs a baseline interval longer than "
                f"{CALIBRATION_S + WINDOW_S:g} s for its calibration segment and a scored window"
            )
        calib = (base.start_s, base.start_s + CALIBRATION_S)
        signals = {name: rec.signal(e4) for name, e4 in E4_OF.items()}
        stats = np.array(
            [
                [float(n.mean[0]), float(n.std[0])]
                for n in (CalibrationNormaliser.fit(s, calib, first_scored_s=calib[1]) for s in signals.values())
            ]
        )
        k = 0
        for iv in rec.intervals:
            if iv.label not in SCORED:
                continue
            t0 = max(iv.start_s, calib[1])
            for start in np.arange(t0, iv.end_s - WINDOW_S + 1e-9, WINDOW_S):
                k += 1
                if quick and k % 3:
                    continue
                cut = _cut(signals, REAL_RATES, float(start))
                if cut is None:
                    continue
                windows.append(Window(cut, dict(REAL_RATES), SCORED[iv.label], {"calibration": stats}))
                labels.append(SCORED[iv.label])
                groups.append(rec.subject)
                conditions.append(iv.label)
                starts.append(float(start))
                calib_ends.append(calib[1])
    notes = (
        f"stress (TSST) vs non-stress (baseline + amusement; meditation not scored); non-overlapping "
        f"{WINDOW_S:g} s windows; per-subject z-scores from the first {CALIBRATION_S:g} s of the baseline, "
        "scored windows start after it" + ("; quick: every third window" if quick else ""),
    )
    return LabelledWindows(
        windows,
        np.asarray(labels),
        np.asarray(groups),
        CLASSES,
        ds.name,
        ds.label_source,
        {
            "condition": np.asarray(conditions),
            "start_s": np.asarray(starts),
            "calibration_end_s": np.asarray(calib_ends),
        },
        notes,
    )


def _cut(signals, rates: dict[str, float], start_s: float) -> dict[str, np.ndarray] | None:
    """``(1, samples)`` of each signal over ``[start_s, start_s + WINDOW_S)``; None when one runs out."""
    out = {}
    for name, sig in signals.items():
        n = int(round(rates[name] * WINDOW_S))
        i0 = int(round((start_s - sig.start_s) * sig.fs_hz))
        if i0 < 0 or i0 + n > sig.n_samples:
            return None
        out[name] = np.asarray(sig.data[i0 : i0 + n, 0], dtype=np.float64)[None, :]
    return out
