"""Heart-rate recordings -> model windows: each sensor resampled from its own rate to the model rate, then cut
into the windows the reference refers to.

PPG and accelerometer are resampled separately (scipy ``resample_poly`` through
:func:`biowear.signal.resample`) to ``HRWindowConfig.fs_hz`` (32 Hz by default, as in PULSE); each
channel's mean is taken out before and put back after, so the filter's zero padding does not bend the first
and last windows. Window ``k`` is samples ``[k * S, k * S + W)`` of the resampled signals with ``S =
shift_s * fs_hz`` and ``W = window_s * fs_hz`` (64 and 256 at 32 Hz): the same 8 s as ``BPM0[k]`` or
``label[k]``.

Channels are named from :data:`HR_CHANNELS`: ``ppg`` (the mean of the PPG channels), ``ppg1``/``ppg2``
(one PPG channel) and ``acc_x``/``acc_y``/``acc_z``; the default is ``ppg, acc_x, acc_y, acc_z``.

**No normalisation happens here**: the windows keep the sensors' units, so that training can z-score each
channel with training-fold statistics only (normalising with statistics of all subjects would leak the held-out
subject into training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biowear.data.arrays import ArrayData, validate_arrays
from biowear.data.hr.recording import HRRecording
from biowear.errors import ConfigError, DataError
from biowear.registry import Registry
from biowear.signal import resample

#: Every channel a window can hold.
HR_CHANNELS: tuple[str, ...] = ("ppg", "ppg1", "ppg2", "acc_x", "acc_y", "acc_z")
DEFAULT_CHANNELS: tuple[str, ...] = ("ppg", "acc_x", "acc_y", "acc_z")
#: ``ppg`` option -> the channel name it selects.
PPG_CHOICES: Registry[str] = Registry("PPG channel choice")
PPG_CHOICES.register("mean", "ppg")
PPG_CHOICES.register("1", "ppg1")
PPG_CHOICES.register("2", "ppg2")
TARGET, UNIT = "heart rate", "BPM"


@dataclass(frozen=True)
class HRWindowConfig:
    """How recordings become model windows.

    Args:
        fs_hz: the model rate in Hz (32 by default; 2 s must be a whole number of samples).
        channels: window rows, names from :data:`HR_CHANNELS` (default PPG mean + acc x/y/z).

    Raises:
        ConfigError: a non-positive rate, a rate at which 2 s is not a whole number of samples, or unknown or
            repeated channel names.
    """

    fs_hz: float = 32.0
    channels: tuple[str, ...] = DEFAULT_CHANNELS

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        if not float(self.fs_hz) > 0 or abs(2 * self.fs_hz - round(2 * self.fs_hz)) > 1e-9:
            raise ConfigError(
                f"HRWindowConfig.fs_hz must be a positive rate at which the 2 s shift is a whole number of samples "
                f"(e.g. 32, 25, 64), got {self.fs_hz}"
            )
        unknown = [c for c in self.channels if c not in HR_CHANNELS]
        if unknown or not self.channels or len(set(self.channels)) != len(self.channels):
            raise ConfigError(
                f"HRWindowConfig.channels must be distinct names from: {', '.join(HR_CHANNELS)}; got "
                f"{list(self.channels)}" + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )

    @staticmethod
    def for_ppg(ppg: str = "mean", fs_hz: float = 32.0) -> HRWindowConfig:
        """PPG (``mean`` of both channels, ``1`` or ``2``) plus acc x/y/z at ``fs_hz``."""
        return HRWindowConfig(fs_hz, (PPG_CHOICES.get(str(ppg)), "acc_x", "acc_y", "acc_z"))


def _resampled(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    mean = x.mean(axis=0)
    return resample(x - mean, fs_in, fs_out) + mean


def _samples(seconds: float, fs_hz: float) -> int:
    n = seconds * fs_hz
    if abs(n - round(n)) > 1e-6:
        raise ConfigError(f"{seconds:g} s at the model rate {fs_hz:g} Hz is {n:g} samples, not a whole number")
    return int(round(n))


def recording_signals(rec: HRRecording, config: HRWindowConfig | None = None) -> np.ndarray:
    """The recording's chosen channels at the model rate, ``(samples, channels)`` float64, cut to the span
    that both PPG and accelerometer cover.

    Raises:
        DataError: ``ppg2`` asked of a recording with one PPG channel.
    """
    cfg = config or HRWindowConfig()
    src = rec.source or rec.recording_id
    rows: dict[str, np.ndarray] = {}
    if any(c.startswith("ppg") for c in cfg.channels):
        ppg = _resampled(rec.ppg, rec.ppg_fs_hz, cfg.fs_hz)
        rows["ppg"] = ppg.mean(axis=1)
        for i in range(ppg.shape[1]):
            rows[f"ppg{i + 1}"] = ppg[:, i]
    if any(c.startswith("acc") for c in cfg.channels):
        acc = _resampled(rec.acc, rec.acc_fs_hz, cfg.fs_hz)
        rows.update(acc_x=acc[:, 0], acc_y=acc[:, 1], acc_z=acc[:, 2])
    missing = [c for c in cfg.channels if c not in rows]
    if missing:
        raise DataError(
            f"{src}: channel(s) {', '.join(missing)} need more PPG channels; the recording has "
            f"{rec.n_ppg_channels} (valid: {', '.join(c for c in HR_CHANNELS if c in rows)})"
        )
    length = min(len(rows[c]) for c in cfg.channels)
    return np.stack([rows[c][:length] for c in cfg.channels], axis=1)


def recording_windows(rec: HRRecording, config: HRWindowConfig | None = None) -> np.ndarray:
    """All windows of a recording at the model rate: float32 ``(n_windows, channels, window_samples)``;
    window ``k`` is the one ``rec.bpm[k]`` refers to (see the module docstring).

    Raises:
        ConfigError: window or shift not a whole number of samples at the model rate.
        DataError: a channel the recording lacks.
    """
    cfg = config or HRWindowConfig()
    w, s = _samples(rec.window_s, cfg.fs_hz), _samples(rec.shift_s, cfg.fs_hz)
    signals = recording_signals(rec, cfg)
    n = rec.n_windows
    if (n - 1) * s + w > len(signals):  # cannot happen for consistent rates; guards the index arithmetic
        raise DataError(
            f"{rec.source}: {n} windows need {(n - 1) * s + w} samples, the resampled signal has {len(signals)}"
        )
    index = np.arange(n)[:, None] * s + np.arange(w)[None, :]
    return np.ascontiguousarray(np.transpose(signals[index], (0, 2, 1)), dtype=np.float32)


def recordings_to_arrays(
    recordings: Sequence[HRRecording], config: HRWindowConfig | None = None, name: str = "heart rate"
) -> ArrayData:
    """Windows and reference BPM of recordings as :class:`ArrayData`: x float32 ``(n, channels, W)``, y float32
    BPM, groups = subject ids, task ``regression of heart rate (BPM)``, the channel names and the model rate.
    Windows whose reference is flagged invalid (``bpm_valid``) are left out; nothing is normalised.

    Raises:
        DataError: no recordings, a recording without a reference, or no valid window.
    """
    cfg = config or HRWindowConfig()
    if not recordings:
        raise DataError(f"{name}: no recordings to window")
    xs, ys, groups = [], [], []
    for rec in recordings:
        if rec.bpm is None or rec.bpm_valid is None:
            raise DataError(f"{rec.source or rec.recording_id}: no reference heart rate; training windows need one")
        keep = rec.bpm_valid
        xs.append(recording_windows(rec, cfg)[keep])
        ys.append(rec.bpm[keep])
        groups.extend([rec.subject_id] * int(keep.sum()))
    y = np.concatenate(ys).astype(np.float32)
    if not len(y):
        raise DataError(f"{name}: no window has a valid reference heart rate")
    return validate_arrays(
        np.concatenate(xs), y, cfg.fs_hz, groups, channels=cfg.channels, target=TARGET, unit=UNIT, source=name
    )
