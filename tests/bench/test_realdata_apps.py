"""SeizureDetSVM on szdb and CognWorkMon on eegmat (quick real runs), ``bench --data-dir`` on copied subsets
under new names, and bad input as one error with exit status 2."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from biowear.bench.apps.seizure_svm import SeizureDetSVM, seizure_event_scores
from biowear.bench.runner import run_suite
from tests.conftest import cli_exit_code
from tests.data.recordings_helpers import require_recordings, write_edf


def test_seizure_event_scores_by_hand():
    # one record, 6 windows of 60 s; a seizure over windows 2-3, found at window 3; two alarm runs
    pred = np.array([1, 1, 0, 1, 0, 1])
    labels = np.array([0, 0, 1, 1, 0, 0])
    sz = np.array(["", "", "r@150s", "r@150s", "", ""])
    onset = np.array([np.nan, np.nan, 150.0, 150.0, np.nan, np.nan])
    rec, starts = np.array(["r"] * 6), np.arange(6) * 60.0
    s = seizure_event_scores(pred, labels, rec, starts, sz, onset, 60.0)
    assert s["seizures"] == 1 and s["seizure_sensitivity"] == 1.0 and s["latency_s"] == 240 - 150
    assert s["false_alarms"] == 2 and s["false_alarms_per_h"] == pytest.approx(2 / (4 / 60))


@pytest.mark.realdata
def test_seizure_svm_on_szdb_beats_chance_and_agrees_in_fixed_point():
    require_recordings("szdb")
    flt, fx = run_suite(["SeizureDetSVM"], fixed=True, platforms=("apollo3",), quick=True)
    assert not flt.synthetic and flt.dataset == "szdb" and flt.split == "lopo"
    assert flt.subjects == ["sz01", "sz02-04", "sz05", "sz07"]  # sz02/03/06 have no waveform
    assert [f["test_groups"] for f in flt.folds] == [[s] for s in flt.subjects]
    assert set(flt.per_subject) == set(flt.subjects) and flt.chance["balanced_accuracy"] == 0.5
    assert flt.pooled["seizures"] == 4 and flt.pooled["seizure_sensitivity"] >= 0.75
    assert flt.pooled["balanced_accuracy"] > 0.65 > flt.baselines["majority"]["pooled"]["balanced_accuracy"]
    assert flt.pooled["false_alarms_per_h"] < 5
    assert any("not used: sz02, sz03, sz06" in n for n in flt.notes)
    assert fx.fixed_vs_float["decision_agreement"] >= 0.95 and fx.fixed_vs_float["windows"] == flt.n_windows
    assert flt.platforms[0].dominant_kernel == "lomb_scargle"  # by operation counts (seed 001: PLOMB)
    doc = flt.to_dict()
    assert doc["synthetic"] is False and "per_subject" in doc and doc["n_windows"] == flt.n_windows
    json.dumps(doc, default=float)


@pytest.mark.realdata
def test_cognworkmon_on_eegmat_windows_and_split():
    require_recordings("eegmat")
    (res,) = run_suite(["CognWorkMon"], platforms=("apollo3",), quick=True)
    assert not res.synthetic and res.dataset == "eegmat" and res.split == "loso"
    assert res.subjects == ["Subject02", "Subject03", "Subject04", "Subject05"]
    assert res.n_windows == 24 and res.chance["majority_of_test"] == 0.5  # 3 rest + 3 task per subject
    assert all(v["n"] == 6 for v in res.per_subject.values())
    assert 0.0 <= res.pooled["balanced_accuracy"] <= 1.0 and "sklearn" in res.baselines
    assert {"preprocessing", "feature_extraction", "inference"} <= set(res.phases)


def _copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


@pytest.mark.realdata
def test_data_dir_on_copied_subsets_under_new_names(tmp_path):
    src = require_recordings("szdb").directory()
    times = []
    for old, new, line in (("sz01", "ann", "00:14:36 00:16:12"), ("sz07", "bea", "01:08:02 01:09:31")):
        for ext in ("hea", "dat", "ari"):
            _copy(src / f"{old}.{ext}", tmp_path / "ecg" / f"{new}.{ext}")
        hea = tmp_path / "ecg" / f"{new}.hea"
        hea.write_bytes(hea.read_bytes().replace(old.encode(), new.encode()))
        times.append(f"{new} {line}")
    (tmp_path / "ecg" / "times.seize").write_text("\n".join(times) + "\n")
    (res,) = run_suite(["SeizureDetSVM"], platforms=(), data_dir=tmp_path / "ecg", quick=True)
    assert res.subjects == ["ann", "bea"] and res.pooled["seizures"] == 2 and str(tmp_path) in res.data_source

    eeg = require_recordings("eegmat").directory()
    for subject, new in (("Subject03", "anna"), ("Subject05", "ben")):
        for cond in ("1", "2"):
            _copy(eeg / f"{subject}_{cond}.edf", tmp_path / "eeg" / f"{new}_{cond}.edf")
    out = tmp_path / "out" / "bench.json"
    assert (
        cli_exit_code(["bench", "CognWorkMon", "--data-dir", str(tmp_path / "eeg"), "--quick", "--json", str(out)]) == 0
    )
    (doc,) = json.loads(out.read_text())
    assert (
        doc["synthetic"] is False and doc["subjects"] == ["anna", "ben"] and set(doc["per_subject"]) == {"anna", "ben"}
    )


def test_bad_input_is_one_error_exit_2(tmp_path, capsys):
    cases = [
        (["bench", "SeizureDetSVM", "--data-dir", str(tmp_path / "missing")], "does not exist"),
        (["bench", "SeizureDetSVM", "--dataset", "wesad"], "valid datasets for it are: szdb"),
        (["bench", "HeartBeatClass", "--data-dir", str(tmp_path)], "reads no recording folder"),
        (["bench", "SeizureDetSVM", "CognWorkMon", "--data-dir", str(tmp_path)], "one application's folder"),
        (["bench", "CognWorkMon", "--synthetic", "--data-dir", str(tmp_path)], "cannot be combined"),
    ]
    for argv, expected in cases:
        assert cli_exit_code(argv) == 2, argv
        assert expected in capsys.readouterr().out, argv
    # a wrong sampling rate in the user's EDF pair
    for cond in ("1", "2"):
        write_edf(tmp_path / "eeg" / f"zoe_{cond}.edf", fs=250.0, duration_s=60)
    assert cli_exit_code(["bench", "CognWorkMon", "--data-dir", str(tmp_path / "eeg"), "--quick"]) == 2
    assert "sampled at 250 Hz but dataset 'eegmat' expects 500 Hz" in capsys.readouterr().out
    # a missing lead: the written EDF has Fp1, Fp2, T3, T4 but not T5/T6
    for cond in ("1", "2"):
        write_edf(tmp_path / "eeg5" / f"zoe_{cond}.edf", fs=500.0, duration_s=60)
    assert cli_exit_code(["bench", "CognWorkMon", "--data-dir", str(tmp_path / "eeg5"), "--quick"]) == 2
    assert "no channel(s) T5, T6" in capsys.readouterr().out
    # a truncated EDF
    path = tmp_path / "eeg5" / "zoe_1.edf"
    path.write_bytes(path.read_bytes()[:-1000])
    assert cli_exit_code(["bench", "CognWorkMon", "--data-dir", str(tmp_path / "eeg5"), "--quick"]) == 2
    assert "truncated EDF file" in capsys.readouterr().out


def test_synthetic_flag_keeps_generated_input():
    (res,) = run_suite(["SeizureDetSVM"], platforms=(), quick=True, synthetic=True)
    assert res.synthetic and res.dataset is None and "synthetic" in res.data_source
    assert SeizureDetSVM().synthetic  # until scored on real data
