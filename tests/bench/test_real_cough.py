"""CoughDet's audio-only variant on coswara (quick settings): leave one participant out, window and clip scores."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.bench.apps.cough import INFO_AUDIO, CoughDet
from biowear.bench.realdata import evaluate_split
from tests.data.recordings_helpers import require_recordings

pytestmark = pytest.mark.realdata


def test_cough_audio_only_on_coswara_beats_chance_per_window_and_per_clip():
    require_recordings("coswara")
    app = CoughDet()
    data = app.real_windows(None, None, True)
    assert app.info is INFO_AUDIO and [s.name for s in app.info.signals] == ["audio"]
    w = data.windows[0]
    assert w.signals["audio"].shape == (1, 4800) and w.fs_hz["audio"] == 16000.0
    assert len(data.subjects) == 6 and np.unique(data.meta["clip"]).size == 30
    score = evaluate_split(app, data, app.real_splits(data)["lopo"], seed=0, quick=True)
    assert [f["test_groups"] for f in score.folds] == [[s] for s in data.subjects]
    assert score.pooled["balanced_accuracy"] > 0.65  # chance 0.5
    assert score.pooled["clips"] == 30 and score.pooled["clip_accuracy"] > 0.75  # majority of clips: 0.6
    assert set(score.per_subject) == set(data.subjects)
    assert all("clip_accuracy" in m for m in score.per_subject.values())
