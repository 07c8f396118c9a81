"""The executor protocol and the execution settings every executor shares (device), apart from the executors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import replace

from biowear.search.claims import DEFAULT_LEASE_S
from biowear.search.evaluate import EvalTask
from biowear.search.store import Evaluation
from biowear.train.fit import DEVICES


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
