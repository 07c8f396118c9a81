"""The loaded-recording model: signals at their own rates, labelled intervals and point events, each label with
the source it was read from.

A wearable session holds signals sampled at different rates (an Empatica E4 gives BVP at 64 Hz, ACC at 32 Hz,
EDA and TEMP at 4 Hz), so a :class:`Recording` keeps one :class:`Signal` per sensor instead of one 2-D array.
Times are seconds from the recording's origin (the first sample of its earliest signal, or the record start of
a WFDB header); a signal that starts later says so in :attr:`Signal.start_s`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from biowear.errors import DataError


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Signal:
    """One sensor's samples at one rate.

    Attributes:
        name: the signal's key in its recording (``"ecg"``, ``"eeg"``, ``"bvp"``, ``"acc"``, ``"emg"``, ``"audio"``).
        data: float array ``(n_samples, n_channels)`` in :attr:`unit`.
        fs_hz: sampling rate in Hz.
        channels: one name per column of ``data``.
        unit: physical unit (``"mV"``, ``"uV"``, ``"g"``, ``"uS"``, ``"degC"``, ``"a.u."``, ...).
        start_s: time of the first sample, seconds from the recording's origin.
        source: the file the samples came from (for error messages).
    """

    name: str
    data: np.ndarray
    fs_hz: float
    channels: tuple[str, ...]
    unit: str = ""
    start_s: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        where = self.source or self.name
        if self.data.ndim != 2:
            raise DataError(f"{where}: signal {self.name!r} must be 2-D (samples, channels), got {self.data.shape}")
        if self.data.shape[1] != len(self.channels):
            raise DataError(
                f"{where}: signal {self.name!r} has {self.data.shape[1]} columns but {len(self.channels)} channel names"
            )
        if not (np.isfinite(self.fs_hz) and self.fs_hz > 0):
            raise DataError(f"{where}: signal {self.name!r} needs a positive sampling rate, got {self.fs_hz} Hz")
        if self.data.shape[0] == 0:
            raise DataError(f"{where}: signal {self.name!r} holds no samples")

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return int(self.data.shape[0])

    @property
    def duration_s(self) -> float:
        """Length in seconds (``n_samples / fs_hz``)."""
        return self.n_samples / self.fs_hz

    @property
    def end_s(self) -> float:
        """Time just after the last sample, seconds from the recording's origin."""
        return self.start_s + self.duration_s

    def times_s(self) -> np.ndarray:
        """The time of every sample, seconds from the recording's origin."""
        return self.start_s + np.arange(self.n_samples) / self.fs_hz

    def channel(self, name: str) -> np.ndarray:
        """The samples of channel ``name`` (1-D).

        Raises:
            DataError: no such channel; the message lists the available ones.
        """
        return self.select((name,)).data[:, 0]

    def select(self, channels: tuple[str, ...] | list[str]) -> Signal:
        """The signal restricted to ``channels``, in that order.

        Raises:
            DataError: a channel is missing; the message names it and lists the available ones.
        """
        missing = [c for c in channels if c not in self.channels]
        if missing:
            raise DataError(
                f"{self.source or self.name}: signal {self.name!r} has no channel(s) {', '.join(missing)}; "
                f"available channels: {', '.join(self.channels)}"
            )
        idx = [self.channels.index(c) for c in channels]
        return replace(self, data=self.data[:, idx], channels=tuple(channels))

    def segment(self, start_s: float, end_s: float) -> Signal:
        """The samples whose times lie in ``[start_s, end_s)`` (recording time).

        Raises:
            DataError: the segment holds no sample of this signal.
        """
        i0 = max(0, int(np.ceil((start_s - self.start_s) * self.fs_hz - 1e-9)))
        i1 = min(self.n_samples, int(np.ceil((end_s - self.start_s) * self.fs_hz - 1e-9)))
        if i1 <= i0:
            raise DataError(
                f"{self.source or self.name}: signal {self.name!r} has no sample in [{start_s:g}, {end_s:g}) s "
                f"(it covers [{self.start_s:g}, {self.end_s:g}) s)"
            )
        return replace(self, data=self.data[i0:i1], start_s=self.start_s + i0 / self.fs_hz)


@dataclass(frozen=True)
class Interval:
    """A labelled span of a recording.

    Attributes:
        start_s: start, seconds from the recording's origin.
        end_s: end (exclusive), seconds; greater than ``start_s``.
        label: the class name (``"seizure"``, ``"stress"``, ``"fist"``, ``"cough"``, ...).
        code: the dataset's integer code of the label (WESAD's 1-4, UCI EMG's class column), when it has one.
    """

    start_s: float
    end_s: float
    label: str
    code: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_s", float(self.start_s))
        object.__setattr__(self, "end_s", float(self.end_s))
        if self.code is not None:
            object.__setattr__(self, "code", int(self.code))
        if not self.end_s > self.start_s:
            raise DataError(f"interval {self.label!r} must end after it starts, got [{self.start_s}, {self.end_s}] s")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def overlaps(self, start_s: float, end_s: float) -> bool:
        """True when ``[start_s, end_s)`` shares time with this interval."""
        return start_s < self.end_s and end_s > self.start_s


@dataclass(frozen=True)
class Events:
    """Point annotations (beats, button presses).

    Attributes:
        source: where they were read (``"sz01.ari (unaudited ARISTOTLE beats)"``, ``"IBI.csv"``, ``"tags.csv"``).
        times_s: event times, seconds from the recording's origin, non-decreasing.
        symbols: one code per event (WFDB beat symbols); empty when events carry none.
        values: one number per event (an inter-beat interval in s); empty when events carry none.
    """

    source: str
    times_s: np.ndarray
    symbols: tuple[str, ...] = ()
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n = len(self.times_s)
        if self.symbols and len(self.symbols) != n:
            raise DataError(f"{self.source}: {n} event times but {len(self.symbols)} symbols")
        if len(self.values) and len(self.values) != n:
            raise DataError(f"{self.source}: {n} event times but {len(self.values)} values")
        if n > 1 and np.any(np.diff(self.times_s) < 0):
            raise DataError(f"{self.source}: event times must be non-decreasing")

    def __len__(self) -> int:
        return len(self.times_s)


@dataclass(frozen=True)
class Recording:
    """One loaded recording of one subject.

    Attributes:
        dataset: the dataset's name.
        record_id: the record's name inside its dataset.
        subject: the subject (patient) it belongs to; splits keep one subject on one side.
        signals: signal name -> :class:`Signal` (empty when only annotations exist, e.g. szdb's sz02).
        duration_s: the recording's length in seconds (from the signals, or the header when none is loaded).
        intervals: the labelled spans, sorted by start.
        label_source: where the labels come from (``"times.seize"``, ``"file name _1/_2"``, ...).
        events: name -> :class:`Events` (``"beats"``, ``"ibi"``, ``"tags"``).
        meta: other facts read from the files (start time, gain, detected rate, ...), JSON-friendly values.
        source: the file or folder read.
    """

    dataset: str
    record_id: str
    subject: str
    signals: Mapping[str, Signal]
    duration_s: float
    intervals: tuple[Interval, ...] = ()
    label_source: str = ""
    events: Mapping[str, Events] = field(default_factory=dict)
    meta: Mapping[str, object] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "signals", _frozen(self.signals))
        object.__setattr__(self, "events", _frozen(self.events))
        object.__setattr__(self, "meta", _frozen(self.meta))
        object.__setattr__(self, "intervals", tuple(sorted(self.intervals, key=lambda iv: iv.start_s)))
        if not (np.isfinite(self.duration_s) and self.duration_s > 0):
            raise DataError(f"{self.source or self.record_id}: recording duration must be positive")
        tol_s = 1.0
        late = [iv for iv in self.intervals if iv.end_s > self.duration_s + tol_s or iv.start_s < -tol_s]
        if late:
            iv = late[0]
            raise DataError(
                f"{self.source or self.record_id}: labels ({self.label_source}) do not match the recording: interval "
                f"{iv.label!r} [{iv.start_s:g}, {iv.end_s:g}] s lies outside the recording's [0, {self.duration_s:g}] s"
            )

    def signal(self, name: str) -> Signal:
        """The signal called ``name``.

        Raises:
            DataError: no such signal; the message lists the recording's signals.
        """
        if name not in self.signals:
            raise DataError(
                f"{self.source or self.record_id}: recording {self.record_id!r} has no signal {name!r}; "
                f"its signals are: {', '.join(self.signals) or 'none (annotations only)'}"
            )
        return self.signals[name]

    @property
    def labels(self) -> tuple[str, ...]:
        """The distinct interval labels, in order of first appearance."""
        return tuple(dict.fromkeys(iv.label for iv in self.intervals))

    def label_at(self, times_s: np.ndarray, default: str = "") -> np.ndarray:
        """The interval label at each time (``default`` where no interval covers it; later intervals win)."""
        times_s = np.asarray(times_s, dtype=float)
        out = np.full(times_s.shape, default, dtype=object)
        for iv in self.intervals:
            out[(times_s >= iv.start_s) & (times_s < iv.end_s)] = iv.label
        return out

    def overlapping(self, start_s: float, end_s: float) -> tuple[Interval, ...]:
        """The intervals sharing time with ``[start_s, end_s)`` (e.g. does a 60 s window touch a seizure)."""
        return tuple(iv for iv in self.intervals if iv.overlaps(start_s, end_s))

    def with_signals(self, signals: Mapping[str, Signal]) -> Recording:
        """A copy with ``signals`` replaced (resampled, selected channels)."""
        return replace(self, signals=dict(signals))


@dataclass(frozen=True)
class SignalSpec:
    """What a dataset declares about one of its signals (rates may be checked against the files).

    Attributes:
        name: the signal key.
        fs_hz: the expected rate in Hz; None when it varies by file (reported per recording).
        channels: channel names.
        unit: physical unit.
        note: how the rate or values are obtained, when not plain.
    """

    name: str
    fs_hz: float | None
    channels: tuple[str, ...]
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class DatasetSummary:
    """What :meth:`RecordingDataset.describe` reports: sampling rates, channels, subjects and label source.

    ``measured`` holds, when the first record was probed, signal name -> (rate in Hz, sample count) as read.
    """

    name: str
    folder: str
    available: bool
    records: tuple[str, ...]
    subjects: tuple[str, ...]
    signals: tuple[SignalSpec, ...]
    label_source: str
    labels: tuple[str, ...]
    notes: str = ""
    measured: Mapping[str, tuple[float, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (for results files and ``data info``)."""
        return {
            "name": self.name,
            "folder": self.folder,
            "available": self.available,
            "records": list(self.records),
            "subjects": list(self.subjects),
            "signals": [
                {"name": s.name, "fs_hz": s.fs_hz, "channels": list(s.channels), "unit": s.unit, "note": s.note}
                for s in self.signals
            ],
            "label_source": self.label_source,
            "labels": list(self.labels),
            "notes": self.notes,
            "measured": {k: {"fs_hz": v[0], "n_samples": v[1]} for k, v in self.measured.items()},
        }
