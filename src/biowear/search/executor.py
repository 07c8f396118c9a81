"""Executors run evaluation tasks: in-process or on a local process pool (a cluster engine can be added)."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import torch

from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.search.evaluate import EvalTask, run_task
from biowear.search.store import Evaluation
from biowear.train import Callback


class Executor(ABC):
    """Runs tasks and yields each evaluation as soon as it finishes (order not guaranteed)."""

    @abstractmethod
    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]: ...

    def close(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Release workers."""


class LocalExecutor(Executor):
    """One task at a time in this process.

    Args:
        fn: the task runner (tests substitute a fake trainer).
        callbacks: training callbacks (e.g. per-epoch progress) handed to the default runner.
    """

    def __init__(self, fn: Callable[[EvalTask], Evaluation] | None = None, callbacks: tuple[Callback, ...] = ()):
        self.fn = fn or (lambda task: run_task(task, callbacks))

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        for task in tasks:
            yield self.fn(task)


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


class ProcessPoolExecutor(Executor):
    """Tasks on ``workers`` spawned processes, each with ``threads`` torch threads."""

    def __init__(self, workers: int = 2, threads: int = 1):
        if workers < 1 or threads < 1:
            raise ConfigError("workers and threads must be >= 1")
        ctx = multiprocessing.get_context("spawn")
        self._pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(threads,))

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        futures = [self._pool.submit(run_task, t) for t in tasks]
        try:
            for fut in cf.as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


#: Executor name -> factory ``(workers, callbacks) -> Executor``; a cluster engine registers one more.
EXECUTORS: Registry[Callable[[int, tuple[Callback, ...]], Executor]] = Registry("executor")
EXECUTORS.register("local", lambda workers, callbacks: LocalExecutor(callbacks=callbacks))
EXECUTORS.register("process", lambda workers, callbacks: ProcessPoolExecutor(workers))


def make_executor(kind: str, workers: int = 2, callbacks: tuple[Callback, ...] = ()) -> Executor:
    """A registered executor: ``local`` (in-process, with training ``callbacks``) or ``process`` (``workers``
    processes; callbacks stay in this process and are not used). The error lists the valid names."""
    return EXECUTORS.get(kind)(workers, callbacks)
