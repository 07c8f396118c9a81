"""The executor protocol and the execution settings every executor shares (device), apart from the executors."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from biowear.models import family_for
from biowear.search.claims import DEFAULT_LEASE_S
from biowear.search.evaluate import EvalTask
from biowear.search.store import Evaluation
from biowear.train.fit import DEVICES, EpochLog, NullCallback

#: Called in the driver with each per-epoch message a worker reports (see :class:`EpochMessages`).
Progress = Callable[[dict[str, Any]], None]


class Executor(ABC):
    """Runs tasks and yields each evaluation as soon as it finishes (order not guaranteed).

    ``lease_s`` is the claim lease (s) its tasks get when a study runs them (see :func:`with_claims`).
    """

    lease_s: float = DEFAULT_LEASE_S

    @abstractmethod
    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]: ...

    def close(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Release workers."""


def on_device(task: EvalTask, device: str) -> EvalTask:
    """``task`` trained on ``device`` (an execution setting: the task keeps its study's train key)."""
    if not device or device == task.train.device:
        return task
    return replace(task, train=replace(task.train, device=device))


def check_device(device: str) -> str:
    """``device`` when it is a registered one ("" = each task's own); the error lists the valid options."""
    if device:
        DEVICES.get(device)
    return device


class EpochMessages(NullCallback):
    """Training callback in a worker: one small picklable message per finished epoch, handed to ``send``.

    A message holds ``worker``, ``arch`` (the family's label), ``epoch``, ``epochs`` (the budget),
    ``train_loss``, ``val_loss``, ``val_accuracy`` or ``val_mae`` and ``seconds`` (the epoch's training time).
    ``worker`` is a string or a function returning one (called per epoch, e.g. a Dask worker's name).
    """

    def __init__(self, task: EvalTask, send: Callable[[dict[str, Any]], None], worker: str | Callable[[], str]):
        self.arch, self.epochs = family_for(task.arch).label(task.arch), task.train.epochs
        self.send, self.worker = send, worker

    def on_epoch_end(self, log: EpochLog) -> None:
        message: dict[str, Any] = {
            "worker": self.worker() if callable(self.worker) else self.worker,
            "arch": self.arch,
            "epoch": log.epoch,
            "epochs": self.epochs,
            "train_loss": log.train_loss,
            "val_loss": log.val_loss,
            "seconds": log.seconds,
        }
        if not math.isnan(log.val_mae):  # a regression run (whose MAE may diverge to inf)
            message["val_mae"] = log.val_mae
        else:
            message["val_accuracy"] = log.val_accuracy
        self.send(message)
