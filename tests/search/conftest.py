"""Fixtures for search tests: a fast fake trainer so strategy/store logic is tested without training."""

from __future__ import annotations

import pytest

from biowear.models import ResNetLSTMGenes
from biowear.search import Evaluation, StudyConfig, study_config_from_dict
from biowear.search.evaluate import EvalTask, cost_dict
from biowear.search.space import ArchitectureSpace

SMALL_STUDY = {
    "study": {"name": "unit"},
    "data": {
        "datasets": ["synthetic_ecg"],
        "labels": "binary",
        "records": ["syn000", "syn003"],
        "fs_hz": 128.0,
        "window": {"kind": "beat", "window_samples": 128},
    },
    "train": {"epochs": 1, "batch_size": 64},
    "space": {"blocks": [0, 5], "x": [1, 2], "lstm_exp": [4, 6]},
    "ga": {"population": 10, "generations": 3},
}


def fake_quality(genes: ResNetLSTMGenes) -> float:
    """A deterministic, non-trivial quality landscape (more capacity helps, with diminishing returns)."""
    return 0.6 + 0.3 * (1 - 1 / (1 + genes.blocks)) + 0.02 * genes.lstm_exp - 0.01 * genes.x


class FakeTrainer:
    """Stands in for training: returns a plausible evaluation and counts calls per network."""

    def __init__(self, space: ArchitectureSpace, fail_after: int | None = None):
        self.space, self.fail_after, self.calls = space, fail_after, []

    def __call__(self, task: EvalTask) -> Evaluation:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt  # a kill while this network is in flight
        self.calls.append(task.arch)
        q = fake_quality(task.arch)
        metrics = {
            "classes": ["normal", "anomaly"],
            "accuracy": q,
            "macro_f1": q - 0.05,
            "f1": [q, q - 0.1],
            "precision": [q, q],
            "recall": [q, q],
        }
        return Evaluation(
            task.arch,
            task.train_key,
            "ok",
            metrics=metrics,
            cost=cost_dict(self.space.cost(task.arch)),
            train_time_s=1.0 + task.arch.blocks,
            epochs=1,
            seed=task.train.seed,
        )


@pytest.fixture
def study_config() -> StudyConfig:
    return study_config_from_dict(SMALL_STUDY)
