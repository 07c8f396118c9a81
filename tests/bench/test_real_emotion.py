"""EmotionClass on WESAD (quick settings) and its calibration contract: a subject's normalisation comes only
from the start of its baseline, before its first scored window."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from biowear.bench.apps.emotion import INFO_REAL, EmotionClass
from biowear.bench.apps.emotion_data import CALIBRATION_S, wesad_windows
from biowear.bench.realdata import evaluate_split
from tests.data.recordings_helpers import require_recordings

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def wesad():
    return require_recordings("wesad")


@pytest.fixture(scope="module")
def emotion(wesad):
    app = EmotionClass()
    return app, app.real_windows(None, None, True)


def test_emotion_loso_over_15_subjects_beats_the_majority_class(emotion):
    app, data = emotion
    assert app.info is INFO_REAL and len(data.subjects) == 15
    w = data.windows[0]
    assert {k: v.shape for k, v in w.signals.items()} == {"ppg": (1, 640), "gsr": (1, 40), "temp": (1, 40)}
    assert set(data.meta["condition"]) == {"baseline", "stress", "amusement"}  # meditation not scored
    score = evaluate_split(app, data, "loso", seed=0, quick=True)
    assert app.k == round(np.sqrt(685)) == 26
    assert score.pooled["accuracy"] > score.chance["majority_of_test"] + 0.08
    assert score.pooled["macro_f1"] > 0.7
    assert len(score.per_subject) == 15 and all(len(f["test_groups"]) == 1 for f in score.folds)


def test_scored_windows_start_after_the_calibration_segment(emotion):
    _, data = emotion
    assert np.all(data.meta["start_s"] >= data.meta["calibration_end_s"])


@dataclass(frozen=True)
class _OneRecording:
    """A dataset stand-in that yields one given recording."""

    recording: object
    name: str = "wesad"
    label_source: str = "test"

    def recordings(self):
        yield self.recording


def test_calibration_uses_no_sample_after_the_first_scored_window(wesad):
    ds = replace(wesad, signals=("bvp", "eda", "temp"))
    rec = ds.load_recording("S2")
    base = next(iv for iv in rec.intervals if iv.label == "baseline")
    end = base.start_s + CALIBRATION_S
    changed = {}
    for name, sig in rec.signals.items():  # scale every sample from the first scored window on
        data = sig.data.copy()
        data[sig.times_s() >= end] *= 50.0
        changed[name] = replace(sig, data=data)
    before = wesad_windows(_OneRecording(rec))
    after = wesad_windows(_OneRecording(rec.with_signals(changed)))
    assert len(before) == len(after)
    np.testing.assert_array_equal(
        before.windows[0].annotations["calibration"], after.windows[0].annotations["calibration"]
    )
    assert not np.allclose(before.windows[0].signals["gsr"], after.windows[0].signals["gsr"])
    # ... while scaling a calibration sample does change the statistics
    early = {}
    for name, sig in rec.signals.items():
        data = sig.data.copy()
        data[(sig.times_s() >= base.start_s) & (sig.times_s() < end)] *= 2.0
        early[name] = replace(sig, data=data)
    moved = wesad_windows(_OneRecording(rec.with_signals(early)))
    assert not np.allclose(before.windows[0].annotations["calibration"], moved.windows[0].annotations["calibration"])
