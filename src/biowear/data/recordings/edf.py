"""EDF/EDF+ files read with ``pyedflib``: every signal in physical units with its label, rate and unit.

Before ``pyedflib`` opens a file, its size is checked against the header (``header bytes + data records x
record bytes``, from the fixed-width ASCII fields of the EDF specification, Kemp et al. 1992), so a truncated
file gives one :class:`~biowear.errors.DataError` saying how many bytes are missing (``pyedflib`` itself would
print its own note to stdout and raise a bare ``OSError``). The ``EDF Annotations`` channel of EDF+ is not a
signal and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.errors import DataError

_FIXED_HEADER = 256


@dataclass(frozen=True)
class EDFSignal:
    """One EDF signal: its label as in the file, rate (Hz), physical unit and samples (float64)."""

    label: str
    fs_hz: float
    unit: str
    data: np.ndarray


def _field(header: bytes, start: int, width: int, what: str, path: Path) -> int:
    text = header[start : start + width].decode("ascii", "replace").strip()
    try:
        return int(text)
    except ValueError:
        raise DataError(f"{path}: EDF header field '{what}' must be an integer, got {text!r}") from None


def check_edf_size(path: Path) -> None:
    """Raise :class:`DataError` unless the file holds every data record its header declares.

    Raises:
        DataError: the file is missing, shorter than the header, or truncated (naming the missing bytes).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"EDF file {path} does not exist")
    size = path.stat().st_size
    with path.open("rb") as fh:
        fixed = fh.read(_FIXED_HEADER)
        if len(fixed) < _FIXED_HEADER:
            raise DataError(f"{path}: {size} bytes is shorter than the 256-byte EDF header (truncated or not EDF)")
        header_bytes = _field(fixed, 184, 8, "number of bytes in header", path)
        n_records = _field(fixed, 236, 8, "number of data records", path)
        n_signals = _field(fixed, 252, 4, "number of signals", path)
        if n_signals <= 0 or header_bytes != _FIXED_HEADER * (n_signals + 1):
            raise DataError(f"{path}: EDF header declares {n_signals} signals and {header_bytes} header bytes")
        rest = fh.read(header_bytes - _FIXED_HEADER)
    if len(rest) < header_bytes - _FIXED_HEADER:
        raise DataError(f"{path}: truncated EDF header ({size} bytes, the header alone needs {header_bytes})")
    offset = n_signals * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)  # label .. prefiltering, then samples per record
    per_record = [
        _field(rest, offset + 8 * i, 8, f"samples per record of signal {i + 1}", path) for i in range(n_signals)
    ]
    sample_bytes = 3 if fixed[:1] == b"\xff" else 2  # BDF: 24-bit samples
    expected = header_bytes + max(n_records, 0) * sample_bytes * sum(per_record)
    if n_records >= 0 and size < expected:
        raise DataError(
            f"{path}: truncated EDF file: {size} bytes, the header declares {n_records} data records needing "
            f"{expected} bytes ({expected - size} missing)"
        )


def read_edf(path: Path) -> tuple[EDFSignal, ...]:
    """Every signal of an EDF/EDF+ file (annotations channel skipped), values in physical units.

    Raises:
        DataError: missing, truncated (see :func:`check_edf_size`) or unreadable file, or a signal with a
            non-positive rate.
    """
    import pyedflib

    path = Path(path)
    check_edf_size(path)
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise DataError(f"{path}: pyedflib cannot read the file ({exc})") from exc
    try:
        labels = reader.getSignalLabels()
        rates = reader.getSampleFrequencies()
        out = []
        for i, label in enumerate(labels):
            fs = float(rates[i])
            if not fs > 0:
                raise DataError(f"{path}: signal {label!r} has sampling rate {fs} Hz (must be positive)")
            data = np.asarray(reader.readSignal(i), dtype=np.float64)
            if not np.all(np.isfinite(data)):
                raise DataError(f"{path}: signal {label!r} holds NaN/inf samples")
            out.append(EDFSignal(label.strip(), fs, reader.getPhysicalDimension(i).strip(), data))
    finally:
        reader.close()
    if not out:
        raise DataError(f"{path}: the EDF file holds no signal")
    return tuple(out)
