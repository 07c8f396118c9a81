"""Small files in the real formats (E4, EDF, WAV, UCI EMG, WFDB + times.seize), written by the tests, and the
real-data gate for the recording datasets."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from biowear.data.recordings import RECORDINGS


def require_recordings(name: str):
    """The registered recording dataset ``name``; skip when its folder is absent (fail in CI, where
    BIOWEAR_REQUIRE_REAL_DATA=1)."""
    ds = RECORDINGS.get(name)
    if not ds.available():
        msg = (
            f"real recording dataset {name!r} not found at {ds.directory()} "
            f"(BIOWEAR_DATA={os.environ.get('BIOWEAR_DATA', '<unset>')})"
        )
        if os.environ.get("BIOWEAR_REQUIRE_REAL_DATA") == "1":
            pytest.fail(msg + " but BIOWEAR_REQUIRE_REAL_DATA=1")
        pytest.skip(msg)
    return ds


# ------------------------------------------------------------------------------------------------ E4
E4_RATES = {"ACC": 32.0, "BVP": 64.0, "EDA": 4.0, "TEMP": 4.0}


def e4_csv(stem: str, data: np.ndarray, start: float = 1_500_000_000.0, fs: float | None = None) -> str:
    """The text of one rate-headed E4 CSV."""
    fs = E4_RATES[stem] if fs is None else fs
    cols = data.shape[1]
    lines = [", ".join([f"{start:.6f}"] * cols), ", ".join([f"{fs:.6f}"] * cols)]
    lines += [",".join(f"{v:g}" for v in row) for row in data]
    return "\n".join(lines) + "\n"


def e4_files(duration_s: float = 60.0, seed: int = 0) -> dict[str, str]:
    """File name -> text of a seeded E4 export of ``duration_s``."""
    rng = np.random.default_rng(seed)
    out = {}
    for stem, fs in E4_RATES.items():
        n = int(duration_s * fs)
        cols = 3 if stem == "ACC" else 1
        data = np.round(rng.normal(0, 20, (n, cols))) if stem == "ACC" else np.round(rng.normal(1, 0.1, (n, cols)), 3)
        out[f"{stem}.csv"] = e4_csv(stem, data)
    out["IBI.csv"] = "1500000000.000000, IBI\n1.5,0.8\n2.3,0.8\n"
    out["tags.csv"] = "1500000030.5\n"
    return out


def write_e4_folder(folder: Path, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or e4_files()).items():
        (folder / name).write_text(text)
    return folder


def write_e4_zip(path: Path, files: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (files or e4_files()).items():
            z.writestr(name, text)
    return path


WESAD_TABLE = (
    "# derived\nsubject,condition,label,e4_start_s,e4_end_s,duration_s,pkl_wrist_t0_s\n"
    "SA,baseline,1,5.0,25.0,20.0,0\nSA,stress,2,30.0,50.0,20.0,0\n"
)
#: quest rows matching WESAD_TABLE: Base 0:00-0:40 and TSST 0:40-1:20 give 40 - 20 = 20 s each.
WESAD_QUEST = "# Subj;SA;;\r\n# ORDER;Base;TSST;sRead\r\n# START;0;0.40;1.5\r\n# END;0.40;1.20;2\r\n"


def write_wesad(folder: Path, subject: str = "SA", table: str = WESAD_TABLE, quest: str = WESAD_QUEST) -> Path:
    """A one-subject WESAD-layout folder (E4 folder, quest file, interval table)."""
    write_e4_folder(folder / subject / f"{subject}_E4_Data")
    (folder / subject / f"{subject}_quest.csv").write_text(quest)
    (folder / "derived").mkdir(parents=True, exist_ok=True)
    (folder / "derived" / "e4_condition_intervals.csv").write_text(table)
    return folder


# ------------------------------------------------------------------------------------------------ EDF
EDF_LABELS = ("EEG Fp1", "EEG Fp2", "EEG T3", "EEG T4", "EEG A2-A1", "ECG ECG")


def write_edf(path: Path, fs: float = 500.0, duration_s: int = 4, labels=EDF_LABELS, seed: int = 0) -> Path:
    """A seeded EDF+ file with ``labels`` at ``fs`` (values in µV / mV)."""
    import pyedflib

    rng = np.random.default_rng(seed)
    n = int(fs * duration_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = pyedflib.EdfWriter(str(path), len(labels), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        headers = []
        for label in labels:
            headers.append(
                {
                    "label": label,
                    "dimension": "mV" if label.startswith("ECG") else "uV",
                    "sample_frequency": fs,
                    "physical_max": 500.0,
                    "physical_min": -500.0,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }
            )
        writer.setSignalHeaders(headers)
        writer.writeSamples([rng.normal(0, 20, n) for _ in labels])
    finally:
        writer.close()
    return path


# ------------------------------------------------------------------------------------------------ WAV
def write_wav(path: Path, fs: int = 48000, duration_s: float = 0.5, seed: int = 0) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(seed).normal(0, 0.1, int(fs * duration_s))
    sf.write(str(path), x, fs, subtype="PCM_16")
    return path


# ------------------------------------------------------------------------------------------------ UCI EMG
UCI_HEADER = "time\t" + "\t".join(f"channel{i}" for i in range(1, 9)) + "\tclass"


def uci_rows(n_samples: int = 200, hold: int = 9, seed: int = 0) -> tuple[str, np.ndarray]:
    """A sample-and-hold UCI log: ``n_samples`` distinct 8-channel code vectors, each repeated ``hold`` times at
    1 ms per row (true rate ``1000 / hold`` Hz); classes 1 then 2 by halves. Returns (text, codes)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(-100, 100, (n_samples, 8))
    classes = np.where(np.arange(n_samples) < n_samples // 2, 1, 2)
    lines = [UCI_HEADER]
    t = 1
    for row, c in zip(codes, classes):
        for _ in range(hold):
            lines.append("\t".join([str(t), *(f"{v * 1e-5:g}" for v in row), str(c)]))
            t += 1
    return "\n".join(lines) + "\n", codes


# ------------------------------------------------------------------------------------------------ WFDB
def write_szdb(folder: Path, records=("rec_a",), duration_s: float = 120.0, seizures=None, dat: bool = True) -> Path:
    """WFDB records at 200 Hz with ``ari`` beats every 0.8 s and a times.seize file."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    fs = 200
    n = int(duration_s * fs)
    for i, rec in enumerate(records):
        x = np.random.default_rng(i).normal(0, 0.2, (n, 1))
        wfdb.wrsamp(rec, fs=fs, units=["mV"], sig_name=["ECG"], p_signal=x, fmt=["16"], write_dir=str(folder))
        beats = np.arange(100, n - 1, int(0.8 * fs))
        wfdb.wrann(rec, "ari", beats, symbol=["N"] * len(beats), write_dir=str(folder))
        if not dat:
            (folder / f"{rec}.dat").unlink()
    lines = seizures if seizures is not None else [f"{records[0]} 00:00:30 00:01:00"]
    (folder / "times.seize").write_text("\n".join(lines) + "\n")
    return folder
