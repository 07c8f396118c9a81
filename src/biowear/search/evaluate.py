"""Training one network of a study: the unit of work an executor runs (picklable, config-only)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from biowear.data import DataConfig, PreparedDataset, SplitConfig, make_split, prepare
from biowear.models import family_for
from biowear.search.store import Evaluation
from biowear.train import Callback, TrainConfig, train_network
from biowear.train.fit import EpochLog

log = logging.getLogger(__name__)
STATE_FILE = "fit_state.pt"
_PREPARED: dict[str, PreparedDataset] = {}  # per-process memo; the on-disk cache serves new processes


@dataclass(frozen=True)
class EvalTask:
    """Everything needed to train and test one network, so any process can run it.

    ``curves`` records per-epoch test metrics (learning curves). ``keep_state`` keeps a resumable training state
    beside the model (``fit_state.pt``) so a later, longer budget continues this run; ``resume_from`` names such
    a state of a shorter run of the same network and recipe, which this task continues instead of starting over.
    With ``store_path`` the runner (:func:`biowear.search.claims.run_claimed`) holds a lease on the evaluation
    there for ``lease_s`` seconds at a time, so no other worker trains the same network meanwhile.
    """

    arch: Any
    data: DataConfig
    split: SplitConfig
    train: TrainConfig
    train_key: str
    model_dir: str
    curves: bool = False
    resume_from: str = ""
    keep_state: bool = False
    store_path: str = ""  # the study's store: the worker claims the evaluation there (see search.claims)
    lease_s: float = 60.0  # claim lease (s), renewed while training; a dead worker's claim expires after it

    @property
    def genes(self) -> Any:
        """The architecture (name of earlier releases)."""
        return self.arch


def train_key(data_key: str, split: SplitConfig, train: TrainConfig) -> str:
    """Content key of 'this data, split and training recipe' (networks trained under it are reusable)."""
    text = json.dumps({"data": data_key, "split": asdict(split), "train": asdict(train)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_data(config: DataConfig) -> PreparedDataset:
    key = json.dumps(config.to_dict(), sort_keys=True, default=str)
    if key not in _PREPARED:
        _PREPARED.clear()
        _PREPARED[key] = prepare(config)
    return _PREPARED[key]


def run_task(task: EvalTask, callbacks: tuple[Callback, ...] = ()) -> Evaluation:
    """Train ``task.arch``; a training failure becomes a ``failed`` evaluation, not an exception.

    ``callbacks`` receive the training progress (only in-process: they are not sent to workers).
    """
    data = load_data(task.data)
    family = family_for(task.arch)
    name = family.key(task.arch)
    out_dir = Path(task.model_dir) / task.train_key / name
    try:
        split = make_split(data, task.split)
        state = out_dir / STATE_FILE if task.keep_state or task.resume_from else None
        if task.resume_from and state is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(task.resume_from, state.with_name(".resume.tmp"))
            os.replace(state.with_name(".resume.tmp"), state)
        run = train_network(
            data,
            split,
            task.arch,
            task.train,
            callbacks,
            out_dir,
            recipe=asdict(task.data),
            curves=task.curves,
            state=state,
        )
    except Exception as exc:  # recorded in the store so the study can go on and the user can see why
        log.error("training %s failed: %s", family.label(task.arch), traceback.format_exc())
        return Evaluation(
            task.arch,
            task.train_key,
            "failed",
            seed=task.train.seed,
            data_key=data.key,
            reason=f"{type(exc).__name__}: {exc}",
        )
    return Evaluation(
        arch=task.arch,
        train_key=task.train_key,
        status="ok",
        metrics=run.metrics.to_dict(),
        cost=cost_dict(run.cost),
        train_time_s=run.fit.train_time_s,
        epochs=run.fit.epochs_run,
        seed=task.train.seed,
        data_key=data.key,
        model_path=str(Path(task.train_key) / name / "model.pt"),
        curve=tuple(_curve_point(log) for log in run.fit.history) if task.curves else (),
    )


def _curve_point(log: EpochLog) -> dict[str, Any]:
    point = {
        "epoch": log.epoch,
        "train_loss": log.train_loss,
        "val_loss": log.val_loss,
        "seconds": log.seconds,
        "test": log.monitored,
    }
    point.update({"val_mae": log.val_mae} if math.isfinite(log.val_mae) else {"val_accuracy": log.val_accuracy})
    return point


def cost_dict(cost) -> dict[str, float]:
    return {
        "params": cost.params,
        "storage_bytes": cost.storage_bytes(32),
        "flops": cost.flops,
        "macs": cost.macs,
        "peak_ram_bytes": cost.peak_activation_bytes(32),
    }
