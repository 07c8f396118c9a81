"""Coswara clips as CoughDet's audio-only windows, and clip-level scores.

**Windows.** Each clip is resampled from 48 kHz to 16 kHz with ``resample_poly`` (ratio 1/3) and cut into
consecutive, non-overlapping 0.3 s windows (4800 samples) from its start; a partial last window is dropped.
Each window takes its clip's label (``cough-*`` clips are cough, breathing, counting and vowel are not).

**Active windows only.** A clip's label says which sound it holds, not when: a cough clip is a few short
bursts with silence between them (the folder's README measures a median active fraction of 0.24-0.28), and a
silent window of a cough clip holds no cough. So, like the folder's own burst analysis, a window is scored only
when its RMS lies within :data:`ACTIVE_DB` dB of the loudest window of its clip; the others are not labelled and
not scored. This uses the clip's level to *label* windows (it is part of the reference, as the runs of the UCI
EMG classes are); no feature and no classifier input depends on it.

**Clip level.** A clip is decided cough when at least half of its scored windows are decided cough
(:func:`clip_scores`).
"""

from __future__ import annotations

import numpy as np

from biowear.bench.app import Window

#: A window is active (scored) when its RMS is within this many dB of its clip's loudest window.
ACTIVE_DB = 25.0
CLASSES: tuple[str, ...] = ("non_cough", "cough")


def cough_windows_of(ds, quick: bool = False, audio_hz: float = 16000.0, window_s: float = 0.3):
    """The active 0.3 s windows of every clip of ``ds`` (a ``coswara``-format dataset).

    Args:
        ds: the recording dataset.
        quick: keep at most 4 active windows per clip (tests).
        audio_hz: the application's audio rate.
        window_s: the window length.

    Returns:
        :class:`~biowear.bench.realdata.LabelledWindows`: labels index :data:`CLASSES`, groups are participants,
        meta ``clip`` (record id), ``sound`` and ``start_s``.
    """
    from biowear.bench.realdata import LabelledWindows
    from biowear.data.recordings import resample_signal

    n = int(round(audio_hz * window_s))
    windows, labels, groups, clips, sounds, starts = [], [], [], [], [], []
    kept = total = 0
    for rec in ds.recordings():
        audio = resample_signal(rec.signal("audio"), audio_hz)
        x = audio.data[:, 0]
        cuts = np.arange(0, len(x) - n + 1, n)
        if len(cuts) == 0:
            continue
        rms = np.sqrt(np.array([np.mean(x[s : s + n] ** 2) for s in cuts]))
        active = rms >= rms.max() * 10 ** (-ACTIVE_DB / 20)
        label = CLASSES.index("cough" if rec.intervals and rec.intervals[0].label == "cough" else "non_cough")
        chosen = cuts[active][:4] if quick else cuts[active]
        total += len(cuts)
        kept += int(active.sum())
        for s in chosen:
            windows.append(Window({"audio": x[None, s : s + n].copy()}, {"audio": audio.fs_hz}, label))
            labels.append(label)
            groups.append(rec.subject)
            clips.append(rec.record_id)
            sounds.append(str(rec.meta.get("sound", rec.record_id.rsplit("/", 1)[-1])))
            starts.append(s / audio_hz)
    notes = (
        f"clips resampled to {audio_hz:g} Hz (resample_poly); non-overlapping {window_s:g} s windows; {kept} of "
        f"{total} windows active (RMS within {ACTIVE_DB:g} dB of the clip's loudest window) and scored"
        + ("; quick: at most 4 per clip" if quick else ""),
        "clip level: a clip is cough when at least half of its scored windows are decided cough",
    )
    return LabelledWindows(
        windows,
        np.asarray(labels),
        np.asarray(groups),
        CLASSES,
        ds.name,
        ds.label_source,
        {"clip": np.asarray(clips), "sound": np.asarray(sounds), "start_s": np.asarray(starts)},
        notes,
    )


def clip_scores(data, pred: np.ndarray) -> dict[str, float]:
    """Window sensitivity/specificity and clip-level accuracy, sensitivity and specificity.

    A clip's reference is its windows' label; its decision is cough when at least half of its windows in
    ``data`` are decided cough (``pred`` = 1). Rates without a positive (negative) clip are NaN.
    """
    pred = np.asarray(pred, dtype=np.int64)
    y = data.labels
    out = {
        "window_sensitivity": _rate(pred[y == 1] == 1),
        "window_specificity": _rate(pred[y == 0] == 0),
    }
    clip_y, clip_p = [], []
    for clip in dict.fromkeys(data.meta["clip"].tolist()):
        idx = data.meta["clip"] == clip
        clip_y.append(int(y[idx][0]))
        clip_p.append(int(np.mean(pred[idx]) >= 0.5))
    cy, cp = np.asarray(clip_y), np.asarray(clip_p)
    out.update(
        clips=float(len(cy)),
        clip_accuracy=float(np.mean(cy == cp)),
        clip_sensitivity=_rate(cp[cy == 1] == 1),
        clip_specificity=_rate(cp[cy == 0] == 0),
    )
    return out


def _rate(hits: np.ndarray) -> float:
    return float(np.mean(hits)) if len(hits) else float("nan")
