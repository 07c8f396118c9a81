"""CognWorkMon's checks behind its real-data diagnosis: features that do not depend on the input unit, and on eegmat a
blink remover that leaves the signal, finite varying features and overlapping task windows."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.bench.apps.workload import BATCH_S, BATCHES, FS_HZ, CognWorkMon
from biowear.bench.inputs import eeg_workload_recordings
from biowear.signal.artifacts import remove_blinks
from tests.data.recordings_helpers import require_recordings

# per channel: skewness, kurtosis, activity, mobility, complexity, 5 log band powers, spectral entropy
_SHAPE = [0, 1, 3, 4, 10]
_ACTIVITY = 2
_LOG_BANDS = slice(5, 10)


def test_features_do_not_depend_on_the_input_unit():
    """The same EEG in mV instead of uV: the shape features stay, activity scales by 1e-6 and each log band power
    moves by log(1e-6). Blink removal (relative threshold) flags the same samples at both scales."""
    (x,), _ = eeg_workload_recordings(1, 4, FS_HZ, BATCHES, BATCH_S, seed=3)
    app = CognWorkMon()
    f_uv = app.features(x, fixed=False)[0].reshape(4, 11)
    f_mv = app.features(x * 1e-3, fixed=False)[0].reshape(4, 11)
    np.testing.assert_allclose(f_mv[:, _SHAPE], f_uv[:, _SHAPE], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(f_mv[:, _ACTIVITY], f_uv[:, _ACTIVITY] * 1e-6, rtol=1e-6)
    np.testing.assert_allclose(f_mv[:, _LOG_BANDS] - f_uv[:, _LOG_BANDS], np.log(1e-6), atol=1e-6)
    seg = x[:, : int(BATCH_S * FS_HZ)]
    assert not np.allclose(remove_blinks(seg, FS_HZ), seg)  # the generated batch holds a blink
    np.testing.assert_allclose(remove_blinks(seg * 1e-3, FS_HZ), remove_blinks(seg, FS_HZ) * 1e-3, rtol=1e-9)


@pytest.mark.realdata
def test_eegmat_windows_keep_their_signal_and_give_finite_varying_features():
    require_recordings("eegmat")
    app = CognWorkMon()
    data = app.real_windows(None, None, quick=True)
    n = int(BATCH_S * FS_HZ)
    feats, kept = [], []
    for w in data.windows:
        x = w.signals["eeg"]
        assert x.shape == (4, n * BATCHES) and w.fs_hz["eeg"] == FS_HZ
        assert 2.0 < float(np.std(x)) < 100.0  # uV-scale EEG, as the generated input
        batches = [x[:, b * n : (b + 1) * n] for b in range(BATCHES)]
        kept.append(np.mean([np.sum(remove_blinks(s, FS_HZ) ** 2) / np.sum(s**2) for s in batches]))
        feats.append(app.features(x, fixed=False)[0])
    assert min(kept) > 0.95  # the blink remover leaves ICA-cleaned EEG almost untouched
    f = np.stack(feats)
    assert np.isfinite(f).all() and (f.std(axis=0) > 0).all()
    starts, record = data.meta["start_s"], data.meta["record"]
    for subject in data.subjects:  # the task windows of a subject overlap by at least 50 s
        task = (data.groups == subject) & (data.labels == 1)
        assert len(set(record[task])) == 1 and np.ptp(starts[task]) <= 56.0 - 50.0
    assert any(note.startswith("independence:") for note in data.notes)
