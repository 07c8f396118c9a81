"""IEEE Signal Processing Cup 2015 (TROIKA) recordings: MATLAB ``.mat`` files read with ``scipy.io.loadmat``.

Two layouts of the variable ``sig``, told apart by its row count, all rows at 125 Hz:

* training (6 rows): ECG, PPG1, PPG2, acc x, acc y, acc z; files ``DATA_01_TYPE01.mat`` ... with the
  reference ``BPM0`` in ``DATA_01_TYPE01_BPMtrace.mat``; the extra ``DATA_S04_T01.mat`` with ``BPM_S04_T01.mat``;
* competition test (5 rows, no ECG): PPG1, PPG2, acc x, acc y, acc z; files ``TEST_S01_T01.mat`` with the
  reference in ``True_S01_T01.mat``.

``BPM0[k]`` is the heart rate over samples ``[250 k, 250 k + 1000)``; its length must be
``floor((N - 1000) / 250) + 1``.

Subjects: each of ``DATA_01`` ... ``DATA_12`` is a different person (the organisers' readme). The extra
recording ``DATA_S04_T01`` follows the naming of the competition test set (``TEST_Sxx_Tyy``: subject ``Sxx``,
protocol type ``yy``), not that of ``DATA_04_TYPE02``; whether it is the person of ``DATA_04`` is not
documented (one third-party copy renames it ``DATA_04_TYPE01``, which is a guess, not a statement of the
organisers). It is therefore its own group, ``DATA_S04``; pooling it with ``DATA_04`` in one group is the
cautious alternative when a leak across folds must be ruled out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.hr.recording import HRRecording
from biowear.errors import DataError
from biowear.paths import data_root

SPC_FS_HZ = 125.0
#: Row names of ``sig`` per layout, keyed by the row count.
LAYOUTS: dict[int, tuple[str, ...]] = {
    6: ("ecg", "ppg1", "ppg2", "acc_x", "acc_y", "acc_z"),
    5: ("ppg1", "ppg2", "acc_x", "acc_y", "acc_z"),
}
LAYOUT_NAMES = {6: "training", 5: "competition test"}
FOLDER = "ieee_spc2015"
#: The 13 training recordings, relative to the dataset folder: (signal file, reference file).
TRAINING_FILES: tuple[tuple[str, str], ...] = tuple(
    (f"Training_data/DATA_{i:02d}_TYPE{t:02d}.mat", f"Training_data/DATA_{i:02d}_TYPE{t:02d}_BPMtrace.mat")
    for i, t in [(1, 1)] + [(i, 2) for i in range(2, 13)]
) + (("Extra_TrainingData/DATA_S04_T01.mat", "Extra_TrainingData/BPM_S04_T01.mat"),)

_LAYOUT_TEXT = (
    "valid layouts are 6 rows (training: ECG, PPG1, PPG2, acc x, acc y, acc z) or "
    "5 rows (competition test: PPG1, PPG2, acc x, acc y, acc z), columns = samples at 125 Hz"
)


@dataclass(frozen=True)
class SPCFile:
    """A recording file and its reference file (None when there is none)."""

    signal: Path
    truth: Path | None


def subject_of(stem: str) -> str:
    """The subject of a recording named ``stem``: ``DATA_01_TYPE01`` -> ``DATA_01``, ``TEST_S02_T01`` ->
    ``TEST_S02``, ``DATA_S04_T01`` -> ``DATA_S04``; other names are their own subject."""
    m = re.fullmatch(r"DATA_(\d+)_TYPE\d+", stem)
    if m:
        return f"DATA_{m.group(1)}"
    m = re.fullmatch(r"(DATA|TEST)_(S\d+)_T\d+", stem)
    return f"{m.group(1)}_{m.group(2)}" if m else stem


def truth_path_for(signal: Path) -> Path | None:
    """The reference file that belongs to ``signal`` by the dataset's naming, if it exists."""
    signal = Path(signal)
    stem = signal.stem
    names = [f"{stem}_BPMtrace.mat"]
    if stem.startswith("DATA_S"):
        names.append("BPM_" + stem[len("DATA_") :] + ".mat")
    if stem.startswith("TEST_"):
        names.append("True_" + stem[len("TEST_") :] + ".mat")
    for name in names:
        if (signal.parent / name).is_file():
            return signal.parent / name
    return None


def find_spc_recordings(root: Path | None = None) -> tuple[SPCFile, ...]:
    """Every SPC 2015 recording under ``<root>/ieee_spc2015`` (any depth): ``DATA_*.mat`` and ``TEST_*.mat``
    files (reference files excluded), each with its reference file when present, sorted by path.

    Raises:
        DataError: the folder does not exist.
    """
    folder = (root or data_root()) / FOLDER
    if not folder.is_dir():
        raise DataError(f"ieee_spc2015: folder {folder} does not exist (data root {folder.parent} + {FOLDER}/)")
    found = [
        p for pattern in ("DATA_*.mat", "TEST_*.mat") for p in folder.rglob(pattern) if not p.stem.endswith("_BPMtrace")
    ]
    return tuple(SPCFile(p, truth_path_for(p)) for p in sorted(set(found)))


def _loadmat(path: Path, what: str) -> dict[str, object]:
    from scipy.io import loadmat

    if not path.is_file():
        raise DataError(f"{what} file {path} does not exist")
    try:
        doc = loadmat(str(path))
    except Exception as exc:  # scipy raises several types for non-MATLAB files
        raise DataError(f"{path}: cannot read as a MATLAB .mat file ({exc})") from exc
    return {k: v for k, v in doc.items() if not k.startswith("__")}


def read_spc_signal(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """The ``sig`` matrix of an SPC 2015 file (rows, samples) and its row names, the layout told by the
    row count.

    Raises:
        DataError: no ``sig`` variable, not a 2-D numeric matrix, or a row count other than 5 or 6 (naming the
            file, the row count and the two valid layouts).
    """
    path = Path(path)
    doc = _loadmat(path, "recording")
    if "sig" not in doc:
        raise DataError(
            f"{path}: no variable 'sig' (the file holds {', '.join(doc) or 'nothing'}); an SPC 2015 recording "
            f"stores its signals in 'sig': {_LAYOUT_TEXT}"
        )
    sig = np.asarray(doc["sig"])
    if sig.ndim != 2 or sig.dtype.kind not in "fiu":
        raise DataError(f"{path}: 'sig' must be a 2-D numeric matrix, got shape {sig.shape} dtype {sig.dtype}")
    if sig.shape[0] not in LAYOUTS:
        raise DataError(f"{path}: 'sig' has {sig.shape[0]} rows (shape {sig.shape}); {_LAYOUT_TEXT}")
    return sig.astype(np.float64), LAYOUTS[sig.shape[0]]


def read_spc_truth(path: Path) -> np.ndarray:
    """``BPM0`` of a reference file as a 1-D float array.

    Raises:
        DataError: no ``BPM0`` variable or not a vector.
    """
    path = Path(path)
    doc = _loadmat(path, "reference")
    if "BPM0" not in doc:
        raise DataError(
            f"{path}: no variable 'BPM0' (the file holds {', '.join(doc) or 'nothing'}); a reference file "
            "stores the heart rate per 8 s window in 'BPM0'"
        )
    bpm = np.asarray(doc["BPM0"])
    if bpm.dtype.kind not in "fiu" or bpm.ndim > 2 or (bpm.ndim == 2 and min(bpm.shape) != 1):
        raise DataError(f"{path}: 'BPM0' must be a numeric vector (L, 1), got shape {bpm.shape}")
    return bpm.astype(np.float64).reshape(-1)


def read_spc_recording(
    path: Path, truth: Path | None = None, subject_id: str | None = None, dataset: str = FOLDER
) -> HRRecording:
    """Read one SPC 2015 recording of either layout, with its reference when ``truth`` is given.

    Args:
        path: the ``.mat`` file holding ``sig``.
        truth: the ``.mat`` file holding ``BPM0`` (None: no reference; see :func:`truth_path_for`).
        subject_id: the subject (default: from the file name, :func:`subject_of`).
        dataset: the dataset name stored in the recording.

    Raises:
        DataError: unreadable file, wrong layout, NaN/inf in a row (naming the row), a recording shorter than
            8 s, or a ``BPM0`` whose length is not ``floor((N - 1000) / 250) + 1``.
    """
    path = Path(path)
    sig, rows = read_spc_signal(path)
    src = str(path)
    for i, name in enumerate(rows):  # name the row of the file, not only the sensor
        bad = ~np.isfinite(sig[i])
        if bad.any():
            raise DataError(
                f"{src}: row {i} of 'sig' ({name}) holds {int(bad.sum())} NaN/inf value(s) "
                f"(first at sample {int(np.argmax(bad))})"
            )
    row = {name: sig[i] for i, name in enumerate(rows)}
    bpm = read_spc_truth(Path(truth)) if truth is not None else None
    return HRRecording(
        subject_id=subject_id or subject_of(path.stem),
        recording_id=path.stem,
        ppg=np.stack([row["ppg1"], row["ppg2"]], axis=1),
        ppg_fs_hz=SPC_FS_HZ,
        acc=np.stack([row["acc_x"], row["acc_y"], row["acc_z"]], axis=1),
        acc_fs_hz=SPC_FS_HZ,
        bpm=bpm,
        ecg=row.get("ecg"),
        ecg_fs_hz=SPC_FS_HZ if "ecg" in row else None,
        source=src + (f" (reference {truth})" if truth is not None else ""),
        dataset=dataset,
    )
