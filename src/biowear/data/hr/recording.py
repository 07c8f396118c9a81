"""One PPG heart-rate recording: wrist PPG and accelerometer (each at its own rate), the reference heart rate
per window, and optionally the ECG it came from.

Windows follow the IEEE SPC 2015 / PPG-DaLiA convention: window ``k`` covers ``[k * shift_s, k * shift_s +
window_s)`` seconds of the recording (8 s long, 2 s shift), the same time span in every sensor. The number
of windows is ``floor((N - W) / S) + 1`` for a sensor of ``N`` samples with ``W = window_s * fs`` and ``S =
shift_s * fs``, the smallest over PPG and accelerometer; for IEEE SPC 2015 at 125 Hz that is
``floor((N - 1000) / 250) + 1``, the length of ``BPM0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import DataError

#: Names of the accelerometer axes (columns of :attr:`HRRecording.acc`).
ACC_AXES: tuple[str, ...] = ("x", "y", "z")


def samples_per(seconds: float, fs_hz: float, source: str, what: str) -> int:
    """``seconds * fs_hz`` as a whole number of samples.

    Raises:
        DataError: the product is not a whole number (windows would not start on a sample).
    """
    n = seconds * fs_hz
    if n < 1 or abs(n - round(n)) > 1e-6:
        raise DataError(
            f"{source}: {what} of {seconds:g} s is {n:g} samples at {fs_hz:g} Hz; it must be a whole number of "
            f"samples (choose a rate for which {seconds:g} s * rate is an integer)"
        )
    return int(round(n))


def window_count(n_samples: int, fs_hz: float, window_s: float, shift_s: float, source: str = "recording") -> int:
    """Windows of ``window_s`` every ``shift_s`` in ``n_samples`` at ``fs_hz``: ``floor((N - W) / S) + 1``
    (0 when the signal is shorter than one window)."""
    w = samples_per(window_s, fs_hz, source, "the window")
    s = samples_per(shift_s, fs_hz, source, "the shift")
    return 0 if n_samples < w else (n_samples - w) // s + 1


def _formula(n: int, fs_hz: float, window_s: float, shift_s: float) -> str:
    w, s = int(round(window_s * fs_hz)), int(round(shift_s * fs_hz))
    return (
        f"floor((N - {w})/{s}) + 1 with N = {n} samples at {fs_hz:g} Hz ({window_s:g} s windows, {shift_s:g} s shift)"
    )


def _check_finite(source: str, what: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"{source}: {what} holds {int(bad.sum())} NaN/inf value(s) (first at sample {int(np.argmax(bad))})"
        )


def _rate(source: str, what: str, fs_hz: object) -> float:
    try:
        fs = float(fs_hz)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fs = float("nan")
    if not np.isfinite(fs) or fs <= 0:
        raise DataError(f"{source}: the {what} sampling rate must be a positive number of Hz, got {fs_hz!r}")
    return fs


@dataclass(frozen=True)
class HRRecording:
    """A validated heart-rate recording.

    Args:
        subject_id: the person (the group of group / leave-one-subject-out splits).
        recording_id: the recording (e.g. ``DATA_01_TYPE01``).
        ppg: float ``(n_ppg_samples, n_ppg_channels)`` (a 1-D array is one channel).
        ppg_fs_hz: the PPG rate in Hz.
        acc: float ``(n_acc_samples, 3)``, axes x, y, z (in g where the source says so).
        acc_fs_hz: the accelerometer rate in Hz.
        bpm: reference heart rate in BPM per window (``n_windows`` values), or None (no reference).
        bpm_valid: per window, False where the reference is unusable (e.g. an ECG window without beats);
            those values may be NaN. None: every window is valid.
        ecg: optional ECG ``(n_ecg_samples,)`` the reference was derived from.
        ecg_fs_hz: its rate in Hz (required with ``ecg``).
        window_s, shift_s: window length and shift in seconds (8 and 2 in SPC 2015, DaLiA and WESAD).
        source: the file it was read from (named in every error).
        dataset: the dataset name, if any.

    Raises:
        DataError: wrong shapes, a NaN/inf sample (naming the file and the channel), a recording shorter
            than one window, or a reference whose length differs from the number of windows (stating both
            and the formula).
    """

    subject_id: str
    recording_id: str
    ppg: np.ndarray
    ppg_fs_hz: float
    acc: np.ndarray
    acc_fs_hz: float
    bpm: np.ndarray | None = None
    bpm_valid: np.ndarray | None = None
    ecg: np.ndarray | None = None
    ecg_fs_hz: float | None = None
    window_s: float = 8.0
    shift_s: float = 2.0
    source: str = ""
    dataset: str = ""

    def __post_init__(self) -> None:
        src = self.source or self.recording_id
        set_ = object.__setattr__
        ppg = np.asarray(self.ppg, dtype=np.float64)
        ppg = ppg[:, None] if ppg.ndim == 1 else ppg
        if ppg.ndim != 2 or ppg.shape[1] < 1 or ppg.shape[0] == 0:
            raise DataError(f"{src}: PPG must be (samples, channels), got shape {np.shape(self.ppg)}")
        acc = np.asarray(self.acc, dtype=np.float64)
        if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape[0] == 0:
            raise DataError(f"{src}: accelerometer must be (samples, 3) for axes x, y, z, got shape {acc.shape}")
        set_(self, "ppg_fs_hz", _rate(src, "PPG", self.ppg_fs_hz))
        set_(self, "acc_fs_hz", _rate(src, "accelerometer", self.acc_fs_hz))
        for c in range(ppg.shape[1]):
            _check_finite(src, f"PPG channel {c + 1}", ppg[:, c])
        for c, axis in enumerate(ACC_AXES):
            _check_finite(src, f"accelerometer axis {axis}", acc[:, c])
        set_(self, "ppg", ppg)
        set_(self, "acc", acc)
        if self.ecg is not None:
            ecg = np.asarray(self.ecg, dtype=np.float64).reshape(-1)
            if self.ecg_fs_hz is None:
                raise DataError(f"{src}: an ECG needs its sampling rate (ecg_fs_hz)")
            set_(self, "ecg_fs_hz", _rate(src, "ECG", self.ecg_fs_hz))
            _check_finite(src, "ECG", ecg)
            set_(self, "ecg", ecg)
        n = self.n_windows
        if n < 1:
            raise DataError(
                f"{src}: the recording is {self.duration_s:.2f} s long; one {self.window_s:g} s window needs at "
                f"least {self.window_s:g} s of PPG and accelerometer"
            )
        self._check_reference(src, n)

    def _check_reference(self, src: str, n: int) -> None:
        if self.bpm is None:
            if self.bpm_valid is not None:
                raise DataError(f"{src}: bpm_valid is given without a reference bpm")
            return
        bpm = np.asarray(self.bpm, dtype=np.float64).reshape(-1)
        if len(bpm) != n:
            limiting = min((len(self.ppg), self.ppg_fs_hz), (len(self.acc), self.acc_fs_hz), key=lambda p: p[0] / p[1])
            raise DataError(
                f"{src}: the reference holds {len(bpm)} window(s) but the signal gives {n}: "
                f"{_formula(limiting[0], limiting[1], self.window_s, self.shift_s)}"
            )
        valid = np.ones(n, dtype=bool) if self.bpm_valid is None else np.asarray(self.bpm_valid, dtype=bool)
        if valid.shape != (n,):
            raise DataError(f"{src}: bpm_valid must hold one flag per window ({n}), got shape {valid.shape}")
        bad = valid & ~(np.isfinite(bpm) & (bpm > 0))
        if bad.any():
            k = int(np.argmax(bad))
            raise DataError(
                f"{src}: the reference BPM holds {int(bad.sum())} NaN/inf or non-positive value(s) "
                f"(first in window {k}: {bpm[k]})"
            )
        object.__setattr__(self, "bpm", bpm)
        object.__setattr__(self, "bpm_valid", valid)

    @property
    def n_windows(self) -> int:
        """Windows that fit in both PPG and accelerometer."""
        src = self.source or self.recording_id
        return min(
            window_count(len(self.ppg), self.ppg_fs_hz, self.window_s, self.shift_s, src),
            window_count(len(self.acc), self.acc_fs_hz, self.window_s, self.shift_s, src),
        )

    @property
    def duration_s(self) -> float:
        """The span covered by both PPG and accelerometer, in seconds."""
        return min(len(self.ppg) / self.ppg_fs_hz, len(self.acc) / self.acc_fs_hz)

    @property
    def n_ppg_channels(self) -> int:
        return int(self.ppg.shape[1])

    @property
    def has_reference(self) -> bool:
        return self.bpm is not None

    def window_start_s(self, k: int) -> float:
        """Start of window ``k`` in seconds."""
        return k * self.shift_s
