"""GestureClass on emg_gestures (quick settings): windows, the within-subject and leave-one-subject-out splits, and
the refusal of a fold that puts one subject on both sides."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.bench.app import validate_window
from biowear.bench.apps.gesture import INFO_REAL, REAL_CLASSES, GestureClass
from biowear.bench.realdata import evaluate_split
from biowear.bench.realsplit import Fold, Split, check_split
from biowear.errors import ConfigError
from tests.data.recordings_helpers import require_recordings

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def gesture():
    require_recordings("emg_gestures")
    app = GestureClass()
    return app, app.real_windows(None, None, True)


def test_gesture_windows_are_8_channels_at_100_hz_inside_labelled_runs(gesture):
    app, data = gesture
    assert app.info is INFO_REAL and not app.synthetic
    assert data.classes == REAL_CLASSES and set(data.subjects) == {"06", "28", "31"}
    w = data.windows[0]
    assert w.signals["emg"].shape == (8, 20) and w.fs_hz["emg"] == 100.0
    assert set(np.unique(data.meta["series"]).tolist()) == {"1", "2"}
    counts = np.bincount(data.labels, minlength=6)
    assert counts.min() > 0.7 * counts.max()  # six classes, each ~1/6 (unmarked class 0 not scored)
    validate_window(INFO_REAL, w)


def test_gesture_within_subject_trains_on_series_1_and_tests_on_series_2(gesture):
    app, data = gesture
    splits = app.real_splits(data)
    assert list(splits) == ["within_subject", "loso"]
    for fold in splits["within_subject"].folds:
        assert set(data.groups[fold.train]) == set(data.groups[fold.test]) == {fold.name}
        assert set(data.meta["series"][fold.train]) == {"1"} and set(data.meta["series"][fold.test]) == {"2"}
    for split in splits.values():
        check_split(data, split)


def test_gesture_beats_chance_within_subject(gesture):
    app, data = gesture
    score = evaluate_split(app, data, app.real_splits(data)["within_subject"], seed=0, quick=True)
    assert score.n_windows == int(np.sum(data.meta["series"] == "2"))
    assert score.pooled["accuracy"] > 2 * score.chance["majority_of_test"]  # 6 classes: chance ~0.17
    assert set(score.per_subject) == {"06", "28", "31"}


def test_a_subject_on_both_sides_of_a_cross_subject_fold_is_refused(gesture):
    _, data = gesture
    for fold in evaluate_loso_folds(data):
        assert not set(data.groups[fold.train]) & set(data.groups[fold.test])
    leaky = np.flatnonzero(data.groups == "06")
    train = np.r_[np.flatnonzero(data.groups != "06"), leaky[: len(leaky) // 2]]
    with pytest.raises(ConfigError, match="06 on both the training and the test side"):
        check_split(data, Split("leaky", (Fold("06", train, leaky[len(leaky) // 2 :]),)))


def evaluate_loso_folds(data):
    from biowear.bench.realsplit import loso

    return loso(data).folds
