"""Worker processes end with their parent: no training outlives a ``kill -9`` of the driver.

Two means, for a worker process to call at start-up (a pool initializer, a Dask worker preload):

- on Linux, ``prctl(PR_SET_PDEATHSIG)`` asks the kernel to send a signal the moment the parent dies. The
  kernel ties it to the parent *thread* that started the worker, so it is used only when the caller says the
  pool is started from a long-lived thread (the main thread);
- everywhere, a daemon thread that checks every ``poll_s`` seconds whether the parent is still the one the
  worker started under, and ends the process otherwise (the fallback where prctl is unavailable).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, pdeathsig: bool = True, poll_s: float = 0.5) -> None:
    """End this process when the process ``parent_pid`` (its parent) ends.

    Args:
        parent_pid: the parent's pid as the parent saw it when starting this process.
        pdeathsig: also ask the kernel (Linux) for SIGKILL at the parent's death; only when the parent started
            this process from a thread that lives as long as the parent wants its workers.
        poll_s: period of the fallback check (s).
    """
    if pdeathsig and sys.platform.startswith("linux"):
        _set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
    watch = threading.Thread(target=_watch, args=(parent_pid, poll_s), name="biowear-parent-watch", daemon=True)
    watch.start()


def _set_pdeathsig(sig: int) -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except (OSError, AttributeError) as exc:  # no libc prctl: the watch thread still covers it
        log.debug("prctl unavailable: %s", exc)


def _watch(parent_pid: int, poll_s: float) -> None:
    event = threading.Event()
    while not event.wait(poll_s):
        if os.getppid() != parent_pid:
            os._exit(1)  # orphaned: the driver is gone, nobody will read this worker's results


def dask_setup(worker: object) -> None:
    """Dask preload hook (``preload=["biowear.search.lifeline"]``): a worker of a local cluster ends with the
    process that started it (the driver: a ``LocalCluster``'s nannies run inside it)."""
    die_with_parent(os.getppid())
