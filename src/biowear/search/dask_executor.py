"""Trials on Dask workers: a local cluster by default, or an existing one (SLURM, Kubernetes, ...) by address.

Needs the ``dask`` extra (``pip install 'biowear[dask]'``, which installs ``distributed``); biowear imports
this module only when ``--executor dask`` is asked for. Every task claims its evaluation in the study's store
(:mod:`biowear.search.claims`), so the study folder -- the store and ``models/`` -- must be on a disk every
worker sees, at the same path (see docs/distributed.md). Workers report each finished epoch to the driver as
a Dask event on :data:`TOPIC`.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from biowear.errors import ConfigError
from biowear.search.claims import DEFAULT_LEASE_S, run_claimed
from biowear.search.evaluate import EvalTask
from biowear.search.execution import EpochMessages, Executor, Progress, check_device, on_device
from biowear.search.store import Evaluation

log = logging.getLogger(__name__)

#: Dask event topic of the per-epoch progress messages (dicts, see :class:`~biowear.search.execution.EpochMessages`).
TOPIC = "biowear-progress"
INSTALL_HINT = "pip install 'biowear[dask]'"


def import_distributed() -> Any:
    """The ``distributed`` module, or a one-line error naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            f"--executor dask needs the 'distributed' package, which is not installed ({exc}): {INSTALL_HINT}"
        ) from None
    return distributed


def _send_event(message: dict[str, Any]) -> None:
    from distributed import get_worker

    get_worker().log_event(TOPIC, message)


def _worker_name() -> str:
    from distributed import get_worker

    return str(get_worker().name)


def train_on_worker(task: EvalTask, threads: int) -> Evaluation:
    """The function a Dask worker runs: torch on ``threads`` threads, the claimed task, epoch events."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    return run_claimed(task, (EpochMessages(task, _send_event, _worker_name),))


class DaskExecutor(Executor):
    """Tasks on Dask workers: a ``distributed.LocalCluster`` of ``workers`` processes (one thread each), or the
    cluster whose scheduler is at ``scheduler`` (``tcp://HOST:PORT``).

    Args:
        workers: processes of the local cluster (ignored with ``scheduler``).
        scheduler: address of a running scheduler to join instead (e.g. one ``dask-jobqueue`` started on SLURM).
        device: ``auto`` (CUDA where the worker has it), ``cpu`` or ``cuda``; "" keeps the study's
            ``[train] device``. An execution setting: it does not change the study's train key.
        progress: called in this process with each worker's per-epoch message
            (:class:`~biowear.search.execution.EpochMessages`).
        connect_timeout_s: how long to try reaching ``scheduler`` before giving up (s).
        threads: torch threads per task (0: torch's default).
        lease_s: the claim lease of each task (s).

    Raises:
        ConfigError: ``distributed`` is not installed, the scheduler cannot be reached, or a bad option.
    """

    def __init__(
        self,
        workers: int = 2,
        scheduler: str | None = None,
        device: str = "",
        progress: Progress | None = None,
        connect_timeout_s: float = 10.0,
        threads: int = 1,
        lease_s: float = DEFAULT_LEASE_S,
        **_: Any,
    ):
        distributed = import_distributed()
        self._distributed, self.device, self.threads, self.lease_s = distributed, check_device(device), threads, lease_s
        if workers < 1 or threads < 0 or connect_timeout_s <= 0:
            raise ConfigError("dask executor: workers must be >= 1, threads >= 0 and the connect timeout > 0 s")
        self._cluster = None
        if scheduler:
            self._client = self._connect(scheduler, connect_timeout_s)
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                preload=["biowear.search.lifeline"],  # each worker ends with this process, even on kill -9
            )
            self._client = distributed.Client(self._cluster, timeout=connect_timeout_s)
        if progress is not None:
            self._client.subscribe_topic(TOPIC, lambda event: progress(event[1]))

    def _connect(self, scheduler: str, timeout_s: float) -> Any:
        try:
            return self._distributed.Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {timeout_s:g} s "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no answer'}); check the "
                "address (tcp://HOST:PORT) and that the scheduler is running, or leave out --scheduler for a local "
                "cluster"
            ) from None

    def _prepared(self, task: EvalTask) -> EvalTask:
        """The task as a worker elsewhere needs it: absolute paths, the chosen device."""
        task = on_device(task, self.device)
        store = os.path.abspath(task.store_path) if task.store_path else ""
        return replace(task, model_dir=os.path.abspath(task.model_dir), store_path=store)

    def run(self, tasks: Sequence[EvalTask]) -> Iterator[Evaluation]:
        client, run_id = self._client, uuid.uuid4().hex[:8]
        futures = [
            client.submit(
                train_on_worker, self._prepared(t), self.threads, key=f"biowear-train-{run_id}-{i}", pure=False
            )
            for i, t in enumerate(tasks)
        ]
        try:
            for future in self._distributed.as_completed(futures):
                yield future.result()
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                client.cancel(pending)

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (e.g. for its dashboard link)."""
        return self._client

    def close(self) -> None:
        if self._client.status not in ("closed", "closing"):
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
