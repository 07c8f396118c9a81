"""Executors run evaluation tasks: in-process, on a local process pool, or on Dask workers (``dask``, lazily).

Every runner goes through :func:`~biowear.search.claims.run_claimed`, so a task naming its study's store holds
a lease on its evaluation while it trains; pool workers end with the driver (:mod:`biowear.search.lifeline`).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import torch

from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.search.claims import is_reused as is_reused  # re-exported for studies
from biowear.search.claims import run_claimed
from biowear.search.evaluate import EvalTask
from biowear.search.execution import EpochMessages, Executor, Progress, check_device, on_device
from biowear.search.lifeline import die_with_parent
from biowear.search.store import Evaluation
from biowear.train import Callback

log = logging.getLogger(__name__)


class LocalExecutor(Executor):
    """One task at a time in this process.

    Args:
        fn: the task runner (tests substitute a fake trainer).
        callbacks: training callbacks (e.g. per-epoch progress) handed to the default runner.
        device: ``auto``, ``cpu`` or ``cuda`` for the default runner ("" keeps each task's own).
    """

    def __init__(
        self,
        fn: Callable[[EvalTask], Evaluation] | None = None,
        callbacks: tuple[Callback, ...] = (),
        device: str = "",
    ):
        self.fn = fn or (lambda task: run_claimed(on_device(task, device), callbacks))

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        for task in tasks:
            yield self.fn(task)


#: In a pool worker: the queue its per-epoch messages go to (None: the driver asked for no progress).
_EPOCH_QUEUE: list[Any] = [None]


def _worker_init(threads: int, parent_pid: int, pdeathsig: bool, queue: Any = None) -> None:
    die_with_parent(parent_pid, pdeathsig)
    torch.set_num_threads(threads)
    if queue is not None:
        queue.cancel_join_thread()  # a worker exits even when nobody reads its last messages any more
    _EPOCH_QUEUE[0] = queue


def _run_in_worker(task: EvalTask) -> Evaluation:
    """What a pool worker runs: the claimed task, reporting each epoch when the driver listens."""
    queue = _EPOCH_QUEUE[0]
    callbacks = () if queue is None else (EpochMessages(task, queue.put, f"process {os.getpid()}"),)
    return run_claimed(task, callbacks)


class ProcessPoolExecutor(Executor):
    """Tasks on ``workers`` spawned processes, each with ``threads`` torch threads, on ``device``.

    The workers end with this process, even on ``kill -9`` (Linux's parent-death signal when the pool is made
    on the main thread, a parent-watch thread everywhere). With ``progress``, each worker reports every
    finished epoch (:class:`~biowear.search.execution.EpochMessages`) through a queue that a thread of this
    process drains into ``progress``.
    """

    def __init__(self, workers: int = 2, threads: int = 1, device: str = "", progress: Progress | None = None):
        if workers < 1 or threads < 1:
            raise ConfigError("workers and threads must be >= 1")
        self.device = check_device(device)
        ctx = multiprocessing.get_context("spawn")
        main = threading.current_thread() is threading.main_thread()
        self._queue = ctx.Queue() if progress is not None else None
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        if progress is not None:
            self._queue.cancel_join_thread()
            self._listener = threading.Thread(
                target=self._listen, args=(self._queue, progress, self._stop), name="biowear-epochs", daemon=True
            )
            self._listener.start()
        self._pool = cf.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_init, initargs=(threads, os.getpid(), main, self._queue)
        )

    @staticmethod
    def _listen(messages: Any, progress: Progress, stop: threading.Event) -> None:
        """Hand every queued epoch message to ``progress`` until ``stop`` (the driver never writes to the
        queue, so a worker killed while writing cannot block it; a daemon thread never blocks exit)."""
        while not stop.is_set():
            try:
                message = messages.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):  # the queue is gone (interpreter shutdown, closed pipe)
                return
            try:
                progress(message)
            except Exception:  # noqa: BLE001 - a failing display must not stop the search
                log.exception("per-epoch progress callback failed")

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        futures = [self._pool.submit(_run_in_worker, on_device(t, self.device)) for t in tasks]
        try:
            for fut in cf.as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """Stop the workers (tasks in flight finish in the background and are dropped) and the listener; the
        last epoch messages of tasks still running may go unreported."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._listener is not None:
            self._stop.set()
            self._listener.join(timeout=5)
            self._listener = None


class _Claiming(Executor):
    """``inner`` with every task claiming its evaluation in the store at ``store_path``."""

    def __init__(self, inner: Executor, store_path: str):
        self.inner, self.store_path, self.lease_s = inner, store_path, inner.lease_s

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        claimed = [replace(t, store_path=self.store_path, lease_s=self.lease_s) for t in tasks]
        yield from self.inner.run(claimed)

    def close(self) -> None:
        self.inner.close()


def with_claims(executor: Executor, store_path: os.PathLike | str) -> Executor:
    """``executor`` whose tasks hold a lease on their evaluations in the store at ``store_path`` while they
    train (:func:`~biowear.search.claims.run_claimed`): processes sharing the store never train a network twice.
    A runner that ignores ``EvalTask.store_path`` (a test's fake trainer) runs unclaimed."""
    return _Claiming(executor, os.path.abspath(store_path))


def _dask(workers: int, callbacks: tuple[Callback, ...], **options: Any) -> Executor:
    from biowear.search.dask_executor import DaskExecutor  # lazily: biowear works without dask

    return DaskExecutor(workers, **options)


#: Executor name -> factory ``(workers, callbacks, **options) -> Executor``; options are ``device``, ``progress``
#: (``process`` and ``dask``) and ``scheduler`` (``dask``); others are ignored.
EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")
EXECUTORS.register(
    "local", lambda workers, callbacks, device="", **_: LocalExecutor(callbacks=callbacks, device=device)
)
EXECUTORS.register(
    "process",
    lambda workers, callbacks, device="", progress=None, **_: ProcessPoolExecutor(
        workers, device=device, progress=progress
    ),
)
EXECUTORS.register("dask", _dask)


def make_executor(kind: str, workers: int = 2, callbacks: tuple[Callback, ...] = (), **options: Any) -> Executor:
    """A registered executor: ``local`` (in-process, with training ``callbacks``), ``process`` (``workers``
    processes) or ``dask`` (a local cluster of ``workers`` processes, or the cluster at ``scheduler=``). With
    ``process`` and ``dask``, ``callbacks`` are not used and ``progress=`` hears each worker's epochs.
    ``device=`` picks where networks train without changing the study's train key. The error lists the valid
    names."""
    return EXECUTORS.get(kind)(workers, callbacks, **options)
