"""The CHB-MIT path of SeizureDetCNN and Bio-BPfree on small EDF + ``chbXX-summary.txt`` folders the tests
write (pyedflib), through ``bench --data-dir``; bad CHB-MIT input is one error, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from biowear.bench.runner import run_suite
from biowear.data.recordings.chbmit import CHBMITDataset
from tests.conftest import cli_exit_code

LEADS = (
    "FP1-F7 F7-T7 T7-P7 P7-O1 FP1-F3 F3-C3 C3-P3 P3-O1 FP2-F4 F4-C4 C4-P4 P4-O2 FP2-F8 F8-T8 T8-P8 P8-O2 "
    "FZ-CZ CZ-PZ P7-T7 T7-FT9 FT9-FT10 FT10-T8 T8-P8"
).split()


def write_chb_edf(path: Path, seizure_s: tuple[float, float], duration_s: int = 80, fs: int = 256, seed: int = 0):
    """23 bipolar leads of background noise with 4-Hz rhythmic high-amplitude activity during the seizure."""
    import pyedflib

    rng = np.random.default_rng(seed)
    t = np.arange(duration_s * fs) / fs
    ictal = (t >= seizure_s[0]) & (t < seizure_s[1])
    writer = pyedflib.EdfWriter(str(path), len(LEADS), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders(
            [
                {
                    "label": lead,
                    "dimension": "uV",
                    "sample_frequency": fs,
                    "physical_max": 800.0,
                    "physical_min": -800.0,
                    "digital_max": 32767,
                    "digital_min": -32768,
                }
                for lead in LEADS
            ]
        )
        writer.writeSamples(
            [rng.normal(0, 20, t.size) + 150 * ictal * np.sin(2 * np.pi * 4 * t + i) for i in range(len(LEADS))]
        )
    finally:
        writer.close()


def write_chbmit(folder: Path, patients=("chb01", "chb02"), seizure=(20.0, 44.0), fs_stated=256) -> Path:
    for k, p in enumerate(patients):
        sub = folder / p
        sub.mkdir(parents=True)
        write_chb_edf(sub / f"{p}_01.edf", seizure, seed=k)
        (sub / f"{p}-summary.txt").write_text(
            f"Data Sampling Rate: {fs_stated} Hz\n\nFile Name: {p}_01.edf\nFile Start Time: 10:00:00\n"
            f"File End Time: 10:01:20\nNumber of Seizures in File: 1\nSeizure Start Time: {seizure[0]:g} seconds\n"
            f"Seizure End Time: {seizure[1]:g} seconds\n"
        )
    return folder


def test_chbmit_dataset_reads_written_files(tmp_path):
    ds = CHBMITDataset().at(write_chbmit(tmp_path / "chb"))
    assert ds.record_ids() == ("chb01_01", "chb02_01") and ds.subjects() == ("chb01", "chb02")
    rec = ds.load_recording("chb01_01")
    assert rec.signal("eeg").fs_hz == 256.0 and len(rec.signal("eeg").channels) == 23
    assert [(iv.start_s, iv.end_s, iv.label) for iv in rec.intervals] == [(20.0, 44.0, "seizure")]


def test_seizure_cnn_on_a_chbmit_folder(tmp_path):
    folder = write_chbmit(tmp_path / "chb")
    flt, fx = run_suite(["SeizureDetCNN"], fixed=True, platforms=("apollo3",), data_dir=folder, quick=True)
    assert not flt.synthetic and flt.dataset == "chbmit" and flt.split == "lopo"
    assert flt.subjects == ["chb01", "chb02"] and set(flt.per_subject) == {"chb01", "chb02"}
    # every seizure window (6 per 80-s record of 4-s windows overlapping [20, 44) s) and as many others
    assert flt.n_windows == 24 and flt.chance["majority_of_test"] == 0.5
    assert flt.pooled["balanced_accuracy"] > 0.8  # the ictal rhythm is 7x the background
    assert {"majority", "sklearn"} <= set(flt.baselines)
    assert fx.fixed_point and fx.fixed_vs_float["windows"] == 24 and fx.fixed_vs_float["decision_agreement"] >= 0.9
    assert flt.kernels and flt.dominant_phase == "inference"
    json.dumps(flt.to_dict(), default=float)


def test_bpfree_on_a_chbmit_folder(tmp_path):
    folder = write_chbmit(tmp_path / "chb")
    (res,) = run_suite(["Bio-BPfree"], platforms=("apollo3",), data_dir=folder, quick=True)
    assert not res.synthetic and res.dataset == "chbmit" and "device patient chb02" in res.data_source
    assert res.scores["loss_after"] < res.scores["loss_before"]
    assert res.scores["holdout_accuracy_after"] > 0.5


def test_bad_chbmit_input_is_one_error(tmp_path, capsys):
    folder = write_chbmit(tmp_path / "chb", fs_stated=512)
    assert cli_exit_code(["bench", "SeizureDetCNN", "--data-dir", str(folder), "--quick"]) == 2
    assert "states 512 Hz but chb01_01.edf is sampled at 256 Hz" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_exit_code(["bench", "SeizureDetCNN", "--data-dir", str(empty)]) == 2
    assert "no record found" in capsys.readouterr().out
