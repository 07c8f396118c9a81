"""Empatica E4 wrist datasets: ``wesad`` (E4 folders or zips + condition intervals) and ``ppg_dalia`` (the
original ``SX_E4.zip`` + activity timeline).

Both give signals ``acc`` (3 axes, g, 32 Hz), ``bvp`` (PPG, a.u., 64 Hz), ``eda`` (µS, 4 Hz) and ``temp``
(°C, 4 Hz) on the E4's own time axis (seconds after the line-1 start time), plus the E4's ``ibi`` and ``tags``
events; see :mod:`biowear.data.recordings.e4`.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.e4 import E4_SIGNALS, RAW_SIGNALS, E4Session, read_e4
from biowear.data.recordings.model import Interval, Recording, SignalSpec
from biowear.errors import DataError

log = logging.getLogger(__name__)

E4_SPECS: tuple[SignalSpec, ...] = (
    SignalSpec("acc", 32.0, E4_SIGNALS["acc"].channels, "g", "file codes / 64"),
    SignalSpec("bvp", 64.0, ("bvp",), "a.u."),
    SignalSpec("eda", 4.0, ("eda",), "uS", "first sample reads 0 (start-up)"),
    SignalSpec("temp", 4.0, ("temp",), "degC", "first 4 samples read ~382 (start-up)"),
)
#: The E4 rates the wrist datasets expect (a file at another rate is refused).
E4_RATES_HZ: dict[str, float] = {"acc": 32.0, "bvp": 64.0, "eda": 4.0, "temp": 4.0, "hr": 1.0}


def _recording(dataset: RecordingDataset, record_id: str, session: E4Session, **fields: object) -> Recording:
    meta = {"start_unix_s": session.start_unix_s, **dict(fields.pop("meta", {}))}  # type: ignore[call-overload]
    return Recording(
        dataset=dataset.name,
        record_id=record_id,
        subject=record_id,
        signals=session.signals,
        duration_s=session.duration_s,
        events=session.events,
        meta=meta,
        source=session.source,
        **fields,  # type: ignore[arg-type]
    )


# ============================================================================================== WESAD
#: WESAD's label codes (readme II.3) by condition of the interval table.
WESAD_CODES: dict[str, tuple[str, int]] = {
    "baseline": ("baseline", 1),
    "stress": ("stress", 2),
    "amusement": ("amusement", 3),
    "meditation_1": ("meditation", 4),
    "meditation_2": ("meditation", 4),
}
#: ``SX_quest.csv`` ``# ORDER`` names of the conditions.
QUEST_NAMES: dict[str, str] = {
    "Base": "baseline",
    "TSST": "stress",
    "Fun": "amusement",
    "Medi 1": "meditation_1",
    "Medi 2": "meditation_2",
}
#: The labelled part of a protocol phase is ``[start + 10 s, end - 10 s]`` (the folder's README).
QUEST_MARGIN_S = 10.0
QUEST_TOLERANCE_S = 2.0
INTERVALS_FILE = "derived/e4_condition_intervals.csv"


def quest_minutes(text: str, where: str) -> float:
    """WESAD quest time ``minutes.seconds`` -> seconds (``7.08`` -> 428, ``50.3`` -> 3030)."""
    minutes, _, seconds = text.strip().partition(".")
    try:
        return int(minutes) * 60 + (int(seconds.ljust(2, "0")) if seconds else 0)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a minutes.seconds time") from None


def read_quest(path: Path) -> dict[str, float]:
    """condition -> protocol duration (s) from ``SX_quest.csv``'s ``# ORDER``/``# START``/``# END`` rows.

    Raises:
        DataError: a row is missing or the rows differ in length.
    """
    rows: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin1").splitlines():
        cells = [c.strip() for c in line.split(";")]
        if cells and cells[0] in ("# ORDER", "# START", "# END"):
            rows[cells[0]] = [c for c in cells[1:] if c]
    missing = [k for k in ("# ORDER", "# START", "# END") if k not in rows]
    if missing:
        raise DataError(f"{path}: lacks the protocol row(s) {', '.join(missing)}")
    order, start, end = rows["# ORDER"], rows["# START"], rows["# END"]
    if not len(order) == len(start) == len(end):
        raise DataError(f"{path}: # ORDER, # START and # END rows differ in length")
    out = {}
    for name, s, e in zip(order, start, end):
        if name in QUEST_NAMES:
            out[QUEST_NAMES[name]] = quest_minutes(e, str(path)) - quest_minutes(s, str(path))
    return out


def read_interval_table(path: Path) -> dict[str, list[tuple[str, float, float]]]:
    """subject -> ``[(condition, e4_start_s, e4_end_s), ...]`` from the derived interval table.

    Raises:
        DataError: missing file, missing columns, or unreadable numbers.
    """
    if not path.is_file():
        raise DataError(
            f"WESAD condition intervals {path} do not exist: the SX_quest.csv times count from the RespiBAN start, "
            "so the E4 intervals need this table (subject,condition,label,e4_start_s,e4_end_s; see the wesad README)"
        )
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(lines)
    need = ("subject", "condition", "e4_start_s", "e4_end_s")
    lacking = [c for c in need if c not in (reader.fieldnames or ())]
    if lacking:
        raise DataError(f"{path}: lacks column(s) {', '.join(lacking)}; it has {', '.join(reader.fieldnames or ())}")
    out: dict[str, list[tuple[str, float, float]]] = {}
    for n, row in enumerate(reader, start=2):
        try:
            out.setdefault(row["subject"], []).append(
                (row["condition"], float(row["e4_start_s"]), float(row["e4_end_s"]))
            )
        except (TypeError, ValueError):
            raise DataError(f"{path}, data row {n}: e4_start_s/e4_end_s must be numbers, got {row}") from None
    return out


@dataclass(frozen=True)
class WESADDataset(RecordingDataset):
    """WESAD wrist data (Schmidt et al. 2018): ``SX/SX_E4_Data/`` (or ``SX/SX_E4_Data.zip``), ``SX/SX_quest.csv``
    and the interval table ``derived/e4_condition_intervals.csv``.

    Labels: the five protocol intervals of each subject on the E4 time axis, ``baseline`` (1), ``stress`` (2),
    ``amusement`` (3), ``meditation`` (4, twice), from the table; each interval's length is checked against
    ``SX_quest.csv`` (``end - start - 20 s`` within 2 s) and against the E4 recording's length.

    Args:
        signals: the E4 signals to read (``acc``, ``bvp``, ``eda``, ``temp``, ``hr``).
        intervals_file: the interval table, relative to the dataset folder.
    """

    name: str = "wesad"
    description: str = (
        "WESAD wrist (E4): 15 subjects' BVP 64 Hz, ACC 32 Hz, EDA/TEMP 4 Hz; baseline/stress/amusement/meditation"
    )
    folder: str = "wesad"
    signals: tuple[str, ...] = RAW_SIGNALS
    intervals_file: str = INTERVALS_FILE
    signal_specs: tuple[SignalSpec, ...] = E4_SPECS
    label_source: str = "WESAD protocol (SX_quest.csv) mapped onto the E4 axis by derived/e4_condition_intervals.csv"
    label_names: tuple[str, ...] = ("baseline", "stress", "amusement", "meditation")
    expected: str = (
        "SX/SX_E4_Data/ (ACC/BVP/EDA/TEMP.csv[.xz]) or SX/SX_E4_Data.zip, SX/SX_quest.csv, " + INTERVALS_FILE
    )
    notes: str = (
        "label alignment from a third-party audit of the pickles (consistent with quest files and physiology); "
        "no chest data; BVP during the TSST is motion-corrupted"
    )

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        out = {}
        for sub in folder.iterdir():
            if not sub.is_dir():
                continue
            e4 = next((p for p in (sub / f"{sub.name}_E4_Data", sub / f"{sub.name}_E4_Data.zip") if p.exists()), None)
            if e4 is not None:
                quest = sub / f"{sub.name}_quest.csv"
                out[sub.name] = (e4, *((quest,) if quest.is_file() else ()), folder / self.intervals_file)
        return out

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        table_path = folder / self.intervals_file
        table = read_interval_table(table_path)
        if record_id not in table:
            raise DataError(
                f"{table_path}: no intervals for subject {record_id!r} (subjects there: {' '.join(sorted(table))})"
            )
        session = read_e4(files[0], self.signals, expected_fs_hz=E4_RATES_HZ)
        quest = next((p for p in files if p.name.endswith("_quest.csv")), None)
        durations = read_quest(quest) if quest is not None else {}
        intervals = []
        for condition, start, end in table[record_id]:
            if condition not in WESAD_CODES:
                raise DataError(f"{table_path}: unknown condition {condition!r}; known: {', '.join(WESAD_CODES)}")
            if end > session.duration_s + 1.0:
                raise DataError(
                    f"{table_path}: {record_id} {condition} ends at {end:g} s but the E4 recording {files[0]} lasts "
                    f"{session.duration_s:g} s; the label file does not match the recording"
                )
            if condition in durations:
                expect = durations[condition] - 2 * QUEST_MARGIN_S
                if abs((end - start) - expect) > QUEST_TOLERANCE_S:
                    raise DataError(
                        f"{table_path}: {record_id} {condition} lasts {end - start:g} s but {quest} gives "
                        f"{expect:g} s (end - start - 20 s); the label files disagree"
                    )
            label, code = WESAD_CODES[condition]
            intervals.append(Interval(start, end, label, code))
        if quest is None:
            log.info("%s: no %s_quest.csv; interval lengths not checked against the protocol", record_id, record_id)
        return _recording(
            self,
            record_id,
            session,
            intervals=tuple(intervals),
            label_source=f"{table_path.name} (WESAD protocol on the E4 axis)"
            + (f", checked against {quest.name}" if quest else ""),
            meta={"quest": str(quest) if quest else ""},
        )


# ============================================================================================== PPG-DaLiA
#: Activity names of ``SX_activity.csv`` -> code, in the protocol order (0 = transition).
DALIA_ACTIVITIES: dict[str, int] = {
    "NO_ACTIVITY": 0,
    "BASELINE": 1,
    "CLEAN_BASELINE": 1,
    "STAIRS": 2,
    "SOCCER": 3,
    "CYCLING": 4,
    "DRIVING": 5,
    "LUNCH": 6,
    "WALKING": 7,
    "WORKING": 8,
}
#: E4 time = activity time + this (estimated in the folder's README from wrist motion; not a published value).
DALIA_ACTIVITY_OFFSET_S = 110.0


def read_activity(path: Path, offset_s: float, duration_s: float) -> tuple[Interval, ...]:
    """Activity segments of ``SX_activity.csv`` (``# NAME, start_s`` lines; each runs to the next, the last to
    the recording's end), shifted by ``offset_s`` onto the E4 axis.

    Raises:
        DataError: malformed lines, an unknown activity, times not increasing, or a segment starting after the
            recording ends (the activity file does not match the recording).
    """
    starts: list[tuple[str, float, int]] = []
    for n, line in enumerate(path.read_text(encoding="latin1").splitlines(), start=1):
        cells = [c.strip() for c in line.lstrip("#").split(",")]
        if len(cells) != 2 or cells[0] == "SUBJECT_ID" or not cells[0]:
            continue
        if cells[0] not in DALIA_ACTIVITIES:
            raise DataError(f"{path}, line {n}: unknown activity {cells[0]!r}; known: {', '.join(DALIA_ACTIVITIES)}")
        try:
            starts.append((cells[0], float(cells[1]) + offset_s, n))
        except ValueError:
            raise DataError(f"{path}, line {n}: start time must be a number of seconds, got {cells[1]!r}") from None
    out = []
    for i, (name, start, n) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else duration_s
        if start >= duration_s:
            raise DataError(
                f"{path}, line {n}: {name} starts at {start:g} s on the E4 axis (offset {offset_s:g} s) but the "
                f"recording lasts {duration_s:g} s; the activity file does not match the recording"
            )
        if end <= start:
            raise DataError(f"{path}, line {n}: activity start times must increase")
        out.append(Interval(max(start, 0.0), end, name.lower(), DALIA_ACTIVITIES[name]))
    return tuple(out)


@dataclass(frozen=True)
class PPGDaliaE4Dataset(RecordingDataset):
    """PPG-DaLiA's raw wrist exports (Reiss et al. 2019): ``SX/SX_E4.zip`` and ``SX/SX_activity.csv``.

    Labels: the activity segments, shifted by ``activity_offset_s`` onto the E4 axis (codes 0 = transition,
    1 sitting/baseline, 2 stairs, 3 soccer, 4 cycling, 5 driving, 6 lunch, 7 walking, 8 working, in the
    protocol order). There is **no ECG heart-rate ground truth** here (that is in the ``SX.pkl`` pickles read
    by the ``ppg_dalia`` window dataset of :data:`biowear.data.DATASETS`).

    Args:
        signals: the E4 signals to read.
        activity_offset_s: E4 time minus activity-file time (110 s: estimated in the folder's README).
    """

    name: str = "ppg_dalia"
    description: str = "PPG-DaLiA raw E4 export (S3 here): BVP 64 Hz, ACC 32 Hz, EDA/TEMP 4 Hz + activity timeline"
    folder: str = "ppg_dalia"
    signals: tuple[str, ...] = RAW_SIGNALS
    activity_offset_s: float = DALIA_ACTIVITY_OFFSET_S
    signal_specs: tuple[SignalSpec, ...] = E4_SPECS
    label_source: str = "SX_activity.csv activity timeline (+110 s onto the E4 axis, an estimate)"
    label_names: tuple[str, ...] = tuple(n.lower() for n in DALIA_ACTIVITIES)
    expected: str = "SX/SX_E4.zip (the E4 export) with SX/SX_activity.csv"
    notes: str = "no ECG-derived HR labels: for loaders and motion tests, not HR accuracy"

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        out = {}
        for z in (*folder.glob("*/*_E4.zip"), *folder.glob("*_E4.zip")):
            subject = z.name[: -len("_E4.zip")]
            activity = z.parent / f"{subject}_activity.csv"
            out.setdefault(subject, (z, *((activity,) if activity.is_file() else ())))
        return out

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        session = read_e4(files[0], self.signals, expected_fs_hz=E4_RATES_HZ)
        activity = next((p for p in files if p.name.endswith("_activity.csv")), None)
        intervals = () if activity is None else read_activity(activity, self.activity_offset_s, session.duration_s)
        source = f"{activity.name} (+{self.activity_offset_s:g} s onto the E4 axis, estimated)" if activity else "none"
        return _recording(
            self,
            record_id,
            session,
            intervals=intervals,
            label_source=source,
            meta={"activity_offset_s": self.activity_offset_s},
        )
