"""A driver process for the concurrency tests (``python -m tests.search.concurrency_worker MODE ...``).

Modes:
    study DIR STRATEGY COUNTER START_AT: run a strategy of the small study in DIR with a fake trainer that
        appends one line per training to COUNTER; waits until the UNIX time START_AT so two processes start at
        the same instant.
    hold STORE COUNTER LEASE_S: claim one network in STORE and "train" it for a minute (the test kills it).
    pool DIR: run exhaustive with a 2-process pool of real (slow) training (the test kills this driver).
    flood N FLAG: a 1-process pool with epoch progress whose worker reports N messages after the driver closed
        the pool (FLAG: the file the worker creates once it runs); the driver must still exit.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from biowear.search import Study, study_config_from_dict
from biowear.search.claims import run_claimed
from biowear.search.evaluate import EvalTask
from biowear.search.executor import LocalExecutor
from tests.search.conftest import SMALL_STUDY, FakeTrainer


def small_config(**train):
    doc = {k: dict(v) if isinstance(v, dict) else v for k, v in SMALL_STUDY.items()}
    doc["train"] = {**doc["train"], **train}
    return study_config_from_dict(doc)


def append_line(path: Path, text: str) -> None:
    """One line per call, atomically appended (O_APPEND) by any number of processes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


class CountingTrainer(FakeTrainer):
    """The fake trainer, taking ``delay_s`` per network and logging each training to ``counter``."""

    def __init__(self, space, counter: Path, delay_s: float = 0.05):
        super().__init__(space)
        self.counter, self.delay_s = counter, delay_s

    def __call__(self, task: EvalTask):
        append_line(self.counter, f"{os.getpid()} {task.arch}")
        time.sleep(self.delay_s)
        return super().__call__(task)


def run_study(directory: str, strategy: str, counter: str, start_at: str) -> None:
    while time.time() < float(start_at):
        time.sleep(0.001)
    study = Study(small_config(), Path(directory))
    trainer = CountingTrainer(study.space, Path(counter))
    executor = LocalExecutor(lambda task: run_claimed(task, train=trainer, poll_s=0.05))
    result = study.run(strategy, executor)
    print(f"done {strategy} {result.n_trained}")


def hold(store: str, counter: str, lease_s: str) -> None:
    study = Study(small_config(), Path(store).parent)
    arch = sorted(study.space.feasible_points, key=str)[0]
    task = EvalTask(arch, study.config.data, study.config.split, study.config.train, study.train_key, "models")
    task = replace(task, store_path=store, lease_s=float(lease_s))

    def train_forever(task):
        append_line(Path(counter), f"{os.getpid()} {task.arch}")
        time.sleep(60)
        raise AssertionError("the test should have killed this process")

    run_claimed(task, train=train_forever)


def pool(directory: str) -> None:
    from biowear.search.executor import ProcessPoolExecutor

    study = Study(small_config(epochs=200, patience=200), Path(directory))
    study.run("exhaustive", ProcessPoolExecutor(2))


def _report_late(n: int, flag: str) -> int:
    """In a pool worker: say it runs, wait until the driver has closed the pool, then report ``n`` epochs."""
    from biowear.search.executor import _EPOCH_QUEUE

    Path(flag).touch()
    time.sleep(1.0)
    for i in range(n):
        _EPOCH_QUEUE[0].put({"worker": "w", "arch": "a", "epoch": i, "epochs": n, "padding": "x" * 200})
    return n


def flood(n: str, flag: str) -> None:
    from biowear.search.executor import ProcessPoolExecutor

    executor = ProcessPoolExecutor(1, progress=lambda message: None)
    executor._pool.submit(_report_late, int(n), flag)
    deadline = time.time() + 60
    while not Path(flag).exists() and time.time() < deadline:
        time.sleep(0.05)
    executor.close()
    executor.close()  # twice is harmless
    print("closed", flush=True)


if __name__ == "__main__":
    {"study": run_study, "hold": hold, "pool": pool, "flood": flood}[sys.argv[1]](*sys.argv[2:])
