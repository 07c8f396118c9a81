"""Per-phase, per-kernel profiling: wall time and operation counts of the operations a C kernel would run.

Kernels in :mod:`biowear.signal` and :mod:`biowear.bench.classifiers` are plain functions. Those decorated with
:func:`kernel` report, when a :class:`Profiler` is active, their wall time and an analytic count of the
operations a straightforward embedded implementation performs (multiply-accumulates, multiplies, adds,
comparisons, memory moves, transcendental calls). Counts are *self* counts: a kernel that calls another
counted kernel only counts its own work, and its time excludes the callee's. Without an active profiler the
decorator costs one context-variable lookup.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

#: Processing phases of BiomedBench (seed 001).
PHASES: tuple[str, ...] = ("preprocessing", "feature_extraction", "inference", "training")
#: Phase name of kernels run outside any ``phase`` block.
UNASSIGNED = "unassigned"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class OpCounts:
    """Operation counts of one kernel call (or a sum of calls).

    Attributes:
        macs: multiply-accumulates (one multiply fused with one add).
        muls: stand-alone multiplies.
        adds: stand-alone additions/subtractions.
        cmps: comparisons and min/max selections.
        moves: loads/stores/copies of data words beyond those implied by the arithmetic.
        transcendental: calls of exp/log/sin/cos/sqrt/division routines.
    """

    macs: int = 0
    muls: int = 0
    adds: int = 0
    cmps: int = 0
    moves: int = 0
    transcendental: int = 0

    def __add__(self, other: OpCounts) -> OpCounts:
        return OpCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, factor: float) -> OpCounts:
        """Counts multiplied by ``factor`` (rounded), e.g. per channel -> all channels."""
        return OpCounts(*(int(round(getattr(self, f.name) * factor)) for f in fields(self)))

    @property
    def total(self) -> int:
        """All operations, a MAC counting as one."""
        return sum(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class KernelStats:
    """Accumulated statistics of one kernel inside one phase."""

    calls: int = 0
    time_s: float = 0.0
    ops: OpCounts = field(default_factory=OpCounts)


class Profiler:
    """Collects kernel statistics per phase; activate it with ``with profiler.active():``."""

    def __init__(self) -> None:
        self.stats: dict[tuple[str, str], KernelStats] = {}
        self.phase_time_s: dict[str, float] = {}
        self._phase = UNASSIGNED
        self._child_time: list[float] = []

    @contextmanager
    def active(self) -> Iterator[Profiler]:
        """Make this the profiler that counted kernels report to (for the current context)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Attribute the kernels run inside the block to processing phase ``name``."""
        if name not in PHASES:
            raise ValueError(f"unknown phase {name!r}; valid phases are: {', '.join(PHASES)}")
        previous, self._phase = self._phase, name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phase_time_s[name] = self.phase_time_s.get(name, 0.0) + time.perf_counter() - start
            self._phase = previous

    def record(self, name: str, ops: OpCounts, time_s: float = 0.0) -> None:
        """Add one call of kernel ``name`` to the current phase."""
        stats = self.stats.setdefault((self._phase, name), KernelStats())
        stats.calls += 1
        stats.time_s += time_s
        stats.ops = stats.ops + ops

    def _enter(self) -> None:
        self._child_time.append(0.0)

    def _exit(self, name: str, ops: OpCounts, elapsed_s: float) -> None:
        children = self._child_time.pop()
        self.record(name, ops, max(elapsed_s - children, 0.0))
        if self._child_time:
            self._child_time[-1] += elapsed_s


_ACTIVE: ContextVar[Profiler | None] = ContextVar("biowear_profiler", default=None)


def active_profiler() -> Profiler | None:
    """The profiler kernels currently report to, or None."""
    return _ACTIVE.get()


def kernel(name: str, ops: Callable[..., OpCounts]) -> Callable[[F], F]:
    """Declare a function as a profiled kernel.

    Args:
        name: kernel name shown in profiles.
        ops: ``ops(result, *args, **kwargs) -> OpCounts`` computing the self operation count of one call
            from its arguments and result (evaluated only while a profiler is active).
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            profiler = _ACTIVE.get()
            if profiler is None:
                return fn(*args, **kwargs)
            profiler._enter()
            start = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                profiler._child_time.pop()
                raise
            elapsed = time.perf_counter() - start
            profiler._exit(name, ops(result, *args, **kwargs), elapsed)
            return result

        counted.kernel_name = name  # type: ignore[attr-defined]
        return counted  # type: ignore[return-value]

    return wrap


def phase(name: str) -> AbstractContextManager[None]:
    """``active_profiler().phase(name)``, or a no-op context when no profiler is active."""
    profiler = _ACTIVE.get()
    return profiler.phase(name) if profiler is not None else nullcontext()
