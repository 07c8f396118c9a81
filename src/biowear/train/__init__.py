"""The one fit()/evaluate() loop, metrics per task, run artifacts and the end-to-end training run."""

from __future__ import annotations

from biowear.train.artifacts import SavedModel, build_model, check_matches, load_model, save_model
from biowear.train.fit import (
    Callback,
    EpochLog,
    FitResult,
    NullCallback,
    TrainConfig,
    evaluate,
    fit,
    predict,
    predict_outputs,
    predict_proba,
)
from biowear.train.metrics import Metrics, RegressionMetrics, compute_metrics, compute_regression_metrics
from biowear.train.run import TrainRun, train_network
from biowear.train.target import ScaledOutput

__all__ = [
    "Callback",
    "EpochLog",
    "FitResult",
    "Metrics",
    "NullCallback",
    "RegressionMetrics",
    "SavedModel",
    "ScaledOutput",
    "TrainConfig",
    "TrainRun",
    "build_model",
    "check_matches",
    "compute_metrics",
    "compute_regression_metrics",
    "evaluate",
    "fit",
    "load_model",
    "predict",
    "predict_outputs",
    "predict_proba",
    "save_model",
    "train_network",
]
