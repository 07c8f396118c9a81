"""Compressing a regression network: fine-tuned with the task-aware fit(), quality loss in the target's unit."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.compress import CompressionConfig
from biowear.compress.points import best_within_loss, quality_loss
from biowear.compress.search import CompressionSpace, search
from biowear.compress.sweep import sweep
from biowear.data import SplitConfig, make_split
from biowear.data.array_prepare import from_arrays
from biowear.data.sines import sine_windows
from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import EcgCnnSpec
from biowear.search.objective import Objective, constant_predictor_error
from biowear.train import TrainConfig, build_model, fit
from biowear.train.metrics import RegressionMetrics
from biowear.train.target import target_scale


@pytest.fixture(scope="module")
def regression():
    d = sine_windows(n_windows=360, window_samples=128, seed=2)
    data = from_arrays(
        d["x"], d["y"].astype(np.float32), 64.0, groups=d["groups"], target="frequency", unit="Hz", synthetic=True
    )
    split = make_split(data, SplitConfig(seed=0))
    task = Task.regression("frequency", "Hz")
    model = build_model(
        EcgCnnSpec(blocks=2, filters=8, kernel=5, dense=16),
        task,
        (1, 128),
        seed=0,
        target=target_scale(data.y[split.train]),
    )
    fit(
        model,
        data.x[split.train],
        data.y[split.train],
        data.x[split.val],
        data.y[split.val],
        TrainConfig(epochs=4, batch_size=32),
    )
    return model, data, split


def test_quality_loss_is_how_much_worse():
    assert quality_loss(0.90, 0.88, "accuracy") == (pytest.approx(2.0), "pp")
    assert quality_loss(1.5, 1.75, "mae", "BPM") == (0.25, "BPM")  # more error: positive loss
    assert quality_loss(1.5, 1.25, "rmse") == (-0.25, "units")
    assert quality_loss(0.8, 0.7, "pearson_r") == (pytest.approx(0.1), "r")


def test_regression_sweep_reports_mae_loss_in_the_target_unit(regression, tmp_path):
    model, data, split = regression
    config = CompressionConfig(
        methods=("global",), sparsities=(0.9,), bits=(1, 4), finetune_epochs=1, structured=(0.5,)
    )
    points = sweep(model, data, split, TrainConfig(epochs=1, batch_size=32), config, directory=tmp_path)
    assert [p.label() for p in points] == [
        "original",
        "kmeans q=1",
        "kmeans q=4",
        "original+finetune",
        "structured s=0.5",
        "structured+kmeans s=0.5 q=1",
        "structured+kmeans s=0.5 q=4",
        "prune-global s=0.9",
        "prune-global+kmeans s=0.9 q=1",
        "prune-global+kmeans s=0.9 q=4",
    ]
    original, control = points[0], points[3]
    assert isinstance(original.metrics, RegressionMetrics) and original.loss_unit == "Hz"
    reference = min(original.quality, control.quality)  # the better of the original and the control arm
    for p in points:
        assert p.quality == pytest.approx(p.metrics.mae)
        assert p.quality_loss == pytest.approx(p.quality - reference)  # new - reference, in Hz
    assert min(original.quality_loss, control.quality_loss) == 0.0
    assert points[1].quality_loss > points[2].quality_loss  # 1-bit weights lose more than 4-bit ones
    chosen = best_within_loss(points, 1e9)  # any loss allowed: the most compressed variant, never the control arm
    assert chosen.compression == max(p.compression for p in points) and chosen.method != "original+finetune"
    again = sweep(model, data, split, TrainConfig(epochs=1, batch_size=32), config, directory=tmp_path)
    assert [(p.quality, p.loss_unit) for p in again] == [(p.quality, p.loss_unit) for p in points]


def test_regression_search_scores_error_normalised_like_storage(regression):
    model, data, split = regression
    seen: dict[str, float] = {}
    with pytest.raises(ConfigError, match="objective scores 'accuracy' but the compression settings name 'rmse'"):
        search(
            model,
            data,
            split,
            TrainConfig(epochs=1),
            CompressionConfig(metric="rmse"),
            None,
            "exhaustive",
            Objective(mode="weighted"),
        )
    points = search(
        model,
        data,
        split,
        TrainConfig(epochs=1),
        CompressionConfig(metric="rmse", finetune_epochs=0),
        CompressionSpace(("layer",), (0.0, 0.8), (1, 4)),
        "exhaustive",
        progress=lambda label, resumed: seen.setdefault(label, 0.0),
    )
    assert {p.label() for p in points} == {
        "original",
        "kmeans q=1",
        "kmeans q=4",
        "prune-layer+kmeans s=0.8 q=1",
        "prune-layer+kmeans s=0.8 q=4",
    }
    assert all(p.quality == pytest.approx(p.metrics.rmse) for p in points)
    with pytest.raises(Exception, match="valid options are: mae, rmse"):
        sweep(model, data, split, TrainConfig(epochs=1), CompressionConfig(metric="accuracy", methods=()))


def test_lower_is_better_fitness_prefers_the_smaller_error(regression, monkeypatch):
    """The weighted objective ranks a smaller error higher: Q = max(0, 1 - error / reference), the reference being
    the constant predictor's error on the test split, as in the architecture exploration."""
    import biowear.compress.search as cs

    told: list[dict] = []
    real = cs.optimize

    def spy(strategy, evaluate, canonical):
        def recording(asked):
            out = evaluate(asked)
            told.append(out)
            return out

        return real(strategy, recording, canonical)

    monkeypatch.setattr(cs, "optimize", spy)
    model, data, split = regression
    points = search(
        model,
        data,
        split,
        TrainConfig(epochs=1),
        CompressionConfig(finetune_epochs=0),
        CompressionSpace(("layer",), (0.0,), (1, 8)),
        "exhaustive",
        Objective("mae", alpha=1.0, beta=0.0),
    )
    by_bits = {p.bits: p for p in points[1:]}
    fitness = {g.bits: f[0] for g, f in told[0].items()}
    reference = constant_predictor_error("mae", data.y[split.train], data.y[split.test])
    assert points[0].quality < reference  # the trained network beats predicting the mean
    for q in (1, 8):
        assert fitness[q] == pytest.approx(max(0.0, 1 - by_bits[q].quality / reference))
    assert (fitness[8] > fitness[1]) == (by_bits[8].quality < by_bits[1].quality)
