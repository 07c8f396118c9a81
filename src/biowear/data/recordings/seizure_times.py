"""WFDB ECG records with a ``times.seize`` interval file (PhysioNet's szdb layout), read with ``wfdb``.

``times.seize`` has one seizure per line: ``record onset offset``, times ``hh:mm:ss`` (or ``mm:ss`` or plain
seconds) from the start of the record. Blank lines and lines starting with ``#`` are skipped.

A record may have a header and beat annotations but no signal file (szdb's sz02, sz03, sz06): its length
and rate then come from the header (``wfdb.rdheader``) and only the beats are returned, so an annotation-RR
analysis can still use it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.recordings.model import Events, Interval, Signal
from biowear.errors import DataError

log = logging.getLogger(__name__)

SEIZURE_FILE = "times.seize"
#: WFDB beat symbols (the rest, e.g. ``+`` rhythm and ``s`` ST change, annotate no beat).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")


def parse_clock(text: str, where: str) -> float:
    """``hh:mm:ss``, ``mm:ss`` or seconds (fractions allowed) -> seconds.

    Raises:
        DataError: not a time (naming ``where``).
    """
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a time (hh:mm:ss, mm:ss or seconds)") from None
    if len(values) > 3 or any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
        raise DataError(f"{where}: {text!r} is not a time (hh:mm:ss, mm:ss or seconds)")
    seconds = 0.0
    for v in values:
        seconds = seconds * 60 + v
    return seconds


def read_seizure_times(path: Path) -> dict[str, list[tuple[float, float, int]]]:
    """record -> ``[(onset_s, offset_s, line number), ...]`` from a ``times.seize`` file.

    Raises:
        DataError: missing file, a line without three fields, a bad time, or an offset not after its onset.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"seizure-time file {path} does not exist (expected lines 'record hh:mm:ss hh:mm:ss')")
    out: dict[str, list[tuple[float, float, int]]] = {}
    for number, line in enumerate(path.read_text(encoding="latin1").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}, line {number}"
        fields = line.split()
        if len(fields) != 3:
            raise DataError(f"{where}: expected 'record onset offset', got {line.strip()!r}")
        onset, offset = parse_clock(fields[1], where), parse_clock(fields[2], where)
        if not offset > onset:
            raise DataError(f"{where}: seizure offset {fields[2]} must come after its onset {fields[1]}")
        out.setdefault(fields[0], []).append((onset, offset, number))
    return out


@dataclass(frozen=True)
class WFDBContents:
    """A WFDB record: its signal (None without a ``.dat``), rate, length and beat annotations."""

    signal: Signal | None
    fs_hz: float
    n_samples: int
    annotations: Events | None
    meta: dict[str, object]

    @property
    def beats(self) -> Events | None:
        """The annotations whose symbol is a beat (:data:`BEAT_SYMBOLS`)."""
        if self.annotations is None:
            return None
        keep = [i for i, s in enumerate(self.annotations.symbols) if s in BEAT_SYMBOLS]
        return Events(
            self.annotations.source + ", beats only",
            self.annotations.times_s[keep],
            tuple(self.annotations.symbols[i] for i in keep),
        )

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz


def read_wfdb(directory: Path, record: str, annotator: str = "ari", name: str = "ecg") -> WFDBContents:
    """Header, signal (when its file exists) and ``annotator`` annotations of one record.

    Raises:
        DataError: missing or unreadable header, a non-positive rate or length, an unreadable signal or
            annotation file.
    """
    import wfdb

    base = Path(directory) / record
    hea = base.with_suffix(".hea")
    if not hea.is_file():
        raise DataError(f"WFDB header {hea} does not exist")
    try:
        header = wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises many unrelated types for corrupt headers
        raise DataError(f"{hea}: cannot read the WFDB header ({exc})") from exc
    fs = float(header.fs or 0)
    n = int(header.sig_len or 0)
    if not fs > 0:
        raise DataError(f"{hea}: sampling rate missing or not positive in the header (got {header.fs})")
    if n <= 0:
        raise DataError(f"{hea}: the header gives no signal length")
    files = [Path(directory) / f for f in (header.file_name or [])]
    signal = None
    if files and all(f.is_file() for f in files):
        try:
            rec = wfdb.rdrecord(str(base))
        except Exception as exc:
            raise DataError(f"{base}: cannot read the WFDB signal ({exc}); truncated or corrupt .dat?") from exc
        data = np.asarray(rec.p_signal, dtype=np.float64)
        if data.shape[0] != n:
            raise DataError(f"{files[0]}: holds {data.shape[0]} samples but {hea} declares {n} (truncated?)")
        if not np.all(np.isfinite(data)):
            raise DataError(f"{files[0]}: {int(np.count_nonzero(~np.isfinite(data)))} invalid samples")
        signal = Signal(name, data, fs, tuple(rec.sig_name), (rec.units or [""])[0], 0.0, str(files[0]))
    annotations = None
    ann_path = base.with_suffix(f".{annotator}")
    if ann_path.is_file():
        try:
            ann = wfdb.rdann(str(base), annotator)
        except Exception as exc:
            raise DataError(f"{ann_path}: cannot read the annotations ({exc})") from exc
        sample = np.asarray(ann.sample, dtype=np.int64)
        if len(sample) and (sample.min() < 0 or sample.max() >= n):
            raise DataError(f"{ann_path}: annotations fall outside the record's {n} samples")
        annotations = Events(f"{ann_path.name} (WFDB annotations)", sample / fs, tuple(ann.symbol))
    meta = {
        "fs_hz": fs,
        "n_samples": n,
        "has_waveform": signal is not None,
        "gain_adu_per_unit": [float(g) for g in (header.adc_gain or [])],
        "signal_files_missing": [str(f.name) for f in files if not f.is_file()],
    }
    return WFDBContents(signal, fs, n, annotations, meta)


def seizure_intervals(
    times: dict[str, list[tuple[float, float, int]]], record: str, duration_s: float, path: Path
) -> tuple[Interval, ...]:
    """The seizures of ``record`` as intervals, checked to lie inside the record.

    Raises:
        DataError: a seizure ends after the record does (the label file does not match the recording).
    """
    out = []
    for onset, offset, line in times.get(record, []):
        if offset > duration_s:
            raise DataError(
                f"{path}, line {line}: seizure {onset:g}-{offset:g} s of record {record!r} ends after the record "
                f"({duration_s:g} s); the seizure-time file does not match the recording"
            )
        out.append(Interval(onset, offset, "seizure", 1))
    return tuple(out)
