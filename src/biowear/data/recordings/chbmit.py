"""CHB-MIT scalp-EEG folders: EDF files with seizure times in ``chbXX-summary.txt`` (Shoeb 2009, PhysioNet
``chbmit``), read with ``pyedflib``.

A summary file lists, per EDF file::

    Data Sampling Rate: 256 Hz
    File Name: chb01_03.edf
    File Start Time: 13:43:04
    File End Time: 14:43:04
    Number of Seizures in File: 1
    Seizure Start Time: 2996 seconds
    Seizure End Time: 3036 seconds

(later patients write ``Seizure 1 Start Time:``). :func:`read_chbmit_summary` parses it and checks that each
file lists as many seizures as it declares. :class:`CHBMITDataset` finds every ``*-summary.txt`` in a folder
(or its sub-folders, one per patient as PhysioNet ships them); a record is an EDF named in a summary and
present beside it; the patient is the summary's prefix (``chb01``). EDF files no summary names are not read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.edf import read_edf
from biowear.data.recordings.model import Interval, Recording, Signal, SignalSpec
from biowear.errors import DataError

log = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*Data Sampling Rate:\s*([0-9.]+)\s*Hz", re.I)
_FILE = re.compile(r"^\s*File Name:\s*(\S+)", re.I)
_COUNT = re.compile(r"^\s*Number of Seizures in File:\s*(\d+)", re.I)
_EDGE = re.compile(r"^\s*Seizure(?:\s+(\d+))?\s+(Start|End)\s+Time:\s*([0-9.]+)\s*(?:seconds|secs?|s)?\s*$", re.I)


@dataclass(frozen=True)
class SummaryFile:
    """One file entry of a CHB-MIT summary: its name, declared seizure count and ``(onset_s, offset_s)``
    seizures (seconds from the file's start)."""

    name: str
    declared: int
    seizures: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Summary:
    """A parsed ``chbXX-summary.txt``: the sampling rate it states (None when absent) and its files."""

    path: Path
    fs_hz: float | None
    files: dict[str, SummaryFile]


def read_chbmit_summary(path: Path) -> Summary:
    """Parse a CHB-MIT ``chbXX-summary.txt``.

    Raises:
        DataError: missing file, no ``File Name`` entry, a start without an end (or the reverse), an end not
            after its start, or a file whose seizure lines do not match its ``Number of Seizures in File``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CHB-MIT summary {path} does not exist")
    fs_hz: float | None = None
    files: dict[str, SummaryFile] = {}
    current: str | None = None
    declared = 0
    edges: list[tuple[str, float, int]] = []

    def close() -> None:
        if current is None:
            return
        starts = [(t, n) for kind, t, n in edges if kind == "start"]
        ends = [(t, n) for kind, t, n in edges if kind == "end"]
        if len(starts) != len(ends):
            raise DataError(f"{path}: {current}: {len(starts)} seizure start(s) but {len(ends)} end(s)")
        seizures = []
        for (t0, n0), (t1, _) in zip(starts, ends):
            if not t1 > t0:
                raise DataError(f"{path}:{n0}: {current}: seizure ends at {t1:g} s, not after its start {t0:g} s")
            seizures.append((t0, t1))
        if len(seizures) != declared:
            raise DataError(
                f"{path}: {current} declares {declared} seizure(s) but lists {len(seizures)} start/end pair(s)"
            )
        files[current] = SummaryFile(current, declared, tuple(seizures))

    for number, line in enumerate(path.read_text(encoding="latin1").splitlines(), start=1):
        if m := _RATE.match(line):
            fs_hz = float(m.group(1))
        elif m := _FILE.match(line):
            close()
            current, declared, edges = m.group(1), 0, []
        elif m := _COUNT.match(line):
            if current is None:
                raise DataError(f"{path}:{number}: 'Number of Seizures' before any 'File Name'")
            declared = int(m.group(1))
        elif m := _EDGE.match(line):
            if current is None:
                raise DataError(f"{path}:{number}: seizure time before any 'File Name'")
            edges.append((m.group(2).lower(), float(m.group(3)), number))
        elif re.match(r"^\s*Seizure.*Time", line, re.I):
            raise DataError(f"{path}:{number}: cannot read seizure time {line.strip()!r} (expected 'N seconds')")
    close()
    if not files:
        raise DataError(f"{path}: no 'File Name:' entry; not a CHB-MIT summary")
    return Summary(path, fs_hz, files)


def _patient(summary: Path) -> str:
    return summary.name.split("-summary")[0]


@dataclass(frozen=True)
class CHBMITDataset(RecordingDataset):
    """CHB-MIT layout: EDF files and ``chbXX-summary.txt`` seizure times (see the module docstring).

    Signals: ``eeg``, every EDF channel in file order (CHB-MIT's 23 bipolar leads, ``T8-P8`` twice), µV;
    channels labelled ``-`` or ``.`` (CHB-MIT's place holders) are dropped. Labels: ``seizure`` intervals.

    Args:
        expected_fs_hz: the rate every channel must have (None: any); a summary stating another rate than the
            file's is an error.
    """

    name: str = "chbmit"
    description: str = "CHB-MIT scalp EEG (EDF, 256 Hz, 23 bipolar leads) with chbXX-summary.txt seizure times"
    folder: str = "chbmit"
    expected_fs_hz: float | None = 256.0
    signal_specs: tuple[SignalSpec, ...] = (SignalSpec("eeg", 256.0, (), "uV", "bipolar 10-20 leads, file order"),)
    label_source: str = "chbXX-summary.txt (seizure start/end seconds per file)"
    label_names: tuple[str, ...] = ("seizure",)
    expected: str = "chbXX-summary.txt beside the EDF files it names (flat, or one sub-folder per patient)"
    notes: str = "seizures are rare (under 1 % of the time); EDF files no summary names are not read"

    def _summaries(self, folder: Path) -> list[Path]:
        return sorted([*folder.glob("*-summary.txt"), *folder.glob("*/*-summary.txt")])

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        out = {}
        for summary_path in self._summaries(folder):
            summary = read_chbmit_summary(summary_path)
            for name in summary.files:
                edf = summary_path.parent / name
                if edf.is_file():
                    out[edf.stem] = (edf, summary_path)
                else:
                    log.info("%s names %s, which is not in %s", summary_path, name, summary_path.parent)
        return out

    def subject_of(self, record_id: str) -> str:
        return record_id.split("_")[0]

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        edf, summary_path = files
        summary = read_chbmit_summary(summary_path)
        entry = summary.files[edf.name]
        sigs = [s for s in read_edf(edf) if s.label.strip() not in ("-", ".", "")]
        if not sigs:
            raise DataError(f"{edf}: no EEG channel")
        rates = {s.fs_hz for s in sigs}
        lengths = {len(s.data) for s in sigs}
        if len(rates) > 1 or len(lengths) > 1:
            raise DataError(f"{edf}: channels differ in rate or length ({sorted(rates)} Hz, {sorted(lengths)})")
        fs = sigs[0].fs_hz
        self.check_rate(fs, self.expected_fs_hz, str(edf), "the EEG")
        if summary.fs_hz is not None and abs(summary.fs_hz - fs) > 1e-6 * fs:
            raise DataError(f"{summary_path} states {summary.fs_hz:g} Hz but {edf.name} is sampled at {fs:g} Hz")
        signal = Signal(
            "eeg",
            np.stack([s.data for s in sigs], axis=1),
            fs,
            tuple(s.label for s in sigs),
            sigs[0].unit,
            0.0,
            str(edf),
        )
        intervals = tuple(Interval(t0, t1, "seizure", 1) for t0, t1 in entry.seizures)
        return Recording(
            dataset=self.name,
            record_id=record_id,
            subject=_patient(summary_path)
            if summary_path.name.endswith("-summary.txt")
            else self.subject_of(record_id),
            signals={"eeg": signal},
            duration_s=signal.duration_s,
            intervals=intervals,
            label_source=f"{summary_path.name} (seizure start/end seconds)",
            source=str(edf),
        )
