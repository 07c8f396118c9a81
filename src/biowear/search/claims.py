"""Claims (leases) on evaluations: no network is trained twice by two workers, processes or machines.

:func:`run_claimed` wraps the task runner where the training runs (the worker). It opens the study's store,
takes the lease on the task's (train key, family, architecture key), keeps it alive from a heartbeat thread
while training, writes the evaluation and drops the lease in one transaction. When another live owner holds
the lease it waits for that evaluation and returns it as a :class:`ReusedEvaluation` (not trained here); when
the holder dies its lease expires and this worker trains the network itself. A task without ``store_path``
is run as before, unclaimed.

Lease times are wall-clock (UNIX) times in the shared store, so hosts sharing one store need synchronised
clocks (NTP) to well under the lease length.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from biowear.search.evaluate import EvalTask, run_task
from biowear.search.store import Evaluation, Store
from biowear.train import Callback

log = logging.getLogger(__name__)

#: Default lease length (s); the holder renews it every quarter of that while it trains.
DEFAULT_LEASE_S = 60.0


@dataclass(frozen=True)
class ReusedEvaluation(Evaluation):
    """An evaluation another owner produced while this worker waited for it (nothing was trained here)."""


def is_reused(evaluation: Evaluation) -> bool:
    """True when ``evaluation`` came from another owner's training (see :func:`run_claimed`)."""
    return isinstance(evaluation, ReusedEvaluation)


def _as_reused(evaluation: Evaluation) -> ReusedEvaluation:
    return ReusedEvaluation(**{f.name: getattr(evaluation, f.name) for f in fields(evaluation)})


def owner_id() -> str:
    """A claim owner: ``host:pid:random`` (unique per call, so two tasks in one process never share a lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def finished_for(task: EvalTask) -> Callable[[Evaluation], bool]:
    """What counts as done for ``task``: ``infeasible``, or ``ok`` (with a learning curve when it records one);
    failures are retried."""

    def finished(evaluation: Evaluation) -> bool:
        if evaluation.status == "infeasible":
            return True
        return evaluation.status == "ok" and (not task.curves or bool(evaluation.curve))

    return finished


def run_claimed(
    task: EvalTask,
    callbacks: tuple[Callback, ...] = (),
    train: Callable[[EvalTask], Evaluation] | None = None,
    poll_s: float | None = None,
) -> Evaluation:
    """Run ``task`` under a lease on its evaluation in ``task.store_path`` (unclaimed when that is empty).

    Args:
        task: the evaluation to produce; ``task.lease_s`` is the lease length (s).
        callbacks: training progress hooks handed to the default runner.
        train: the runner (default :func:`~biowear.search.evaluate.run_task`; tests substitute a fake trainer).
        poll_s: how often a waiting worker looks again (s); default a quarter of the lease, at most 1 s.

    Returns:
        The evaluation trained here (also written to the store), or a :class:`ReusedEvaluation` another owner
        finished while this one waited.
    """
    train = train or (lambda t: run_task(t, callbacks))
    if not task.store_path:
        return train(task)
    lease_s = float(task.lease_s)
    poll_s = poll_s if poll_s is not None else min(1.0, lease_s / 4)
    finished = finished_for(task)
    store = Store(Path(task.store_path))
    owner = owner_id()
    try:
        first = store.get(task.train_key, task.arch)
        while True:
            current = store.get(task.train_key, task.arch)
            if current is not None and finished(current):
                return _as_reused(current)
            if current is not None and (first is None or current.to_json() != first.to_json()):
                return _as_reused(current)  # the holder's attempt failed while we waited: not retried at once
            if store.claim(task.train_key, task.arch, owner, lease_s, finished):
                return _train_holding(store, task, owner, train)
            time.sleep(poll_s)
    finally:
        store.close()


def _train_holding(store: Store, task: EvalTask, owner: str, train: Callable[[EvalTask], Evaluation]) -> Evaluation:
    """Train while a heartbeat renews the lease; write the evaluation and drop the lease together."""
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(task, owner, stop), name="biowear-lease", daemon=True)
    beat.start()
    try:
        evaluation = train(task)
    except BaseException:
        stop.set()
        beat.join()
        store.release(task.train_key, task.arch, owner)  # another worker may take it over at once
        raise
    stop.set()
    beat.join()
    store.release(task.train_key, task.arch, owner, evaluation)
    return evaluation


def _heartbeat(task: EvalTask, owner: str, stop: threading.Event) -> None:
    """Renew ``owner``'s lease every quarter lease until ``stop`` (own connection: SQLite's are per thread)."""
    interval = task.lease_s / 4
    store = Store(Path(task.store_path))
    try:
        while not stop.wait(interval):
            try:
                if not store.renew(task.train_key, task.arch, owner, task.lease_s):
                    log.warning("lost the lease on %s (expired and taken by another worker)", task.arch)
                    return
            except Exception as exc:  # a busy store for longer than the timeout: try again next beat
                log.warning("could not renew the lease on %s: %s", task.arch, exc)
    finally:
        store.close()
