"""The scikit-learn-style Network estimator over registered families."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.data.sines import sine_windows
from biowear.errors import ConfigError, DataError
from biowear.estimator import Network
from biowear.train import TrainConfig, load_model


def test_regression_fit_predict_save(tmp_path):
    d = sine_windows(n_windows=400, window_samples=128, seed=2)
    net = Network("ecg_cnn", "blocks=2,filters=8,kernel=5,dense=16", TrainConfig(epochs=5, batch_size=32), unit="Hz")
    assert not hasattr(net, "model_")  # __init__ only stores
    assert net.fit(d["x"][:320], d["y"][:320], fs_hz=64.0) is net
    scores = net.score(d["x"][320:], d["y"][320:])
    constant = float(np.mean(np.abs(d["y"][320:] - d["y"][:320].mean())))
    assert scores["mae"] < 0.7 * constant and net.task_.unit == "Hz"
    saved = load_model(net.save(tmp_path / "model.pt"))
    assert np.allclose(saved.predict(d["x"][320:]), net.predict(d["x"][320:]))


def test_string_labels_round_trip():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 1, 64)).astype(np.float32)
    y = np.where(x[:, 0, :8].mean(axis=1) > 0, "up", "down")
    x[y == "up", 0, :] += 1.0
    net = Network("ecg_cnn", "blocks=1,filters=4,kernel=3,dense=8", TrainConfig(epochs=3, batch_size=16)).fit(x, y)
    assert net.classes_ == ("down", "up")
    assert set(net.predict(x)) <= {"down", "up"} and net.predict_proba(x).shape == (120, 2)
    assert net.score(x, y)["accuracy"] > 0.8
    with pytest.raises(DataError, match="not a class seen in fit"):
        net.score(x[:2], np.array(["up", "sideways"]))


def test_errors():
    with pytest.raises(ConfigError, match="not fitted"):
        Network().predict(np.zeros((1, 1, 8)))
    with pytest.raises(DataError, match="at least two classes"):
        Network("ecg_cnn").fit(np.zeros((10, 1, 64)), np.zeros(10, dtype=int))
    with pytest.raises(DataError, match=r"\(windows, channels, samples\)"):
        Network().fit(np.zeros((10, 64)), np.zeros(10))
    with pytest.raises(ConfigError, match="unknown model family"):
        Network("nope").fit(np.zeros((10, 1, 64)), np.arange(10) % 2)
