"""One training run end to end: prepared data -> split -> network -> fit -> test metrics + cost."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from biowear.cost import CostReport, profile
from biowear.data.prepare import PreparedDataset
from biowear.data.splits import Split
from biowear.data.task import Task
from biowear.models import ModelSpec, spec_to_dict
from biowear.train.artifacts import build_model, save_model, write_json
from biowear.train.fit import Callback, FitResult, TrainConfig, evaluate, fit
from biowear.train.metrics import Metrics, RegressionMetrics
from biowear.train.target import target_scale


@dataclass(frozen=True)
class TrainRun:
    """Everything one run produced (serialisable with :meth:`to_dict`)."""

    arch: ModelSpec
    task: Task
    synthetic: bool
    n_train: int
    n_val: int
    n_test: int
    fit: FitResult
    metrics: Metrics | RegressionMetrics
    cost: CostReport
    train_config: TrainConfig
    data_key: str

    @property
    def genes(self) -> ModelSpec:
        """The architecture (the name of the exploration's points)."""
        return self.arch

    @property
    def classes(self) -> tuple[str, ...]:
        return self.task.classes

    def to_dict(self) -> dict[str, object]:
        return {
            "architecture": self.arch.label(),
            "genes": spec_to_dict(self.arch),
            "task": self.task.to_dict(),
            "classes": list(self.task.classes),
            "synthetic_data": self.synthetic,
            "samples": {"train": self.n_train, "val": self.n_val, "test": self.n_test},
            "fit": self.fit.to_dict(),
            "metrics": self.metrics.to_dict(),
            "cost": {
                "params": self.cost.params,
                "storage_bytes_fp32": self.cost.storage_bytes(32),
                "macs": self.cost.macs,
                "flops": self.cost.flops,
                "peak_activation_bytes_fp32": self.cost.peak_activation_bytes(32),
            },
            "train_config": asdict(self.train_config),
            "data_key": self.data_key,
            "host": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            },
        }


def train_network(
    data: PreparedDataset,
    split: Split,
    genes: ModelSpec,
    config: TrainConfig,
    callbacks: tuple[Callback, ...] = (),
    out_dir: Path | None = None,
    recipe: dict[str, Any] | None = None,
    curves: bool = False,
    state: Path | None = None,
) -> TrainRun:
    """Build ``genes`` (any model family's architecture) for ``data``'s task and train on ``split.train``.

    Early stopping uses ``split.val`` and the metrics come from ``split.test``. A regression network learns
    standardised targets (training-split mean and std, kept inside the network). With ``out_dir`` the run saves
    ``model.pt`` (:func:`biowear.train.artifacts.save_model`, with ``recipe``: the data configuration) and
    ``run.json``. With ``curves`` every epoch's log also holds the test metrics of that epoch's weights (learning
    curves; they never steer training). ``state`` is a resumable training state file (see :func:`fit`): an
    existing one is continued to ``config.epochs``, and the state after the run is written there.
    """
    task = data.task
    shape = (int(data.x.shape[1]), int(data.x.shape[2]))
    y_train = data.y[split.train]
    scale = target_scale(y_train) if task.is_regression else None
    model = build_model(genes, task, shape, seed=config.seed, target=scale)
    x_test, y_test = data.x[split.test], data.y[split.test]
    monitor = (lambda m: evaluate(m, x_test, y_test, task).to_dict()) if curves else None
    result = fit(
        model,
        data.x[split.train],
        y_train,
        data.x[split.val],
        data.y[split.val],
        config,
        callbacks,
        task=task,
        monitor=monitor,
        state=state,
    )
    metrics = evaluate(model, x_test, y_test, task)
    cost = profile(model.cpu(), shape)
    run = TrainRun(
        genes,
        task,
        data.synthetic,
        len(split.train),
        len(split.val),
        len(split.test),
        result,
        metrics,
        cost,
        config,
        data.key,
    )
    if out_dir is not None:
        save_model(
            Path(out_dir) / "model.pt",
            model,
            genes,
            task,
            shape,
            fs_hz=data.fs_hz,
            recipe=recipe,
            data_key=data.key,
            synthetic=data.synthetic,
        )
        write_json(Path(out_dir) / "run.json", run.to_dict())
    return run
