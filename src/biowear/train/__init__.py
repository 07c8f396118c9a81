"""The one fit()/evaluate() loop, metrics and the end-to-end training run."""

from __future__ import annotations

from biowear.train.fit import Callback, EpochLog, FitResult, NullCallback, TrainConfig, evaluate, fit, predict_proba
from biowear.train.metrics import Metrics, compute_metrics
from biowear.train.run import TrainRun, train_network

__all__ = [
    "Callback",
    "EpochLog",
    "FitResult",
    "Metrics",
    "NullCallback",
    "TrainConfig",
    "TrainRun",
    "compute_metrics",
    "evaluate",
    "fit",
    "predict_proba",
    "train_network",
]
