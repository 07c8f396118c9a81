"""IEEE SPC 2015 heart-rate data: window alignment with BPM0 on the real recordings, both file layouts, the
prepared dataset, and clear errors for bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.io import savemat
from scipy.signal import resample_poly

from biowear.data import DATASETS, DataConfig, SplitConfig, make_split, prepare
from biowear.data.hr import (
    HRRecording,
    HRWindowConfig,
    ecg_reference_bpm,
    find_spc_recordings,
    read_spc_recording,
    recording_windows,
    recordings_to_arrays,
    truth_path_for,
)
from biowear.data.hr.spc2015 import TRAINING_FILES, read_spc_signal
from biowear.errors import ConfigError, DataError
from tests.conftest import require_dataset

ALL_ROWS = HRWindowConfig(channels=("ppg", "ppg1", "ppg2", "acc_x", "acc_y", "acc_z"))
EDGE = 12  # model samples at each end of a window where resampling one 8 s segment alone sees its zero padding


@pytest.fixture(scope="module")
def spc_folder():
    return require_dataset("ieee_spc2015")


@pytest.fixture(scope="module")
def spc_recordings(spc_folder):
    return [read_spc_recording(spc_folder / s, spc_folder / t) for s, t in TRAINING_FILES]


@pytest.mark.realdata
def test_window_count_equals_bpm0_for_all_13(spc_folder, spc_recordings):
    counts = {}
    for (signal, _), rec in zip(TRAINING_FILES, spc_recordings):
        n = read_spc_signal(spc_folder / signal)[0].shape[1]
        assert rec.n_windows == len(rec.bpm) == (n - 1000) // 250 + 1
        assert recording_windows(rec).shape == (len(rec.bpm), 4, 256)
        counts[rec.recording_id] = rec.n_windows
    assert len(counts) == 13 and counts["DATA_01_TYPE01"] == 148 and counts["DATA_S04_T01"] == 107
    assert sum(counts.values()) == 1875
    assert len({r.subject_id for r in spc_recordings}) == 13


@pytest.mark.realdata
@pytest.mark.parametrize("which", ["first", "last"])
def test_window_is_the_resampled_bpm0_segment(spc_folder, spc_recordings, which):
    """Window k at 32 Hz is the raw segment [250k, 250k + 1000) resampled alone (away from its ends, where the
    lone segment sees zero padding), and not the segment one shift earlier or later."""
    for (signal, _), rec in zip(TRAINING_FILES, spc_recordings):
        sig = read_spc_signal(spc_folder / signal)[0]
        windows = recording_windows(rec, ALL_ROWS)
        k = 0 if which == "first" else rec.n_windows - 1
        raw = sig[1:, 250 * k : 250 * k + 1000]  # ppg1, ppg2, acc x/y/z
        expected = resample_poly(raw, 32, 125, axis=1)
        assert expected.shape == (5, 256)
        got = windows[k, 1:]
        scale = raw.std(axis=1, keepdims=True)
        inner = slice(EDGE, 256 - EDGE)
        assert np.all(np.abs(got - expected)[:, inner] < 1e-3 * scale), rec.recording_id
        assert np.allclose(windows[k, 0], windows[k, 1:3].mean(axis=0), atol=1e-4)  # ppg = mean of ppg1, ppg2
        neighbour = k + 1 if k == 0 else k - 1
        other = resample_poly(sig[1:, 250 * neighbour : 250 * neighbour + 1000], 32, 125, axis=1)
        assert np.abs(got - other)[:2, inner].max() > 0.5 * scale[:2].min()


@pytest.mark.realdata
def test_competition_test_layout_gives_the_same_windows(spc_folder, tmp_path):
    signal, truth = TRAINING_FILES[0]
    sig = read_spc_signal(spc_folder / signal)[0]
    bpm = read_spc_recording(spc_folder / signal, spc_folder / truth).bpm
    savemat(tmp_path / "TEST_S01_T01.mat", {"sig": sig[1:]})
    savemat(tmp_path / "True_S01_T01.mat", {"BPM0": bpm[:, None]})
    assert truth_path_for(tmp_path / "TEST_S01_T01.mat") == tmp_path / "True_S01_T01.mat"
    test = read_spc_recording(tmp_path / "TEST_S01_T01.mat", tmp_path / "True_S01_T01.mat")
    train = read_spc_recording(spc_folder / signal, spc_folder / truth)
    assert test.ecg is None and train.ecg is not None and test.subject_id == "TEST_S01"
    assert np.array_equal(test.bpm, train.bpm)
    assert np.array_equal(recording_windows(test), recording_windows(train))
    no_truth = read_spc_recording(tmp_path / "TEST_S01_T01.mat")  # prediction input: windows without reference
    assert no_truth.bpm is None and recording_windows(no_truth).shape == (148, 4, 256)


@pytest.mark.realdata
def test_find_recordings_lists_the_13_with_their_truth(spc_folder):
    found = find_spc_recordings(spc_folder.parent)
    assert len(found) == 13 and all(f.truth is not None and f.truth.is_file() for f in found)
    assert {f.signal.name for f in found} == {s.split("/")[-1] for s, _ in TRAINING_FILES}


@pytest.mark.realdata
def test_ecg_reference_rule_reproduces_bpm0(spc_recordings):
    """The WESAD reference rule (Pan-Tompkins R-peaks, 60 / median RR per window) on the SPC chest ECG."""
    for rec in spc_recordings:
        bpm, valid = ecg_reference_bpm(rec.ecg, rec.ecg_fs_hz, rec.n_windows)
        err = np.abs(bpm[valid] - rec.bpm[valid])
        assert valid.mean() > 0.95 and np.median(err) < 1.5 and np.mean(err < 5) > 0.95, rec.recording_id


@pytest.mark.realdata
def test_prepared_dataset_has_13_subject_groups_for_loso(spc_folder):
    cfg = DataConfig(datasets=("ieee_spc2015",), filter="none", normalize="none")
    data = prepare(cfg)
    assert data.task.is_regression and data.task.target == "heart rate" and data.task.unit == "BPM"
    assert data.x.shape == (1875, 4, 256) and data.x.dtype == np.float32 and data.fs_hz == 32.0
    assert len(set(data.record_groups)) == 13 and len(data.record_keys) == 13
    rest = tuple(k.split("/")[1] for k in data.record_keys if k != "ieee_spc2015/DATA_01")
    split = make_split(data, SplitConfig(kind="records", train_records=rest, test_records=("DATA_01",)))
    assert len(split.test) == 148 and set(data.record_index[split.test]) == {0}
    assert not set(data.record_index[split.test]) & set(data.record_index[np.concatenate([split.train, split.val])])
    one = prepare(replace(cfg, channels=("ppg2", "acc_z"), fs_hz=25.0, records=("DATA_02",)))
    assert one.x.shape == (148, 2, 200) and one.record_keys == ("ieee_spc2015/DATA_02",)
    assert prepare(cfg).key == data.key  # content-based key, served from the cache the second time


@pytest.mark.realdata
def test_registered_dataset_arrays_match_the_recordings(spc_recordings):
    arrays = DATASETS.get("ieee_spc2015").load_arrays()
    direct = recordings_to_arrays(spc_recordings)
    assert np.array_equal(arrays.x, direct.x) and np.array_equal(arrays.y, direct.y)
    assert arrays.channels == ("ppg", "acc_x", "acc_y", "acc_z") and arrays.fs_hz == 32.0
    assert sorted(set(arrays.groups)) == sorted(DATASETS.get("ieee_spc2015").record_ids())


# ------------------------------------------------------------------------------------------------ bad input
def _mat(tmp_path, name, rows=6, n=2000, **extra):
    rng = np.random.default_rng(0)
    sig = rng.normal(size=(rows, n))
    path = tmp_path / name
    savemat(path, {"sig": sig, **extra})
    return path, sig


def test_four_row_mat_is_refused_naming_the_layouts(tmp_path):
    path, _ = _mat(tmp_path, "DATA_99_TYPE01.mat", rows=4)
    with pytest.raises(DataError, match="has 4 rows") as exc:
        read_spc_recording(path)
    assert str(path) in str(exc.value) and "6 rows (training" in str(exc.value)
    assert "5 rows (competition test" in str(exc.value)


def test_missing_sig_is_refused(tmp_path):
    savemat(tmp_path / "x.mat", {"signal": np.zeros((6, 2000))})
    with pytest.raises(DataError, match=r"no variable 'sig' \(the file holds signal\).*6 rows"):
        read_spc_recording(tmp_path / "x.mat")


def test_nan_in_a_row_names_the_file_and_row(tmp_path):
    rng = np.random.default_rng(1)
    sig = rng.normal(size=(6, 2000))
    sig[2, 700] = np.nan
    savemat(tmp_path / "DATA_98_TYPE02.mat", {"sig": sig})
    with pytest.raises(DataError, match=r"DATA_98_TYPE02.mat: row 2 of 'sig' \(ppg2\) holds 1 NaN.*sample 700"):
        read_spc_recording(tmp_path / "DATA_98_TYPE02.mat")
    sig[2, 700], sig[4, 5] = 0.0, np.inf  # 5-row test layout: row 4 is acc z
    savemat(tmp_path / "TEST_S09_T01.mat", {"sig": sig[1:]})
    with pytest.raises(DataError, match=r"row 3 of 'sig' \(acc_y\)"):
        read_spc_recording(tmp_path / "TEST_S09_T01.mat")


def test_recording_shorter_than_one_window(tmp_path):
    path, _ = _mat(tmp_path, "DATA_97_TYPE01.mat", n=999)
    with pytest.raises(DataError, match=r"DATA_97_TYPE01.mat.*7.99 s long; one 8 s window needs at least 8 s"):
        read_spc_recording(path)


def test_truth_length_mismatch_states_both_counts_and_the_formula(tmp_path):
    path, _ = _mat(tmp_path, "DATA_96_TYPE01.mat", n=3000)  # floor((3000 - 1000)/250) + 1 = 9 windows
    savemat(tmp_path / "DATA_96_TYPE01_BPMtrace.mat", {"BPM0": np.full((7, 1), 80.0)})
    with pytest.raises(DataError) as exc:
        read_spc_recording(path, truth_path_for(path))
    text = str(exc.value)
    assert "holds 7 window(s) but the signal gives 9" in text and "floor((N - 1000)/250) + 1 with N = 3000" in text
    assert "DATA_96_TYPE01_BPMtrace.mat" in text
    savemat(tmp_path / "bad_truth.mat", {"BPM": np.full((9, 1), 80.0)})
    with pytest.raises(DataError, match="no variable 'BPM0'"):
        read_spc_recording(path, tmp_path / "bad_truth.mat")


def test_recording_validation_across_rates():
    rng = np.random.default_rng(2)
    ppg, acc = rng.normal(size=(64 * 20, 1)), rng.normal(size=(32 * 20, 3))
    rec = HRRecording("S1", "r", ppg, 64.0, acc, 32.0, bpm=np.full(7, 70.0))
    assert rec.n_windows == 7 and recording_windows(rec).shape == (7, 4, 256)
    with pytest.raises(DataError, match=r"holds 6 window\(s\) but the signal gives 7.*N = 1280 samples at 64 Hz"):
        HRRecording("S1", "r", ppg, 64.0, acc, 32.0, bpm=np.full(6, 70.0))
    acc[100, 1] = np.nan
    with pytest.raises(DataError, match="r: accelerometer axis y holds 1 NaN"):
        HRRecording("S1", "r", ppg, 64.0, acc, 32.0)
    with pytest.raises(DataError, match="ppg2 need more PPG channels; the recording has 1"):
        recording_windows(rec, HRWindowConfig.for_ppg("2"))
    with pytest.raises(ConfigError, match="valid options are: mean, 1, 2"):
        HRWindowConfig.for_ppg("3")
    with pytest.raises(ConfigError, match="whole number of samples"):
        HRWindowConfig(fs_hz=30.3)


def test_missing_folder_says_where_and_what(tmp_path):
    ds = replace(DATASETS.get("ieee_spc2015"), root=tmp_path)
    assert not ds.available()
    with pytest.raises(DataError, match=rf"folder {tmp_path}/ieee_spc2015 does not exist.*expected Training_data/"):
        ds.load_arrays()
    (tmp_path / "ieee_spc2015").mkdir()
    with pytest.raises(DataError, match="lacks the files of subject.*DATA_01.*BPMtrace"):
        ds.fingerprint()
