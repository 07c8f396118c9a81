"""Many writers on one store: atomic creation, claims (leases) per evaluation, workers that end with the driver,
and trials on a Dask cluster (issue 14, item 4)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from biowear.errors import ConfigError
from biowear.search import Evaluation, Store, Study
from biowear.search.claims import is_reused, run_claimed
from biowear.search.evaluate import EvalTask
from biowear.search.executor import LocalExecutor, make_executor
from tests.conftest import cli_exit_code
from tests.search.concurrency_worker import CountingTrainer, small_config

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]), "OMP_NUM_THREADS": "1"}


def _worker(mode: str, *args: object) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.search.concurrency_worker", mode, *map(str, args)]
    return subprocess.Popen(command, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _counted(counter: Path) -> Counter:
    lines = counter.read_text().splitlines() if counter.exists() else []
    return Counter(line.split(" ", 1)[1] for line in lines)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc; no psutil needed)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ------------------------------------------------------------------ atomic creation
def _create_many(barrier, root: str, n: int, failures) -> None:
    for i in range(n):
        barrier.wait()
        try:
            Store(Path(root) / str(i) / "store.sqlite").close()
        except Exception as exc:  # noqa: BLE001 - counted: the test shows the message
            failures.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_creating_a_new_store_at_once_both_succeed(tmp_path):
    """Before: one of the two was refused ("no meta table") about every other time."""
    ctx = mp.get_context("spawn")
    barrier, failures = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_create_many, args=(barrier, str(tmp_path), 25, failures)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    errors = []
    while not failures.empty():
        errors.append(failures.get())
    assert [p.exitcode for p in procs] == [0, 0] and errors == []
    store = Store(tmp_path / "0" / "store.sqlite")
    assert store.study_names() == [] and store.claim_of("k", small_arch()) is None
    store.close()


def test_a_schema2_store_without_a_claims_table_gains_it(tmp_path):
    import sqlite3

    path = tmp_path / "store.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE claims")  # as an earlier release wrote it
    db.commit()
    db.close()
    store = Store(path)
    assert store.claim("k", small_arch(), "me", 10.0)
    store.close()


# ------------------------------------------------------------------ claims
def small_arch():
    from biowear.models import ResNetLSTMGenes

    return ResNetLSTMGenes(1, 1, 4)


def test_claim_renew_release_semantics(tmp_path, monkeypatch):
    store, arch = Store(tmp_path / "store.sqlite"), small_arch()
    assert store.claim("k", arch, "a", 10.0)
    assert store.claim("k", arch, "a", 10.0)  # our own: renewed, not a new attempt
    assert not store.claim("k", arch, "b", 10.0)  # live lease of another owner
    assert not store.renew("k", arch, "b", 10.0) and store.renew("k", arch, "a", 10.0)
    assert store.claim("other-key", arch, "b", 10.0)  # keyed by train key too
    assert store.claim_of("k", arch).attempts == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 11.0)  # a's lease expired: a dead worker
    assert store.claim("k", arch, "b", 10.0)
    assert store.claim_of("k", arch).owner == "b" and store.claim_of("k", arch).attempts == 2
    assert not store.renew("k", arch, "a", 10.0)  # a lost it
    store.release("k", arch, "b", Evaluation(arch, "k", "failed", reason="boom"))
    assert store.claim_of("k", arch) is None and store.get("k", arch).status == "failed"
    assert store.claim("k", arch, "c", 10.0)  # a failure is retried
    store.release("k", arch, "c", Evaluation(arch, "k", "ok"))
    assert not store.claim("k", arch, "d", 10.0)  # finished: never claimed again
    store.close()


def _task(study: Study, arch, **changes) -> EvalTask:
    cfg = study.config
    task = EvalTask(arch, cfg.data, cfg.split, cfg.train, study.train_key, str(study.directory / "models"))
    return replace(task, store_path=str(study.store.path), **changes)


def test_a_claimed_network_is_waited_for_and_reused(tmp_path):
    study = Study(small_config(), tmp_path)
    arch, trainer = small_arch(), CountingTrainer(study.space, tmp_path / "count")
    study.store.claim(study.train_key, arch, "someone-else", 30.0)

    def finish_later():
        time.sleep(0.5)
        other = Store(study.store.path)
        other.release(study.train_key, arch, "someone-else", trainer(_task(study, arch)))
        other.close()

    threading.Thread(target=finish_later).start()
    ev = run_claimed(_task(study, arch), train=trainer, poll_s=0.05)
    assert is_reused(ev) and ev.status == "ok" and _counted(tmp_path / "count") == {str(arch): 1}


def test_a_study_with_claims_trains_nothing_already_claimed_twice(tmp_path):
    """The study hands its store to the tasks; a runner that claims trains each network once across studies."""
    study = Study(small_config(), tmp_path)
    trainer = CountingTrainer(study.space, tmp_path / "count", delay_s=0)
    seen = []
    study.run("exhaustive", LocalExecutor(lambda t: run_claimed(t, train=trainer)), lambda *a: seen.append(a[-1]))
    assert set(_counted(tmp_path / "count").values()) == {1} and not any(seen)
    assert study.store._db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


@pytest.mark.parametrize("strategies", [("exhaustive", "exhaustive"), ("exhaustive", "nsga2")])
def test_two_processes_on_one_new_study_train_every_network_once(tmp_path, strategies):
    counter, start_at = tmp_path / "count", time.time() + 8.0  # both import, then start at the same instant
    procs = [_worker("study", tmp_path / "study", s, counter, start_at) for s in strategies]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    counts = _counted(counter)
    assert counts and set(counts.values()) == {1}, counts  # every network trained exactly once
    study = Study(small_config(), tmp_path / "study")
    feasible = {str(a.canonical()) for a in study.space.feasible_points}
    assert set(counts) == feasible
    for strategy, output in zip(strategies, outputs):  # each process sees every network it asked for
        if strategy == "exhaustive":  # (trained by itself or reused from the other)
            assert f"done exhaustive {len(feasible)}" in output, output
    assert study.store._db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def test_a_worker_killed_mid_training_is_retried_by_another_after_its_lease(tmp_path):
    study = Study(small_config(), tmp_path)
    counter, lease_s = tmp_path / "count", 2.0
    holder = _worker("hold", study.store.path, counter, lease_s)
    deadline = time.time() + 120
    while not counter.exists() and time.time() < deadline and holder.poll() is None:
        time.sleep(0.05)
    assert counter.exists(), holder.communicate()[0]
    arch = sorted(study.space.feasible_points, key=str)[0]
    held = study.store.claim_of(study.train_key, arch)
    assert held is not None and held.owner.split(":")[1] == str(holder.pid)
    time.sleep(lease_s)  # heartbeats kept the lease alive past its first length
    assert study.store.claim_of(study.train_key, arch).expires_at > held.expires_at
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    killed_at = time.time()
    trainer = CountingTrainer(study.space, counter, delay_s=0)
    ev = run_claimed(_task(study, arch, lease_s=lease_s), train=trainer, poll_s=0.05)
    assert ev.status == "ok" and not is_reused(ev)
    assert time.time() - killed_at < 3 * lease_s  # waited for the expiry, no longer
    lines = counter.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [str(holder.pid), str(os.getpid())]
    assert study.store.get(study.train_key, arch).status == "ok"
    assert study.store.claim_of(study.train_key, arch) is None


# ------------------------------------------------------------------ workers end with their driver
def _claims(store: Path) -> int:
    import sqlite3

    if not store.exists():
        return 0
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM claims").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0
    finally:
        db.close()


def test_no_orphan_workers_after_kill_9_of_a_process_pool_driver(tmp_path):
    driver = _worker("pool", tmp_path / "study")
    deadline = time.time() + 240
    while time.time() < deadline and driver.poll() is None and _claims(tmp_path / "study" / "store.sqlite") < 2:
        time.sleep(0.2)  # until both workers have claimed a network and train it
    assert driver.poll() is None and _claims(tmp_path / "study" / "store.sqlite") == 2, driver.poll()
    workers = _descendants(driver.pid)
    assert len(workers) >= 2
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived the driver"


# ------------------------------------------------------------------ Dask
DASK_TOML = """
[study]
name = "dask"
[data]
datasets = ["synthetic_ecg"]
labels = "binary"
records = ["syn000"]
fs_hz = 128.0
window = { kind = "beat", window_samples = 128 }
[train]
epochs = 2
patience = 2
[space]
blocks = [0, 1]
x = [1, 1]
lstm_exp = [4, 4]
"""


def test_a_closed_pool_whose_worker_still_reports_epochs_lets_the_driver_exit(tmp_path):
    """Messages nobody reads any more (more than a pipe holds) must not keep the worker, and so the driver
    waiting for it at exit, alive."""
    proc = _worker("flood", 5000, tmp_path / "running")
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the driver hung at exit after closing a pool with unread epoch messages")
    assert proc.returncode == 0 and "closed" in out, out


@pytest.mark.parametrize("executor", ["dask", "process"])
def test_a_two_worker_local_dask_cluster_explores_with_epoch_progress(tmp_path, capsys, executor):
    """A 2-worker LocalCluster (and, the same way, a 2-process pool) explores, and the driver prints every
    epoch each worker reports."""
    if executor == "dask":
        pytest.importorskip("distributed")
    cfg = tmp_path / "study.toml"
    cfg.write_text(DASK_TOML)
    out = tmp_path / "study"
    args = ["explore", str(cfg), "--dir", str(out), "--strategy", "exhaustive", "--executor", executor]
    code = cli_exit_code([*args, "--workers", "2", "--device", "cpu"])
    text = "".join(capsys.readouterr())
    assert code == 0, text
    assert "exhaustive: 2 trained" in text
    for epoch in (1, 2):  # each worker's epochs reported to the driver
        lines = [line for line in text.splitlines() if f"epoch {epoch}/2" in line and "train loss" in line]
        assert len(lines) == 2, text
    store = Store(out / "store.sqlite")
    (key,) = {r[0] for r in store._db.execute("SELECT train_key FROM evaluations")}
    ok = [e for e in store.evaluations(key) if e.status == "ok"]
    assert len(ok) == 2 and all((out / "models" / e.model_path).is_file() for e in ok)
    store.close()
    again = cli_exit_code(args)  # the default device and a local executor: same keys, nothing retrained
    assert again == 0 and "trained in" not in "".join(capsys.readouterr())


def test_an_unreachable_scheduler_is_one_clear_error_not_a_hang():
    pytest.importorskip("distributed")
    t0 = time.time()
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        make_executor("dask", 1, scheduler="tcp://127.0.0.1:9", connect_timeout_s=2)
    assert time.time() - t0 < 30


def test_dask_missing_is_one_line_naming_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ConfigError, match=r"pip install 'biowear\[dask\]'"):
        make_executor("dask", 1)
    cfg = tmp_path / "study.toml"
    cfg.write_text(DASK_TOML)
    code = cli_exit_code(["explore", str(cfg), "--dir", str(tmp_path / "s"), "--executor", "dask"])
    errors = [line for line in "".join(capsys.readouterr()).splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "biowear[dask]" in errors[0]


def test_scheduler_without_the_dask_executor_is_refused(capsys):
    code = cli_exit_code(["explore", "--executor", "process", "--scheduler", "tcp://h:1"])
    assert code == 2 and "with --executor dask" in "".join(capsys.readouterr())
