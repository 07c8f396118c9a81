"""The UCI *EMG Data for Gestures* text format (Lobov et al. 2018): a MYO armband's 8 EMG channels logged as
tab-separated rows ``time channel1 ... channel8 class`` with a header line.

**Sample-and-hold.** The logger wrote a row about every millisecond (~950 rows/s) but the armband's values
change only ~100-110 times per second: each EMG sample is repeated on consecutive rows until the next one
arrives. Spectral features need the samples themselves, so this reader **de-duplicates**: it keeps the first
row of every run of rows whose eight channel values are all equal to the previous row's, and drops the
repeats. The **true rate is detected** from what is kept: ``fs = (n_kept - 1) / (t_last_kept - t_first_kept)``
(``time`` is in ms). In the files here it is 99.9-110.4 Hz (the MYO's native raw-EMG rate is 200 Hz; the
logger received about every other sample). The kept samples are then treated as uniformly spaced at that
rate; their logged arrival times are bursty (Bluetooth), so they are returned too (``times_ms``) but not
used as the time axis. Two genuinely consecutive samples with all eight values equal would be merged; in
these files no two kept samples two apart are equal, so this does not happen in practice.

Values: the file holds the MYO's signed 8-bit codes x 1e-5; they are returned as codes (x 1e5, integers in
[-128, 127]; a value that is not such a code is a :class:`~biowear.errors.DataError`). Labels: the class of
each kept row (its first row), so a label boundary inside a run moves to the run's start.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.errors import DataError

N_CHANNELS = 8
CODE_SCALE = 1e5
#: The UCI README's class codes.
GESTURES: dict[int, str] = {
    0: "unmarked",
    1: "rest",
    2: "fist",
    3: "wrist_flexion",
    4: "wrist_extension",
    5: "radial_deviation",
    6: "ulnar_deviation",
    7: "extended_palm",
}
COLUMNS: tuple[str, ...] = ("time", *(f"channel{i}" for i in range(1, N_CHANNELS + 1)), "class")


@dataclass(frozen=True)
class EMGLog:
    """A de-duplicated UCI EMG log.

    Attributes:
        codes: ``(n_kept, 8)`` MYO codes (float64 holding integers).
        classes: ``(n_kept,)`` class code per kept sample.
        fs_hz: the detected rate (see the module docstring).
        times_ms: logged time of each kept sample (ms).
        n_rows: rows in the file.
        log_rate_hz: rows per second of the file (the logger's rate, ~950).
    """

    codes: np.ndarray
    classes: np.ndarray
    fs_hz: float
    times_ms: np.ndarray
    n_rows: int
    log_rate_hz: float


def read_uci_emg(path: Path) -> EMGLog:
    """Read and de-duplicate one UCI EMG text file.

    Raises:
        DataError: missing file; a header that lacks a column (named, with the columns present); malformed or
            truncated rows; time not strictly increasing; values that are not 8-bit codes x 1e-5; unknown
            class codes; fewer than 2 distinct samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"UCI EMG file {path} does not exist")
    raw = path.read_bytes()
    first, _, body = raw.partition(b"\n")
    header = first.decode("latin1").strip().split("\t")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{path}: UCI EMG header lacks column(s) {', '.join(missing)}; it has: {', '.join(header)} "
            f"(expected tab-separated {' '.join(COLUMNS)})"
        )
    try:
        table = np.loadtxt(io.BytesIO(body), delimiter="\t", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: malformed rows ({exc}); the file is truncated or not tab-separated") from exc
    if table.shape[1] != len(header):
        raise DataError(f"{path}: rows have {table.shape[1]} columns but the header names {len(header)}")
    col = {name: header.index(name) for name in COLUMNS}
    t = table[:, col["time"]]
    x = table[:, [col[f"channel{i}"] for i in range(1, N_CHANNELS + 1)]] * CODE_SCALE
    y = table[:, col["class"]]
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        bad = int(np.argmax(np.diff(t) <= 0)) + 3 if len(t) >= 2 else 2
        raise DataError(f"{path}: column 'time' (ms) must increase strictly (first violation at line {bad})")
    codes = np.round(x)
    if np.any(np.abs(x - codes) > 1e-3) or codes.min() < -128 or codes.max() > 127:
        raise DataError(f"{path}: channel values must be MYO 8-bit codes x 1e-5 (integers in [-128, 127] x 1e-5)")
    unknown = sorted(int(c) for c in set(np.unique(y).astype(int)) - set(GESTURES))
    if unknown or np.any(y != np.round(y)):
        raise DataError(
            f"{path}: unknown class code(s) {unknown}; valid codes are "
            + ", ".join(f"{k} ({v})" for k, v in GESTURES.items())
        )
    keep = np.r_[True, np.any(codes[1:] != codes[:-1], axis=1)]
    kept_t = t[keep]
    if keep.sum() < 2:
        raise DataError(f"{path}: fewer than 2 distinct samples; cannot detect the sampling rate")
    fs = (keep.sum() - 1) / ((kept_t[-1] - kept_t[0]) / 1000.0)
    log_rate = (len(t) - 1) / ((t[-1] - t[0]) / 1000.0)
    return EMGLog(codes[keep], y[keep].astype(np.int64), float(fs), kept_t, len(t), float(log_rate))
