"""PPG-DaLiA and WESAD loaders on small pickles written in exactly the real layout, the ECG-derived WESAD
reference, and the restricted unpickler refusing code."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace

import numpy as np
import pytest

from biowear.data import DATASETS, DataConfig, prepare
from biowear.data.hr import (
    HRWindowConfig,
    bpm_per_window,
    load_data_pickle,
    read_dalia_pickle,
    read_wesad_pickle,
    recording_windows,
)
from biowear.errors import DataError
from biowear.testing import check_dataset
from tests.data.hr_helpers import dalia_doc, wesad_doc, write_pickle


def _peak_bpm(x: np.ndarray, fs_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x - x.mean(), n=8 * len(x)))
    return 60.0 * float(np.fft.rfftfreq(8 * len(x), 1 / fs_hz)[np.argmax(spectrum)])


def test_dalia_pickle_windows_and_labels(tmp_path):
    path = write_pickle(tmp_path / "PPG_FieldStudy" / "S1" / "S1.pkl", dalia_doc("S1", duration_s=60.0, hr_bpm=90.0))
    rec = read_dalia_pickle(path)
    assert rec.subject_id == "S1" and rec.ppg_fs_hz == 64.0 and rec.acc_fs_hz == 32.0
    assert rec.n_windows == 27 and np.all(rec.bpm == 90.0)
    windows = recording_windows(rec)
    assert windows.shape == (27, 4, 256) and windows.dtype == np.float32
    assert all(abs(_peak_bpm(w[0], 32.0) - 90.0) < 2 for w in windows)  # the PPG row pulses at the label's rate
    assert np.allclose(windows[:, 3].mean(), 1.0, atol=0.05)  # acc z in g (64 codes = 1 g)
    acc = dalia_doc("S1")["signal"]["wrist"]["ACC"] / 64.0
    assert np.allclose(windows[3, 1:], acc[3 * 64 : 3 * 64 + 256].T, atol=1e-5)  # 32 Hz acc: no resampling


def test_dalia_dataset_folder_prepare_and_contract(tmp_path):
    for i, hr in ((1, 80.0), (2, 110.0)):
        write_pickle(tmp_path / "ppg_dalia" / f"S{i}" / f"S{i}.pkl", dalia_doc(f"S{i}", 40.0, hr, seed=i))
    ds = replace(DATASETS.get("ppg_dalia"), root=tmp_path, subjects=("S1", "S2"))
    assert ds.available()
    check_dataset(ds)
    arrays = ds.load_arrays()
    assert arrays.x.shape == (2 * 17, 4, 256) and sorted(set(arrays.groups)) == ["S1", "S2"]
    assert arrays.task.is_regression and arrays.task.unit == "BPM" and arrays.fs_hz == 32.0
    assert set(arrays.y[arrays.groups == "S2"]) == {110.0}
    fp = ds.fingerprint()
    write_pickle(tmp_path / "ppg_dalia" / "S2" / "S2.pkl", dalia_doc("S2", 40.0, 111.0, seed=2))
    assert ds.fingerprint() != fp  # content-based


def test_dalia_label_count_mismatch(tmp_path):
    doc = dalia_doc("S3", 30.0)
    doc["label"] = doc["label"][:-2]
    path = write_pickle(tmp_path / "S3.pkl", doc)
    with pytest.raises(DataError, match=r"S3.pkl: the reference holds 10 window\(s\) but the signal gives 12"):
        read_dalia_pickle(path)


def test_dalia_missing_key_and_nan(tmp_path):
    doc = dalia_doc("S4", 30.0)
    del doc["signal"]["wrist"]["ACC"]
    with pytest.raises(DataError, match=r"data\['signal'\]\['wrist'\] has no key 'ACC' \(it holds 'BVP'\)"):
        read_dalia_pickle(write_pickle(tmp_path / "a.pkl", doc))
    doc = dalia_doc("S4", 30.0)
    doc["signal"]["wrist"]["BVP"][100, 0] = np.nan
    with pytest.raises(DataError, match=r"b.pkl: PPG channel 1 holds 1 NaN/inf value\(s\) \(first at sample 100\)"):
        read_dalia_pickle(write_pickle(tmp_path / "b.pkl", doc))
    with pytest.raises(DataError, match="7.00 s long; one 8 s window"):
        read_dalia_pickle(write_pickle(tmp_path / "c.pkl", dalia_doc("S4", 7.0) | {"label": np.zeros(0)}))


def test_wesad_reference_from_chest_ecg(tmp_path):
    """Beats at 60 BPM for 50 s, then 100 BPM until 100 s, then no ECG beats until 120 s."""
    beats = np.concatenate([np.arange(0.3, 50, 1.0), np.arange(50.3, 100, 0.6)])
    path = write_pickle(tmp_path / "wesad" / "S2" / "S2.pkl", wesad_doc("S2", beats, 120.0))
    rec = read_wesad_pickle(path)
    assert rec.n_windows == 57 and rec.ecg_fs_hz == 700.0 and rec.subject_id == "S2"
    starts = np.arange(57) * 2.0
    slow, fast, silent = starts + 8 <= 50, (starts >= 50.5) & (starts + 8 <= 100), starts >= 99.5
    assert np.all(np.abs(rec.bpm[slow] - 60) < 1) and np.all(np.abs(rec.bpm[fast] - 100) < 1.5)
    assert not rec.bpm_valid[silent].any() and np.all(np.isnan(rec.bpm[silent]))  # flagged, not guessed
    ds = replace(DATASETS.get("wesad_hr"), root=tmp_path, subjects=("S2",))
    arrays = ds.load_arrays(fs_hz=64.0)
    assert arrays.x.shape == (int(rec.bpm_valid.sum()), 4, 512) and np.all(np.isfinite(arrays.y))
    assert abs(_peak_bpm(arrays.x[0, 0], 64.0) - 75.0) < 2


def test_wesad_prepared_through_dataconfig(tmp_path, monkeypatch):
    beats = np.arange(0.2, 30, 0.75)  # 80 BPM
    subjects = DATASETS.get("wesad_hr").record_ids()
    assert len(subjects) == 15 and "S12" not in subjects and "S1" not in subjects
    for s in subjects:
        write_pickle(tmp_path / "wesad" / s / f"{s}.pkl", wesad_doc(s, beats, 30.0))
    monkeypatch.setenv("BIOWEAR_DATA", str(tmp_path))
    data = prepare(DataConfig(datasets=("wesad_hr",), filter="none", normalize="none", records=("S2", "S17")))
    assert data.record_keys == ("wesad_hr/S17", "wesad_hr/S2") and data.x.shape == (2 * 12, 4, 256)
    assert np.all(np.abs(data.y - 80.0) < 1.0)


def test_bpm_rule_drops_sparse_and_implausible_windows():
    bpm, valid = bpm_per_window(np.array([0.5, 1.5, 9.0, 10.0, 10.1]), n_windows=4)
    # [0, 8): one RR of 1 s -> 60; [2, 10): a single beat -> flagged; [4, 12) and [6, 14): RRs 1.0 and 0.1 s
    assert bpm[0] == 60.0 and valid[0] and not valid[1] and np.isnan(bpm[1])
    assert np.allclose(bpm[2:], 60 / 0.55) and valid[2:].all()
    bpm, valid = bpm_per_window(np.arange(0, 8, 0.2), n_windows=1)  # 300 BPM: implausible
    assert not valid[0] and np.isnan(bpm[0])
    bpm, valid = bpm_per_window(np.arange(0, 8, 2.5), n_windows=1)  # 24 BPM: implausible
    assert not valid[0]


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "S1.pkl"
    path.write_bytes(pickle.dumps({"signal": _Exploit(marker)}, protocol=2))
    with pytest.raises(DataError, match=r"S1.pkl: the pickle calls (posix|os|nt)\.system, which biowear refuses"):
        read_dalia_pickle(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps(eval, protocol=2))
    with pytest.raises(DataError, match=r"calls (__builtin__|builtins)\.eval"):
        load_data_pickle(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="cannot read as a pickle"):
        load_data_pickle(path)


def test_numpy2_paths_and_numpy_scalars_are_allowed(tmp_path):
    doc = {"a": np.arange(3.0), "b": np.float64(2.5), "c": [np.int64(3), (1, "x")], "d": {1, 2}}
    got = load_data_pickle(write_pickle(tmp_path / "n2.pkl", doc, numpy1_paths=False))
    assert np.array_equal(got["a"], doc["a"]) and got["b"] == 2.5 and got["c"] == [3, (1, "x")]
    got = load_data_pickle(write_pickle(tmp_path / "n1.pkl", doc, numpy1_paths=True))
    assert np.array_equal(got["a"], doc["a"])


def test_missing_pickles_say_where_and_what(tmp_path):
    (tmp_path / "ppg_dalia" / "S3").mkdir(parents=True)
    (tmp_path / "ppg_dalia" / "S3" / "S3_E4.zip").write_bytes(b"")
    ds = replace(DATASETS.get("ppg_dalia"), root=tmp_path)
    assert not ds.available()
    with pytest.raises(DataError) as exc:
        ds.load_arrays()
    text = str(exc.value)
    assert f"{tmp_path}/ppg_dalia lacks the files of subject(s) S1, S2" in text
    assert "PPG_FieldStudy/SX/SX.pkl, SX/SX.pkl or SX.pkl" in text and "the folder holds: S3/" in text
    with pytest.raises(DataError, match=rf"folder {tmp_path}/wesad does not exist.*SX/SX.pkl"):
        replace(DATASETS.get("wesad_hr"), root=tmp_path).load_recordings()


def test_window_config_channels_for_one_ppg_channel(tmp_path):
    rec = read_dalia_pickle(write_pickle(tmp_path / "S5.pkl", dalia_doc("S5", 20.0)))
    both = recording_windows(rec, HRWindowConfig(channels=("ppg", "ppg1")))
    assert np.array_equal(both[:, 0], both[:, 1])  # the mean of one channel is that channel
