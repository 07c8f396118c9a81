"""PhysioNet folders: ``szdb`` (WFDB ECG + ``times.seize``) and ``eegmat`` (EDF, rest ``_1`` / task ``_2``)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.edf import read_edf
from biowear.data.recordings.model import Interval, Recording, Signal, SignalSpec
from biowear.data.recordings.seizure_times import SEIZURE_FILE, read_seizure_times, read_wfdb, seizure_intervals
from biowear.errors import DataError

log = logging.getLogger(__name__)

#: szdb: the records of one patient (ECGBench's beat-morphology finding, see the folder's README).
SZDB_PATIENTS: tuple[tuple[str, str], ...] = (("sz02", "sz02-04"), ("sz03", "sz02-04"), ("sz04", "sz02-04"))


@dataclass(frozen=True)
class SeizureECGDataset(RecordingDataset):
    """WFDB ECG records with seizure intervals in ``times.seize`` (PhysioNet *Post-Ictal Heart Rate
    Oscillations in Partial Epilepsy*, Al-Aweel et al. 1999).

    A record is a ``<name>.hea`` with its ``<name>.<annotator>`` beat annotations; its ``.dat`` may be missing
    (then the recording has no ``ecg`` signal, only ``beats``). Seizures are intervals labelled ``seizure``
    (code 1); ``times.seize`` lines naming a record the folder lacks are ignored (logged).

    Args:
        annotator: the beat-annotation extension (``ari``: ARISTOTLE, unaudited).
        expected_fs_hz: the rate every header must give (None: any).
        patients: record -> patient pairs for records that share a patient (others are their own patient).
    """

    name: str = "szdb"
    description: str = (
        "PhysioNet szdb: 7 one-lead ECG records (200 Hz; waveform for sz01/04/05/07, beats for all), "
        "10 seizures in times.seize, 5 patients"
    )
    folder: str = "szdb"
    annotator: str = "ari"
    expected_fs_hz: float | None = 200.0
    patients: tuple[tuple[str, str], ...] = SZDB_PATIENTS
    signal_specs: tuple[SignalSpec, ...] = (
        SignalSpec("ecg", 200.0, ("ECG",), "mV", "absent for records without a .dat (sz02, sz03, sz06)"),
    )
    label_source: str = "times.seize (seizure onset/offset read from the EEG by an electroencephalographer)"
    label_names: tuple[str, ...] = ("seizure",)
    expected: str = "<record>.hea + <record>.ari (+ <record>.dat for the waveform) and times.seize"
    notes: str = (
        "sz02, sz03, sz04 are one patient; beats (.ari) are unaudited; ECG clipped at the 8-bit limits in sz04/sz07"
    )

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        out = {}
        for hea in folder.glob("*.hea"):
            ann = hea.with_suffix(f".{self.annotator}")
            if ann.is_file():
                dat = hea.with_suffix(".dat")
                out[hea.stem] = (hea, ann, *((dat,) if dat.is_file() else ()), folder / SEIZURE_FILE)
        return out

    def subject_of(self, record_id: str) -> str:
        return dict(self.patients).get(record_id, record_id)

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        contents = read_wfdb(folder, record_id, self.annotator)
        self.check_rate(contents.fs_hz, self.expected_fs_hz, str(files[0]), "the record")
        times_path = folder / SEIZURE_FILE
        times = read_seizure_times(times_path)
        ignored = sorted(set(times) - set(self.discover(folder)))
        if ignored:
            log.info("%s: no record %s in %s; their seizure lines are ignored", times_path, ", ".join(ignored), folder)
        intervals = seizure_intervals(times, record_id, contents.duration_s, times_path)
        events = {"beats": contents.beats} if contents.beats is not None else {}
        if contents.annotations is not None:
            events["annotations"] = contents.annotations
        return Recording(
            dataset=self.name,
            record_id=record_id,
            subject=self.subject_of(record_id),
            signals={"ecg": contents.signal} if contents.signal is not None else {},
            duration_s=contents.duration_s,
            intervals=intervals,
            label_source=f"{times_path.name} (seizure onset/offset)",
            events=events,
            meta=contents.meta,
            source=str(folder / record_id),
        )


_CONDITION = re.compile(r"^(?P<subject>.+)_(?P<condition>[12])$")
#: eegmat's file-name suffix -> (label, code).
EEGMAT_CONDITIONS: dict[str, tuple[str, int]] = {"1": ("rest", 0), "2": ("task", 1)}
EEGMAT_LEADS: tuple[str, ...] = tuple("Fp1 Fp2 F3 F4 F7 F8 T3 T4 C3 C4 T5 T6 P3 P4 O1 O2 Fz Cz Pz".split())


def _kind_and_name(label: str) -> tuple[str, str]:
    """EDF label -> (signal key, channel name): ``EEG Fp1`` -> (eeg, Fp1), ``EEG A2-A1`` -> (eeg_ref, A2-A1),
    ``ECG ECG`` -> (ecg, ECG)."""
    kind, _, rest = label.partition(" ")
    name = rest.strip() if rest.strip() else label
    if kind.upper() in ("ECG", "EKG") or "ECG" in label.upper():
        return "ecg", name
    if "-" in name and name.upper().startswith("A"):
        return "eeg_ref", name
    return "eeg", name


@dataclass(frozen=True)
class EEGMatDataset(RecordingDataset):
    """EDF EEG pairs ``<subject>_1.edf`` (rest, 0) and ``<subject>_2.edf`` (mental arithmetic, 1) (PhysioNet
    *EEG During Mental Arithmetic Tasks*, Zyma et al. 2019).

    Signals: ``eeg`` (the scalp leads, µV, named without the ``EEG`` prefix), ``eeg_ref`` (``A2-A1``) and
    ``ecg``; each recording has one interval over its whole length labelled ``rest`` or ``task``.

    Args:
        expected_fs_hz: the rate every signal must have (None: any, but one rate per signal group).
    """

    name: str = "eegmat"
    description: str = "PhysioNet eegmat: 4 subjects' 19-lead EEG (EDF, 500 Hz), rest (_1, 182 s) vs task (_2, 62 s)"
    folder: str = "eegmat"
    expected_fs_hz: float | None = 500.0
    signal_specs: tuple[SignalSpec, ...] = (
        SignalSpec("eeg", 500.0, EEGMAT_LEADS, "uV", "monopolar against linked ears; ICA-cleaned by the authors"),
        SignalSpec("eeg_ref", 500.0, ("A2-A1",), "uV"),
        SignalSpec("ecg", 500.0, ("ECG",), "mV"),
    )
    label_source: str = "file name _1 (rest) / _2 (mental arithmetic)"
    label_names: tuple[str, ...] = ("rest", "task")
    expected: str = "<subject>_1.edf (rest) and <subject>_2.edf (task) EDF files"
    notes: str = "rest 182 s (170 s for Subject04) vs task 62 s: about 3:1, balance the windows"

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        return {p.stem: (p,) for p in folder.glob("*.edf") if _CONDITION.match(p.stem)}

    def subject_of(self, record_id: str) -> str:
        match = _CONDITION.match(record_id)
        return match.group("subject") if match else record_id

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        path = files[0]
        groups: dict[str, list] = {}
        for sig in read_edf(path):
            self.check_rate(sig.fs_hz, self.expected_fs_hz, str(path), f"signal {sig.label!r}")
            groups.setdefault(_kind_and_name(sig.label)[0], []).append(sig)
        signals = {}
        for key, sigs in groups.items():
            rates = {s.fs_hz for s in sigs}
            lengths = {len(s.data) for s in sigs}
            if len(rates) > 1 or len(lengths) > 1:
                raise DataError(
                    f"{path}: the {key} signals differ in rate or length "
                    f"({sorted(rates)} Hz, {sorted(lengths)} samples)"
                )
            signals[key] = Signal(
                key,
                np.stack([s.data for s in sigs], axis=1),
                sigs[0].fs_hz,
                tuple(_kind_and_name(s.label)[1] for s in sigs),
                sigs[0].unit,
                0.0,
                str(path),
            )
        if "eeg" not in signals:
            raise DataError(
                f"{path}: no EEG signal; labels found: {', '.join(s.label for g in groups.values() for s in g)}"
            )
        label, code = EEGMAT_CONDITIONS[_CONDITION.match(record_id).group("condition")]  # type: ignore[union-attr]
        duration = signals["eeg"].duration_s
        return Recording(
            dataset=self.name,
            record_id=record_id,
            subject=self.subject_of(record_id),
            signals=signals,
            duration_s=duration,
            intervals=(Interval(0.0, duration, label, code),),
            label_source=f"file name {path.name} (_1 rest, _2 task)",
            source=str(path),
        )
