"""Regression through the one fit() loop: L1/MSE loss, early stopping on the validation loss, MAE metrics."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.data.sines import sine_windows
from biowear.data.task import Task
from biowear.errors import ConfigError, DataError
from biowear.models import EcgCnnSpec
from biowear.train import TrainConfig, build_model, evaluate, fit, predict
from biowear.train.metrics import compute_regression_metrics, lower_is_better, metric_value
from biowear.train.target import target_scale

ARCH = EcgCnnSpec(blocks=2, filters=8, kernel=5, dense=16)


@pytest.fixture(scope="module")
def sines():
    d = sine_windows(n_windows=480, window_samples=128, seed=1)
    x, y = d["x"], d["y"]
    return (x[:320], y[:320]), (x[320:400], y[320:400]), (x[400:], y[400:])


def _train(sines, loss="l1", epochs=6):
    (xt, yt), (xv, yv), _ = sines
    task = Task.regression("frequency", "Hz")
    model = build_model(ARCH, task, (1, 128), seed=0, target=target_scale(yt))
    result = fit(model, xt, yt, xv, yv, TrainConfig(epochs=epochs, batch_size=32, regression_loss=loss), task=task)
    return model, result, task


def test_regression_beats_the_constant_predictor(sines):
    model, result, task = _train(sines)
    _, _, (xs, ys) = sines
    metrics = evaluate(model, xs, ys, task)
    constant = np.mean(np.abs(ys - sines[0][1].mean()))
    assert metrics.mae < 0.6 * constant
    assert metrics.rmse >= metrics.mae and metrics.pearson_r > 0.6 and 0 <= metrics.within_5 <= 1
    assert all(np.isfinite(e.val_mae) and np.isnan(e.val_accuracy) for e in result.history)
    assert "val MAE" in result.history[0].summary()
    pred = predict(model, xs, task)
    assert pred.shape == (len(xs),) and pred.dtype == np.float32


def test_regression_seeded_and_mse_differs(sines):
    a, ra, _ = _train(sines, epochs=2)
    b, rb, _ = _train(sines, epochs=2)
    c, rc, _ = _train(sines, loss="mse", epochs=2)
    assert [e.train_loss for e in ra.history] == [e.train_loss for e in rb.history]
    assert [e.train_loss for e in ra.history] != [e.train_loss for e in rc.history]


def test_task_inferred_from_float_targets(sines):
    (xt, yt), (xv, yv), _ = sines
    model = build_model(ARCH, Task.regression(), (1, 128), seed=0, target=target_scale(yt))
    result = fit(model, xt, yt, xv, yv, TrainConfig(epochs=1, batch_size=64))
    assert np.isfinite(result.history[0].val_mae)


def test_regression_metrics_by_hand():
    m = compute_regression_metrics(np.array([1.0, 2.0, 3.0, 10.0]), np.array([1.0, 3.0, 3.0, 3.0]))
    assert m.mae == pytest.approx(2.0) and m.rmse == pytest.approx(np.sqrt(50 / 4))
    assert m.within_5 == pytest.approx(0.75) and m.n == 4
    d = m.to_dict()
    assert metric_value(d, "mae") == pytest.approx(2.0) and lower_is_better("mae") and not lower_is_better("pearson_r")
    with pytest.raises(ConfigError, match="valid options are: mae, rmse"):
        metric_value(d, "accuracy")


def test_bad_targets_are_refused(sines):
    (xt, yt), (xv, yv), _ = sines
    task = Task.regression()
    model = build_model(ARCH, task, (1, 128), seed=0)
    bad = yt.copy()
    bad[3] = np.nan
    with pytest.raises(DataError, match="targets contain NaN"):
        fit(model, xt, bad, xv, yv, TrainConfig(epochs=1), task=task)
    with pytest.raises(DataError, match="labels must be integers"):
        fit(model, xt, yt, xv, yv, TrainConfig(epochs=1), task=Task.classification(("a", "b")))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "TrainConfig.epochs must be an integer >= 1"),
        ({"lr": float("nan")}, "TrainConfig.lr must be a finite number > 0"),
        ({"epochs": 2.5}, "epochs must be an integer"),
        ({"regression_loss": "huber"}, "one of l1, mse"),
        ({"device": "tpu"}, "one of auto, cpu, cuda"),
    ],
)
def test_train_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs)
