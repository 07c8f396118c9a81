"""Reading WFDB records (header, signal, annotations) from disk with the ``wfdb`` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biowear.data.record import Annotations, Record
from biowear.errors import DataError

INVALID_SAMPLE_POLICIES: tuple[str, ...] = ("error", "mask")


def _bridge_invalid(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate NaN runs per channel; returns the filled signal and the per-sample mask."""
    invalid = ~np.isfinite(signal)
    filled = signal.copy()
    t = np.arange(signal.shape[0])
    for ch in range(signal.shape[1]):
        bad = invalid[:, ch]
        if bad.all():
            filled[:, ch] = 0.0
        elif bad.any():
            filled[bad, ch] = np.interp(t[bad], t[~bad], signal[~bad, ch])
    return filled, invalid.any(axis=1)


def read_wfdb_record(
    directory: Path, record_id: str, dataset: str, annotator: str = "atr", invalid_samples: str = "error"
) -> Record:
    """Read one WFDB record and its annotations.

    Args:
        directory: folder that holds ``<record_id>.hea`` and its signal/annotation files.
        record_id: the record name without extension.
        dataset: the dataset name stored in the returned record.
        annotator: annotation file extension; a missing annotation file gives empty annotations.
        invalid_samples: what to do with NaN/invalid samples: ``error`` (raise) or ``mask`` (bridge them
            linearly and return their positions in :attr:`Record.invalid`, so windows over them are dropped).

    Returns:
        The record, signals in physical units (float32).

    Raises:
        DataError: the header or signal file is missing, unreadable or corrupt, or the signal has NaNs.
    """
    import wfdb

    base = Path(directory) / record_id
    header = base.with_suffix(".hea")
    if not header.is_file():
        raise DataError(f"record {record_id!r} of {dataset}: header file {header} does not exist")
    try:
        rec = wfdb.rdrecord(str(base))
    except Exception as exc:  # wfdb raises many unrelated types for corrupt files
        raise DataError(f"record {record_id!r} of {dataset}: cannot read {header} ({exc})") from exc
    if rec.p_signal is None or rec.p_signal.ndim != 2 or rec.p_signal.shape[0] == 0:
        raise DataError(f"record {record_id!r} of {dataset}: header {header} describes no signal")
    if invalid_samples not in INVALID_SAMPLE_POLICIES:
        raise ValueError(f"invalid_samples must be one of {INVALID_SAMPLE_POLICIES}, got {invalid_samples!r}")
    signal = np.asarray(rec.p_signal, dtype=np.float32)
    nan = ~np.isfinite(signal)
    invalid = None
    if nan.any() and invalid_samples == "mask":
        signal, invalid = _bridge_invalid(signal)
    elif nan.any():
        raise DataError(
            f"record {record_id!r} of {dataset}: {int(nan.sum())} NaN/invalid samples in the signal "
            f"(first at sample {int(np.argwhere(nan)[0, 0])})"
        )
    annotations = Annotations.empty()
    if base.with_suffix(f".{annotator}").is_file():
        try:
            ann = wfdb.rdann(str(base), annotator)
        except Exception as exc:
            raise DataError(
                f"record {record_id!r} of {dataset}: cannot read annotations {base}.{annotator} ({exc})"
            ) from exc
        aux = tuple((a or "").rstrip("\x00") for a in ann.aux_note)
        annotations = Annotations(np.asarray(ann.sample, dtype=np.int64), tuple(ann.symbol), aux)
        inside = annotations.sample < signal.shape[0]
        if not inside.all():
            keep = np.flatnonzero(inside)
            annotations = Annotations(
                annotations.sample[keep],
                tuple(annotations.symbol[i] for i in keep),
                tuple(annotations.aux_note[i] for i in keep),
            )
    return Record(
        record_id=record_id,
        dataset=dataset,
        signal=signal,
        fs_hz=float(rec.fs),
        channels=tuple(rec.sig_name),
        annotations=annotations,
        invalid=invalid,
    )


def write_wfdb_record(record: Record, directory: Path) -> Path:
    """Write a record as WFDB (format 16 signal + ``atr`` annotations); returns the header path."""
    import wfdb

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(
        record.record_id,
        fs=record.fs_hz,
        units=["mV"] * len(record.channels),
        sig_name=list(record.channels),
        p_signal=record.signal.astype(np.float64),
        fmt=["16"] * len(record.channels),
        write_dir=str(directory),
    )
    if len(record.annotations):
        wfdb.wrann(
            record.record_id,
            "atr",
            record.annotations.sample,
            symbol=list(record.annotations.symbol),
            aux_note=list(record.annotations.aux_note),
            write_dir=str(directory),
        )
    return directory / f"{record.record_id}.hea"
