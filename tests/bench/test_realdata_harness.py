"""The real-data harness on a tiny hand-made dataset: folds by group, per-subject metrics, chance, baselines,
leak refusal; metrics against hand counts; the CHB-MIT summary reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.realdata import LabelledWindows, evaluate_split, resolve_dataset
from biowear.bench.realsplit import Fold, Split, metrics
from biowear.data.recordings.chbmit import read_chbmit_summary
from biowear.errors import ConfigError, DataError

INFO = AppInfo("Toy", (SignalSpec("x", 1, 16.0, 1.0, 16),), "fp32", 1.0, "-", "inference")


class ToyApp(App):
    """Class 1 when the window's mean exceeds a threshold fitted on the training windows."""

    info = INFO

    def __init__(self) -> None:
        super().__init__()
        self.fitted_on: list[set[str]] = []

    def prepare(self, seed=0, data_root=None, quick=False):  # pragma: no cover - not used
        return self

    def static_bytes(self) -> int:
        return 4

    def real_windows(self, folder, dataset, quick):  # pragma: no cover - data built by the test
        raise NotImplementedError

    def fit_windows(self, windows, labels, seed):
        means = np.array([w.signals["x"].mean() for w in windows])
        self.thr_ = 0.5 * (means[labels == 0].mean() + means[labels == 1].mean())
        self.fitted_on.append({w.annotations["group"] for w in windows})
        return self

    def process(self, window, fixed=False):
        return AppOutput(int(window.signals["x"].mean() > self.thr_), {})

    def real_scores(self, data, pred):
        return {"flagged": float(np.sum(pred == 1))}


def toy_data(subjects=("a", "b", "c", "d"), per=10, seed=0) -> LabelledWindows:
    rng = np.random.default_rng(seed)
    windows, labels, groups = [], [], []
    for s in subjects:
        for k in range(per):
            y = k % 2
            x = rng.normal(2.0 * y, 0.5, (1, 16))
            windows.append(Window({"x": x}, {"x": 16.0}, y, {"group": s}))
            labels.append(y)
            groups.append(s)
    return LabelledWindows(windows, np.array(labels), np.array(groups), ("neg", "pos"), "toy", "by hand")


def test_loso_folds_never_mix_groups_and_score_every_subject():
    data = toy_data()
    app = ToyApp()
    score = evaluate_split(app, data, "loso", seed=0, quick=True)
    assert [f["test_groups"] for f in score.folds] == [["a"], ["b"], ["c"], ["d"]]
    assert all(f["n_train"] == 30 and f["n_test"] == 10 for f in score.folds)
    for fold_groups, held in zip(app.fitted_on, "abcd"):  # fit_windows saw the training groups only
        assert held not in fold_groups and len(fold_groups) == 3
    assert set(score.per_subject) == {"a", "b", "c", "d"} and score.n_windows == 40
    assert score.pooled["balanced_accuracy"] > 0.9 and score.pooled["flagged"] == pytest.approx(20, abs=3)
    assert all(v["n"] == 10 and "flagged" in v for v in score.per_subject.values())
    assert score.chance == {"majority_of_test": 0.5, "uniform": 0.5, "balanced_accuracy": 0.5}
    assert score.baselines["majority"]["pooled"]["balanced_accuracy"] == 0.5
    assert score.baselines["sklearn"]["pooled"]["balanced_accuracy"] > 0.9  # the mean is among its features
    assert set(score.baselines["sklearn"]["per_subject"]) == {"a", "b", "c", "d"}
    doc = score.to_dict()
    assert doc["synthetic"] is False and doc["split"] == "loso" and len(doc["predictions"]) == 40


def test_a_leaking_fold_is_refused_and_within_group_folds_are_declared():
    data = toy_data(("a", "b"), per=6)
    idx = np.arange(12)
    leak = Split("bad", (Fold("a", idx[2:], idx[:2]),))  # a's windows on both sides
    with pytest.raises(ConfigError, match="group\\(s\\) a on both the training and the test side"):
        evaluate_split(ToyApp(), data, leak)
    within = Split("within", (Fold("a", idx[2:], idx[:2], within_group=True),))
    assert evaluate_split(ToyApp(), data, within).n_windows == 2
    overlap = Split("dup", (Fold("a", idx[1:], idx[:2], within_group=True),))
    with pytest.raises(ConfigError, match="both sides"):
        evaluate_split(ToyApp(), data, overlap)
    with pytest.raises(ConfigError, match="valid options are: loso, lopo"):
        evaluate_split(ToyApp(), data, "kfold")


def test_labelled_windows_checks_lengths_and_labels():
    data = toy_data(("a",), per=4)
    with pytest.raises(ConfigError, match="4 windows but 3 labels"):
        LabelledWindows(data.windows, data.labels[:3], data.groups, data.classes, "toy", "x")
    with pytest.raises(ConfigError, match="labels must index"):
        LabelledWindows(data.windows, data.labels + 2, data.groups, data.classes, "toy", "x")
    assert data.subset(np.array([1, 3])).labels.tolist() == [1, 1]


def test_metrics_match_hand_counts():
    y = np.array([0, 0, 0, 1, 1, 2])
    p = np.array([0, 1, 0, 1, 0, 2])
    m = metrics(y, p, 3)
    assert m["confusion"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    f1 = [2 * 2 / (4 + 1 + 1), 2 * 1 / (2 + 1 + 1), 1.0]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))
    # one subject's windows of one class: balanced accuracy is that class's recall
    assert metrics(np.array([1, 1]), np.array([1, 0]), 2)["balanced_accuracy"] == 0.5


def test_resolve_dataset_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="valid datasets for it are: szdb"):
        resolve_dataset("SeizureDetSVM", "eegmat")
    with pytest.raises(ConfigError, match="no real-data path"):
        resolve_dataset("HeartBeatClass")
    assert resolve_dataset("CognWorkMon", None, Path("/x")).directory() == Path("/x")


SUMMARY = """Data Sampling Rate: 256 Hz
*************************

Channels in EDF Files:
**********************
Channel 1: FP1-F7

File Name: chb01_01.edf
File Start Time: 11:42:54
File End Time: 12:42:54
Number of Seizures in File: 0

File Name: chb01_03.edf
File Start Time: 13:43:04
File End Time: 14:43:04
Number of Seizures in File: 2
Seizure 1 Start Time: 2996 seconds
Seizure 1 End Time: 3036 seconds
Seizure Start Time: 3100 seconds
Seizure End Time: 3110 seconds
"""


def test_chbmit_summary_reader(tmp_path):
    path = tmp_path / "chb01-summary.txt"
    path.write_text(SUMMARY)
    summary = read_chbmit_summary(path)
    assert summary.fs_hz == 256.0 and list(summary.files) == ["chb01_01.edf", "chb01_03.edf"]
    assert summary.files["chb01_01.edf"].seizures == ()
    assert summary.files["chb01_03.edf"].seizures == ((2996.0, 3036.0), (3100.0, 3110.0))
    path.write_text(SUMMARY.replace("Number of Seizures in File: 2", "Number of Seizures in File: 3"))
    with pytest.raises(DataError, match="declares 3 seizure\\(s\\) but lists 2"):
        read_chbmit_summary(path)
    path.write_text(SUMMARY.replace("3110 seconds", "3000 seconds"))
    with pytest.raises(DataError, match="not after its start"):
        read_chbmit_summary(path)
    path.write_text(SUMMARY.replace("3110 seconds", "soon"))
    with pytest.raises(DataError, match="cannot read seizure time"):
        read_chbmit_summary(path)
    path.write_text("nothing here\n")
    with pytest.raises(DataError, match="not a CHB-MIT summary"):
        read_chbmit_summary(path)
