"""``emg_gestures`` (UCI EMG text logs, one folder per subject) and ``coswara`` (WAV clips, one folder per
participant, the sound type in the file name)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.model import Events, Interval, Recording, Signal, SignalSpec
from biowear.data.recordings.uci_emg import GESTURES, read_uci_emg
from biowear.data.recordings.wav import read_wav

_SERIES = re.compile(r"^(?P<series>\d+)_.*\.txt$")


def _runs(codes: np.ndarray, fs_hz: float, names: dict[int, str]) -> tuple[Interval, ...]:
    """Intervals of the runs of equal codes, sample ``i`` spanning ``[i, i + 1) / fs_hz``."""
    edges = np.flatnonzero(np.diff(codes)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(codes)]
    return tuple(Interval(s / fs_hz, e / fs_hz, names[int(codes[s])], int(codes[s])) for s, e in zip(starts, ends))


@dataclass(frozen=True)
class EMGGesturesDataset(RecordingDataset):
    """UCI *EMG Data for Gestures* (Lobov et al. 2018): ``<subject>/<series>_raw_data_<stamp>.txt``.

    Record ids are ``<subject>_<series>`` (``06_1``). Signal ``emg``: 8 channels of MYO codes at the rate
    detected per file after de-duplicating the sample-and-hold rows (see
    :mod:`biowear.data.recordings.uci_emg`; ``meta['fs_detected_hz']``, ``meta['log_rate_hz']``; the logged
    arrival time of each kept sample is ``events['log_times']``). Labels:
    intervals of the class column's runs, named as in the UCI README (``unmarked`` = 0 included).
    """

    name: str = "emg_gestures"
    description: str = (
        "UCI EMG Data for Gestures: 3 subjects x 2 series, 8-ch MYO forearm EMG (~100-110 Hz true rate after "
        "de-duplicating the ~1 kHz log), 6 gestures + unmarked"
    )
    folder: str = "emg_gestures"
    signal_specs: tuple[SignalSpec, ...] = (
        SignalSpec(
            "emg",
            None,
            tuple(f"channel{i}" for i in range(1, 9)),
            "MYO int8 code",
            "rate detected per file from the sample-and-hold repetition (99.9-110.4 Hz here); values = file x 1e5",
        ),
    )
    label_source: str = "UCI class column (per row; runs as intervals)"
    label_names: tuple[str, ...] = tuple(GESTURES.values())
    expected: str = "<subject>/<series>_raw_data_<time stamp>.txt tab-separated UCI EMG logs"
    notes: str = "class 0 (unmarked) is ~60% of rows; class 7 absent here; each gesture is 2 segments of ~1.5 s"

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        out = {}
        for path in folder.glob("*/*.txt"):
            match = _SERIES.match(path.name)
            if match:
                out[f"{path.parent.name}_{match.group('series')}"] = (path,)
        return out

    def subject_of(self, record_id: str) -> str:
        return record_id.rsplit("_", 1)[0]

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        path = files[0]
        log = read_uci_emg(path)
        emg = Signal(
            "emg", log.codes, log.fs_hz, tuple(f"channel{i}" for i in range(1, 9)), "MYO int8 code", 0.0, str(path)
        )
        return Recording(
            dataset=self.name,
            record_id=record_id,
            subject=self.subject_of(record_id),
            signals={"emg": emg},
            duration_s=emg.duration_s,
            intervals=_runs(log.classes, log.fs_hz, GESTURES),
            label_source=f"UCI class column of {path.name}",
            meta={
                "fs_detected_hz": log.fs_hz,
                "log_rate_hz": log.log_rate_hz,
                "rows": log.n_rows,
                "samples_kept": int(len(log.codes)),
                "series": record_id.rsplit("_", 1)[1],
            },
            events={
                "log_times": Events(
                    f"{path.name} time column of each kept sample (bursty Bluetooth arrival, not the time axis)",
                    (log.times_ms - log.times_ms[0]) / 1000.0,
                    values=np.arange(len(log.times_ms), dtype=np.float64),
                )
            },
            source=str(path),
        )


def cough_label(sound: str) -> tuple[str, int]:
    """Coswara sound type -> (label, code): ``cough-*`` -> (cough, 1), anything else -> (non_cough, 0)."""
    return ("cough", 1) if sound.lower().startswith("cough") else ("non_cough", 0)


@dataclass(frozen=True)
class CoswaraDataset(RecordingDataset):
    """Coswara clips (Sharma et al. 2020): ``[<batch>/]<participant>/<sound type>.wav``.

    Record ids are ``<participant>/<sound type>``; the subject is the participant folder. Signal ``audio``
    (float in [-1, 1]). Each clip is one interval over its length, ``cough`` for ``cough-*`` files and
    ``non_cough`` otherwise (the clips carry no per-cough onsets). ``meta['sound']`` keeps the sound type.

    Args:
        expected_fs_hz: the rate every clip must have (None: any; the cough application resamples to 16 kHz).
    """

    name: str = "coswara"
    description: str = (
        "Coswara: 6 participants x 5 WAV clips (48 kHz mono): cough-heavy/-shallow vs breathing, counting, vowel"
    )
    folder: str = "coswara"
    expected_fs_hz: float | None = None
    signal_specs: tuple[SignalSpec, ...] = (SignalSpec("audio", 48000.0, ("mic",), "full scale", "phone/laptop mic"),)
    label_source: str = "clip file name (cough-*.wav = cough, others non_cough)"
    label_names: tuple[str, ...] = ("cough", "non_cough")
    expected: str = "[<batch>/]<participant>/<sound type>.wav clips (cough-heavy.wav, vowel-a.wav, ...)"
    notes: str = "audio only, no IMU; whole-clip labels, no cough onsets; 0Rlzhiz6.../cough-heavy reaches full scale"

    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        clips = [p for pattern in ("*/*.wav", "*/*/*.wav") for p in folder.glob(pattern)]
        return {f"{p.parent.name}/{p.stem}": (p,) for p in clips}

    def subject_of(self, record_id: str) -> str:
        return record_id.split("/", 1)[0]

    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        path = files[0]
        audio = read_wav(path)
        self.check_rate(audio.fs_hz, self.expected_fs_hz, str(path), "the clip")
        channels = ("mic",) if audio.data.shape[1] == 1 else tuple(f"mic{i}" for i in range(audio.data.shape[1]))
        signal = Signal("audio", audio.data, audio.fs_hz, channels, "full scale", 0.0, str(path))
        label, code = cough_label(path.stem)
        return Recording(
            dataset=self.name,
            record_id=record_id,
            subject=self.subject_of(record_id),
            signals={"audio": signal},
            duration_s=signal.duration_s,
            intervals=(Interval(0.0, signal.duration_s, label, code),),
            label_source=f"clip file name {path.name}",
            meta={"sound": path.stem, "subtype": audio.subtype},
            source=str(path),
        )
