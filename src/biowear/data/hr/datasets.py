"""The heart-rate datasets as array-style datasets (:class:`biowear.data.arrays.WindowDataset`), registered in
:data:`biowear.data.DATASETS` as ``ieee_spc2015``, ``ppg_dalia`` and ``wesad_hr``.

Each reads its files under ``<data root>/<folder>/``, windows every recording (:mod:`.windowing`) at the rate
and with the channels ``DataConfig`` asks for (default 32 Hz; PPG mean + acc x/y/z) and returns the windows with
one group per subject, so ``group``/``records`` splits (leave-one-subject-out) work on the prepared data. Use
``DataConfig(datasets=("ieee_spc2015",), filter="none", normalize="none")`` (the default band-pass,
0.5-40 Hz, does not fit a 32 Hz rate; z-scoring belongs to the training folds). The cache key holds the sha256
of every file (content-based, as for ``.npz`` and WFDB-folder sources).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from biowear.data.arrays import ArrayData, WindowDataset
from biowear.data.fingerprint import content_fingerprint
from biowear.data.hr.recording import HRRecording
from biowear.data.hr.spc2015 import FOLDER as SPC_FOLDER
from biowear.data.hr.spc2015 import TRAINING_FILES, read_spc_recording, subject_of
from biowear.data.hr.windowing import DEFAULT_CHANNELS, HR_CHANNELS, HRWindowConfig, recordings_to_arrays
from biowear.data.hr.wrist_pickles import read_dalia_pickle, read_wesad_pickle
from biowear.errors import ConfigError, DataError
from biowear.paths import DATA_ENV, data_root

#: Bumped when the windows these datasets produce change (part of the cache key).
WINDOWS_VERSION = "hr-windows-1"


@dataclass(frozen=True)
class HRDataset(WindowDataset):
    """A folder of heart-rate recordings, one subject per entry of :meth:`record_ids`.

    Subclasses give the files of each subject (:meth:`subject_files`), the text describing the expected
    layout (:attr:`expected`) and the reader (:meth:`read`).

    Args:
        name: registry name.
        description: one line for ``biowear data list``.
        folder: the sub-folder of the data root.
        root: the data root (None: ``BIOWEAR_DATA`` at the time of use).
        fs_hz: the default model rate of the windows.
    """

    name: str
    description: str
    folder: str
    root: Path | None = None
    fs_hz: float = 32.0
    synthetic: bool = False

    #: What the folder must hold, for error messages.
    expected: str = ""

    def directory(self, root: Path | None = None) -> Path:
        return (root or self.root or data_root()) / self.folder

    @abstractmethod
    def subject_files(self, subject: str, folder: Path) -> tuple[Path, ...] | None:
        """The files of ``subject`` in ``folder`` (None when missing)."""

    @abstractmethod
    def read(self, subject: str, files: tuple[Path, ...]) -> HRRecording:
        """Read one subject's recording."""

    def _files(self, root: Path | None = None) -> dict[str, tuple[Path, ...]]:
        folder = self.directory(root)
        if not folder.is_dir():
            raise DataError(
                f"{self.name}: folder {folder} does not exist (data root {folder.parent}, set by {DATA_ENV}, + "
                f"{self.folder}/); expected {self.expected}"
            )
        files = {s: self.subject_files(s, folder) for s in self.record_ids()}
        missing = [s for s, f in files.items() if f is None]
        if missing:
            held = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
            raise DataError(
                f"{self.name}: {folder} lacks the files of subject(s) {', '.join(missing)}; expected "
                f"{self.expected}; the folder holds: {', '.join(held[:12]) or 'nothing'}"
                + (" ..." if len(held) > 12 else "")
            )
        return {s: f for s, f in files.items() if f is not None}

    def available(self, root: Path | None = None) -> bool:
        try:
            self._files(root)
        except DataError:
            return False
        return True

    def load_recordings(
        self, subjects: Sequence[str] | None = None, root: Path | None = None
    ) -> tuple[HRRecording, ...]:
        """The recordings of ``subjects`` (default all), in :meth:`record_ids` order.

        Raises:
            ConfigError: an unknown subject (listing the valid ones).
            DataError: missing files (saying where they were looked for and what is expected) or bad data.
        """
        unknown = [s for s in subjects or () if s not in self.record_ids()]
        if unknown:
            raise ConfigError(
                f"dataset {self.name!r} has no subject(s) {', '.join(unknown)}; valid subjects are: "
                f"{' '.join(self.record_ids())}"
            )
        files = self._files(root)
        wanted = self.record_ids() if subjects is None else tuple(subjects)
        return tuple(self.read(s, files[s]) for s in wanted)

    def load_arrays(self, fs_hz: float | None = None, channels: tuple[str, ...] | None = None) -> ArrayData:
        """Windows of every subject at ``fs_hz`` (default :attr:`fs_hz`) with ``channels`` (names from
        :data:`~biowear.data.hr.windowing.HR_CHANNELS`; default PPG mean + acc x/y/z)."""
        unknown = [c for c in channels or () if c not in HR_CHANNELS]
        if unknown:
            raise ConfigError(
                f"{self.name}: no channel(s) {', '.join(unknown)}; its channels are: {', '.join(HR_CHANNELS)}"
            )
        config = HRWindowConfig(fs_hz or self.fs_hz, tuple(channels or DEFAULT_CHANNELS))
        return recordings_to_arrays(self.load_recordings(), config, name=self.name)

    def fingerprint(self, root: Path | None = None) -> str:
        """sha256 of every file (memoised by path, mtime and size) and the windowing version."""
        paths = [p for files in self._files(root).values() for p in files]
        return content_fingerprint(paths, salt=f"{self.name}:{WINDOWS_VERSION}")


@dataclass(frozen=True)
class SPC2015Dataset(HRDataset):
    """IEEE SPC 2015: the 12 training recordings and the extra ``DATA_S04_T01`` (13 subjects, see
    :mod:`biowear.data.hr.spc2015` for why ``DATA_S04`` is its own subject)."""

    name: str = "ieee_spc2015"
    description: str = (
        "IEEE SPC 2015 (TROIKA): 13 wrist PPG x2 + acc recordings under running, 125 Hz, BPM0 per 8 s / 2 s "
        "window; windows resampled to 32 Hz"
    )
    folder: str = SPC_FOLDER
    expected: str = (
        "Training_data/DATA_01_TYPE01.mat ... DATA_12_TYPE02.mat, each with its DATA_xx_TYPEyy_BPMtrace.mat, and "
        "Extra_TrainingData/DATA_S04_T01.mat with BPM_S04_T01.mat"
    )

    def record_ids(self) -> tuple[str, ...]:
        return tuple(subject_of(Path(signal).stem) for signal, _ in TRAINING_FILES)

    def subject_files(self, subject: str, folder: Path) -> tuple[Path, ...] | None:
        signal, truth = next((folder / s, folder / t) for s, t in TRAINING_FILES if subject_of(Path(s).stem) == subject)
        return (signal, truth) if signal.is_file() and truth.is_file() else None

    def read(self, subject: str, files: tuple[Path, ...]) -> HRRecording:
        return read_spc_recording(files[0], files[1], subject_id=subject, dataset=self.name)


def _first_file(folder: Path, candidates: tuple[str, ...]) -> tuple[Path, ...] | None:
    found = next((folder / c for c in candidates if (folder / c).is_file()), None)
    return None if found is None else (found,)


@dataclass(frozen=True)
class PPGDaliaDataset(HRDataset):
    """PPG-DaLiA (Reiss et al. 2019): one pickle per subject with the ECG-derived heart rate per window."""

    name: str = "ppg_dalia"
    description: str = (
        "PPG-DaLiA: 15 subjects' wrist BVP 64 Hz + acc 32 Hz in daily life, HR label per 8 s / 2 s window "
        "(SX.pkl); windows at 32 Hz"
    )
    folder: str = "ppg_dalia"
    subjects: tuple[str, ...] = tuple(f"S{i}" for i in range(1, 16))
    expected: str = "one pickle per subject S1 ... S15, as PPG_FieldStudy/SX/SX.pkl, SX/SX.pkl or SX.pkl"

    def record_ids(self) -> tuple[str, ...]:
        return self.subjects

    def subject_files(self, subject: str, folder: Path) -> tuple[Path, ...] | None:
        return _first_file(
            folder, (f"PPG_FieldStudy/{subject}/{subject}.pkl", f"{subject}/{subject}.pkl", f"{subject}.pkl")
        )

    def read(self, subject: str, files: tuple[Path, ...]) -> HRRecording:
        return read_dalia_pickle(files[0], subject_id=subject, dataset=self.name)


@dataclass(frozen=True)
class WESADHRDataset(HRDataset):
    """WESAD (Schmidt et al. 2018) for heart rate: wrist BVP and acc, reference HR from the chest ECG."""

    name: str = "wesad_hr"
    description: str = (
        "WESAD for heart rate: 15 subjects' wrist BVP 64 Hz + acc 32 Hz, HR from the 700 Hz chest ECG "
        "(R-peaks, median RR per 8 s / 2 s window; SX/SX.pkl); windows at 32 Hz"
    )
    folder: str = "wesad"
    subjects: tuple[str, ...] = tuple(f"S{i}" for i in (*range(2, 12), *range(13, 18)))
    expected: str = "one pickle per subject S2 ... S11, S13 ... S17, as SX/SX.pkl, WESAD/SX/SX.pkl or SX.pkl"

    def record_ids(self) -> tuple[str, ...]:
        return self.subjects

    def subject_files(self, subject: str, folder: Path) -> tuple[Path, ...] | None:
        return _first_file(folder, (f"{subject}/{subject}.pkl", f"WESAD/{subject}/{subject}.pkl", f"{subject}.pkl"))

    def read(self, subject: str, files: tuple[Path, ...]) -> HRRecording:
        return read_wesad_pickle(files[0], subject_id=subject, dataset=self.name)
