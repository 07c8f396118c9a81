"""One training run end to end: prepared data -> split -> network -> fit -> test metrics + cost."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from biowear.cost import CostReport, profile
from biowear.data.prepare import PreparedDataset
from biowear.data.splits import Split
from biowear.models import ModelSpec, build_spec, spec_to_dict
from biowear.train.fit import Callback, FitResult, TrainConfig, evaluate, fit
from biowear.train.metrics import Metrics


@dataclass(frozen=True)
class TrainRun:
    """Everything one run produced (serialisable with :meth:`to_dict`)."""

    genes: ModelSpec
    classes: tuple[str, ...]
    synthetic: bool
    n_train: int
    n_val: int
    n_test: int
    fit: FitResult
    metrics: Metrics
    cost: CostReport
    train_config: TrainConfig
    data_key: str

    def to_dict(self) -> dict[str, object]:
        return {
            "architecture": self.genes.label(),
            "genes": spec_to_dict(self.genes),
            "classes": list(self.classes),
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
) -> TrainRun:
    """Build ``genes`` (any model family's spec) for ``data`` and train on ``split.train``.

    Early stopping uses ``split.val`` and the metrics come from ``split.test``; with ``out_dir`` the run saves
    ``model.pt`` (weights + architecture spec) and ``run.json``.
    """
    in_channels, length = data.x.shape[1], data.x.shape[2]
    model = build_spec(genes, in_channels, len(data.classes), length, seed=config.seed)
    result = fit(
        model, data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val], config, callbacks
    )
    metrics = evaluate(model, data.x[split.test], data.y[split.test], data.classes)
    cost = profile(model.cpu(), (in_channels, length))
    run = TrainRun(
        genes,
        data.classes,
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
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "spec": spec_to_dict(genes),
                "in_channels": in_channels,
                "n_classes": len(data.classes),
                "classes": list(data.classes),
                "input_length": length,
                "state_dict": model.state_dict(),
            },
            out_dir / "model.pt",
        )
        (out_dir / "run.json").write_text(json.dumps(run.to_dict(), indent=2))
    return run
