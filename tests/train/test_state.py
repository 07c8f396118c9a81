"""Resumable training states: a continued run equals an uninterrupted one; mismatches are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.train.fit import TrainConfig, fit


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 1, 64)).astype(np.float32)
    y = (x[:, 0, :10].mean(1) > 0).astype(np.int64)
    return x[:180], y[:180], x[180:], y[180:]


def _fit(epochs, state=None, monitor=None, **kw):
    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)
    cfg = TrainConfig(epochs=epochs, batch_size=32, device="cpu", **{"patience": 0, **kw})
    return model, fit(model, *_data(), cfg, state=state, monitor=monitor)


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


@pytest.mark.parametrize("patience", [0, 1])
def test_continued_run_equals_uninterrupted(tmp_path, patience):
    whole_model, whole = _fit(4, patience=patience)
    state = tmp_path / "state.pt"
    _fit(1, state, patience=patience)
    _fit(2, state, patience=patience)
    model, cont = _fit(4, state, patience=patience)
    assert [h.val_loss for h in cont.history] == [h.val_loss for h in whole.history]
    assert cont.best_epoch == whole.best_epoch and cont.stopped_early == whole.stopped_early
    assert cont.samples_seen == whole.samples_seen
    assert _same(model, whole_model)


def test_monitor_records_but_does_not_steer(tmp_path):
    plain_model, plain = _fit(2)
    seen = []
    model, res = _fit(2, monitor=lambda m: seen.append(m.training) or {"calls": len(seen)})
    assert _same(model, plain_model)
    assert [h.monitored for h in res.history] == [{"calls": 1}, {"calls": 2}]
    assert seen == [False, False]  # called in evaluation mode


def test_state_of_other_settings_or_network_refused(tmp_path):
    state = tmp_path / "state.pt"
    _fit(1, state)
    with pytest.raises(ConfigError, match="lr differ"):
        _fit(2, state, lr=1e-2)
    with pytest.raises(ConfigError, match="more than the"):
        _fit_short(state)
    other = build(ResNetLSTMGenes(0, 1, 5), 1, 2, seed=0)
    with pytest.raises(ConfigError, match="another network"):
        fit(other, *_data(), TrainConfig(epochs=2, batch_size=32, patience=0, device="cpu"), state=state)
    state.write_bytes(b"not a state")
    with pytest.raises(ConfigError, match="not a readable training state"):
        _fit(2, state)


def _fit_short(state):
    _fit(2, state)  # now 2 epochs are stored
    return _fit(1, state)
