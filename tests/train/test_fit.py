from __future__ import annotations

import numpy as np
import pytest
import torch

from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare
from biowear.errors import ConfigError, DataError
from biowear.models import ResNetLSTMGenes, build
from biowear.train import NullCallback, TrainConfig, fit, train_network


def fit_on(data, split, model, config, callbacks=()):
    return fit(model, data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val], config, callbacks)


@pytest.fixture(scope="module")
def synthetic():
    cfg = DataConfig(
        datasets=("synthetic_ecg",),
        labels="binary",
        records=("syn000", "syn003", "syn006", "syn012"),
        window=WindowConfig(kind="beat", window_samples=128),
        fs_hz=180.0,
    )
    data = prepare(cfg)
    return data, make_split(data, SplitConfig(seed=0))


def test_training_learns_the_synthetic_task(synthetic):
    data, split = synthetic
    run = train_network(data, split, ResNetLSTMGenes(1, 1, 4), TrainConfig(epochs=4, batch_size=64, seed=0))
    majority = np.bincount(data.y[split.test]).max() / len(split.test)
    assert run.metrics.accuracy > majority + 0.1
    assert run.metrics.f1[1] > 0.7
    assert run.fit.samples_per_s > 0 and run.fit.epochs_run >= 1 and run.synthetic


def test_same_seed_same_result(synthetic):
    data, split = synthetic
    cfg = TrainConfig(epochs=1, batch_size=64, seed=3)
    runs = []
    for _ in range(2):
        model = build(ResNetLSTMGenes(0, 1, 4), 1, 2, seed=3)
        res = fit_on(data, split, model, cfg)
        runs.append((res.history[0].train_loss, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_early_stopping_restores_best_epoch(synthetic):
    data, split = synthetic
    events = []

    class Spy(NullCallback):
        def on_epoch_end(self, log):
            events.append(log)

    model = build(ResNetLSTMGenes(0, 1, 4), 1, 2, seed=0)
    # an absurd learning rate makes validation loss stop improving quickly
    res = fit_on(
        data,
        split,
        model,
        TrainConfig(epochs=30, lr=0.5, patience=1, batch_size=64),
        callbacks=(Spy(),),
    )
    assert res.stopped_early and res.epochs_run < 30 and len(events) == res.epochs_run
    best = min(range(len(events)), key=lambda i: events[i].val_loss) + 1
    assert res.best_epoch == best


def test_class_weighting_changes_the_loss(synthetic):
    data, split = synthetic
    losses = []
    for mode in ("none", "balanced"):
        model = build(ResNetLSTMGenes(0, 1, 4), 1, 2, seed=0)
        res = fit_on(
            data,
            split,
            model,
            TrainConfig(epochs=1, class_weighting=mode, batch_size=64),
        )
        losses.append(res.history[0].train_loss)
    assert losses[0] != losses[1]


def test_bad_training_input():
    model = build(ResNetLSTMGenes(0, 1, 4), 1, 2, seed=0)
    x = np.zeros((4, 1, 64), dtype=np.float32)
    x_nan = x.copy()
    x_nan[0, 0, 0] = np.nan
    y = np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match="NaN"):
        fit(model, x_nan, y, x, y, TrainConfig(epochs=1))
    with pytest.raises(DataError, match="no samples"):
        fit(model, x[:0], y[:0], x, y, TrainConfig(epochs=1))
    with pytest.raises(DataError, match="labels"):
        fit(model, x, y[:2], x, y, TrainConfig(epochs=1))


@pytest.mark.parametrize(
    "kwargs",
    [{"epochs": 0}, {"lr": -1.0}, {"class_weighting": "focal"}, {"device": "tpu"}, {"batch_size": 0}, {"patience": -1}],
)
def test_bad_train_config(kwargs):
    with pytest.raises(ConfigError):
        TrainConfig(**kwargs)
