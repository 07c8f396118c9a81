"""Empatica E4 exports: a folder (WESAD's ``SX_E4_Data/``) or a zip (PPG-DaLiA's ``SX_E4.zip``, WESAD's
``SX_E4_Data.zip``) of CSV files, each optionally xz- or gzip-compressed (``BVP.csv.xz``).

The format (Empatica's ``info.txt``): in ``ACC.csv``, ``BVP.csv``, ``EDA.csv``, ``TEMP.csv`` and ``HR.csv`` the
first line is the session's start time (UNIX seconds, UTC; one value per column) and the second the sampling
rate in Hz (one per column); samples follow, one per line. ``ACC.csv`` has 3 columns (x, y, z in 1/64 g,
range +-2 g; converted here to g). ``IBI.csv`` has the start time and the word ``IBI`` on line 1, then
``time since start (s), inter-beat interval (s)`` rows; ``tags.csv`` lists button-press UNIX times, one per
line (it may be empty). ``HR.csv`` and ``IBI.csv`` are the E4's own outputs, not ground truth.

Values are parsed with :func:`numpy.loadtxt`, decompressed with the standard library (``zipfile``,
``lzma``, ``gzip``). Times of every signal and event are seconds after the earliest start time of the raw
signals (``HR.csv`` starts 10 s later and keeps that offset in ``start_s``).
"""

from __future__ import annotations

import gzip
import io
import logging
import lzma
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from biowear.data.recordings.model import Events, Signal
from biowear.errors import ConfigError, DataError

log = logging.getLogger(__name__)

#: E4 accelerometer codes per g.
ACC_CODES_PER_G = 64.0


@dataclass(frozen=True)
class E4Spec:
    """One rate-headed E4 CSV: its file stem, signal key, channel names, unit and scale to that unit."""

    stem: str
    name: str
    channels: tuple[str, ...]
    unit: str
    scale: float = 1.0


#: The rate-headed E4 files (signal key -> spec); ``acc``, ``bvp``, ``eda``, ``temp`` are the raw sensors.
E4_SIGNALS: dict[str, E4Spec] = {
    "acc": E4Spec("ACC", "acc", ("x", "y", "z"), "g", 1.0 / ACC_CODES_PER_G),
    "bvp": E4Spec("BVP", "bvp", ("bvp",), "a.u."),
    "eda": E4Spec("EDA", "eda", ("eda",), "uS"),
    "temp": E4Spec("TEMP", "temp", ("temp",), "degC"),
    "hr": E4Spec("HR", "hr", ("hr",), "bpm"),
}
RAW_SIGNALS: tuple[str, ...] = ("acc", "bvp", "eda", "temp")
#: Longest disagreement (s) between the durations of the raw signals of one session before it counts as truncated.
DURATION_TOLERANCE_S = 4.0
_SUFFIXES = (".csv", ".csv.xz", ".csv.gz")


@dataclass(frozen=True)
class E4Session:
    """A read E4 export.

    Attributes:
        source: the folder or zip.
        start_unix_s: UNIX time (UTC) of the recording origin (the earliest raw-signal start).
        signals: signal key -> :class:`Signal` (``start_s`` relative to ``start_unix_s``).
        events: ``"ibi"`` (beat times, ``values`` the intervals in s) and ``"tags"`` (button presses), when present.
    """

    source: str
    start_unix_s: float
    signals: dict[str, Signal]
    events: dict[str, Events] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Longest signal end, seconds."""
        return max(s.end_s for s in self.signals.values())


class _Container:
    """The CSV members of an E4 folder or zip, by stem (``"BVP"``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.members: dict[str, str] = {}
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            names = [p.name for p in self.path.iterdir() if p.is_file()]
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(f"{self.path}: not a readable E4 zip ({exc}); truncated or not a zip file?") from exc
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            raise DataError(f"E4 export {self.path} does not exist (expected a folder or a .zip of E4 CSV files)")
        for name in sorted(names):  # BVP.csv before BVP.csv.xz when both exist
            base = name.rsplit("/", 1)[-1]
            for suffix in _SUFFIXES:
                if base.upper().endswith(suffix.upper()) and base[: -len(suffix)]:
                    self.members.setdefault(base[: -len(suffix)].upper(), name)

    def where(self, stem: str) -> str:
        return f"{self.path}/{self.members[stem]}" if self._zip else str(self.path / self.members[stem])

    def read(self, stem: str) -> bytes:
        name = self.members[stem]
        where = self.where(stem)
        try:
            raw = self._zip.read(name) if self._zip else (self.path / name).read_bytes()
            if name.lower().endswith(".xz"):
                return lzma.decompress(raw)
            if name.lower().endswith(".gz"):
                return gzip.decompress(raw)
            return raw
        except (zipfile.BadZipFile, lzma.LZMAError, EOFError, OSError) as exc:
            raise DataError(
                f"{where}: cannot read ({type(exc).__name__}: {exc}); the file is truncated or corrupt"
            ) from exc

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _split_header(raw: bytes, lines: int) -> tuple[list[str], bytes]:
    """The first ``lines`` lines (decoded, stripped) and the rest of the file."""
    parts = raw.split(b"\n", lines)
    header = [p.decode("latin1").strip() for p in parts[:lines]]
    return header, parts[lines] if len(parts) > lines else b""


def _numbers(line: str, where: str, what: str, n: int) -> np.ndarray:
    cells = [c.strip() for c in line.split(",") if c.strip()]
    try:
        values = np.asarray([float(c) for c in cells])
    except ValueError:
        raise DataError(f"{where}: line {what} must hold {n} number(s), got {line!r}") from None
    if len(values) != n:
        raise DataError(f"{where}: line {what} must hold {n} number(s) (one per column), got {line!r}")
    return values


def _table(body: bytes, where: str, n_columns: int, first_line: int) -> np.ndarray:
    if not body.strip():
        return np.zeros((0, n_columns))
    try:
        data = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise DataError(
            f"{where}: malformed samples after the header (line {first_line} on): {exc}; the file is truncated "
            "or not an E4 export"
        ) from exc
    if data.shape[1] != n_columns:
        raise DataError(f"{where}: expected {n_columns} column(s) of samples, got {data.shape[1]}")
    if not np.all(np.isfinite(data)):
        raise DataError(f"{where}: {int(np.count_nonzero(~np.isfinite(data)))} NaN/inf samples")
    return data


def _rate_headed(raw: bytes, where: str, spec: E4Spec) -> tuple[float, float, np.ndarray]:
    """(start UNIX s, rate Hz, samples (n, channels) in file units) of one rate-headed CSV."""
    n = len(spec.channels)
    header, body = _split_header(raw, 2)
    if len(header) < 1 or not header[0]:
        raise DataError(f"{where}: empty file; an E4 CSV starts with the start time (line 1) and the rate (line 2)")
    if len(header) < 2 or not header[1]:
        raise DataError(f"{where}: sampling rate missing (line 2 must give the rate in Hz, one value per column)")
    starts = _numbers(header[0], where, "1 (start time, UNIX s)", n)
    rates = _numbers(header[1], where, "2 (sampling rate, Hz)", n)
    if not np.all(rates > 0):
        raise DataError(f"{where}: sampling rate on line 2 must be positive, got {header[1]!r}")
    if np.ptp(rates) > 0 or np.ptp(starts) > 0:
        raise DataError(f"{where}: the columns disagree on the start time or rate (lines 1-2: {header[:2]})")
    data = _table(body, where, n, 3)
    if len(data) == 0:
        raise DataError(f"{where}: no samples after the 2 header lines (truncated?)")
    return float(starts[0]), float(rates[0]), data * spec.scale


def _events(container: _Container, t0: float) -> dict[str, Events]:
    out: dict[str, Events] = {}
    if "IBI" in container.members:
        where = container.where("IBI")
        header, body = _split_header(container.read("IBI"), 1)
        start = _numbers(header[0].split(",")[0], where, "1 (start time, UNIX s)", 1)[0] if header else t0
        rows = _table(body, where, 2, 2)
        out["ibi"] = Events(f"{where} (E4 beat detector, not ground truth)", rows[:, 0] + start - t0, (), rows[:, 1])
    if "TAGS" in container.members:
        where = container.where("TAGS")
        rows = _table(container.read("TAGS"), where, 1, 1)
        out["tags"] = Events(f"{where} (button presses)", np.sort(rows[:, 0] - t0))
    return out


def read_e4(
    path: Path,
    signals: tuple[str, ...] = RAW_SIGNALS,
    events: bool = True,
    expected_fs_hz: Mapping[str, float] | None = None,
) -> E4Session:
    """Read an E4 export (folder or zip).

    Args:
        path: the folder or ``.zip``.
        signals: signal keys to read (of :data:`E4_SIGNALS`: ``acc``, ``bvp``, ``eda``, ``temp``, ``hr``).
        events: also read ``IBI.csv`` and ``tags.csv`` when present.
        expected_fs_hz: signal key -> the rate line 2 must give (a file at another rate is refused).

    Returns:
        The session; signal times relative to the earliest start time of the signals read.

    Raises:
        ConfigError: an unknown signal key.
        DataError: the export or a needed CSV is missing (listing what is there); a header lacks the start
            time or a positive rate, or gives a rate other than ``expected_fs_hz``; the columns do not match
            (ACC needs 3); samples are malformed or truncated (also a truncated zip/xz member); or the raw
            signals' durations disagree by more than :data:`DURATION_TOLERANCE_S` (a file cut at a line
            boundary).
    """
    unknown = [s for s in signals if s not in E4_SIGNALS]
    if unknown:
        raise ConfigError(f"unknown E4 signal(s) {', '.join(unknown)}; valid options are: {', '.join(E4_SIGNALS)}")
    container = _Container(Path(path))
    try:
        missing = [E4_SIGNALS[s].stem for s in signals if E4_SIGNALS[s].stem not in container.members]
        if missing:
            raise DataError(
                f"{path}: E4 export lacks {', '.join(m + '.csv' for m in missing)}; it holds: "
                f"{', '.join(sorted(container.members.values())) or 'nothing'}"
            )
        parsed = {}
        for key in signals:
            spec = E4_SIGNALS[key]
            parsed[key] = (
                container.where(spec.stem),
                *_rate_headed(container.read(spec.stem), container.where(spec.stem), spec),
            )
            expected = (expected_fs_hz or {}).get(key)
            if expected is not None and abs(parsed[key][2] - expected) > 1e-6 * expected:
                raise DataError(
                    f"{parsed[key][0]}: line 2 gives a sampling rate of {parsed[key][2]:g} Hz but {spec.stem} is "
                    f"expected at {expected:g} Hz"
                )
        raw = [k for k in signals if k in RAW_SIGNALS] or list(signals)
        t0 = min(parsed[k][1] for k in raw)
        out = {
            key: Signal(key, data, fs, E4_SIGNALS[key].channels, E4_SIGNALS[key].unit, start - t0, where)
            for key, (where, start, fs, data) in parsed.items()
        }
        ev = _events(container, t0) if events else {}
    finally:
        container.close()
    ends = {k: out[k].end_s for k in raw}
    if max(ends.values()) - min(ends.values()) > DURATION_TOLERANCE_S:
        short = min(ends, key=ends.__getitem__)
        raise DataError(
            f"{out[short].source}: holds {out[short].duration_s:.1f} s but the session's other signals run to "
            f"{max(ends.values()):.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in ends.items())}); truncated file?"
        )
    log.debug("read E4 export %s: %s", path, {k: (s.fs_hz, s.n_samples) for k, s in out.items()})
    return E4Session(str(path), t0, out, ev)
