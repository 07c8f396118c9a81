"""The application interface: declared inputs, a fitted classifier, and a profiled ``process`` step."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from biowear.errors import ConfigError, DataError
from biowear.kernels.fixed import QFormat


@dataclass(frozen=True)
class SignalSpec:
    """One input signal: ``channels`` x (``fs_hz`` * ``duration_s``) samples of ``sample_bits`` bits."""

    name: str
    channels: int
    fs_hz: float
    duration_s: float
    sample_bits: int

    @property
    def samples(self) -> int:
        return int(round(self.fs_hz * self.duration_s))

    @property
    def bytes_per_s(self) -> float:
        return self.channels * self.fs_hz * self.sample_bits / 8


@dataclass(frozen=True)
class AppInfo:
    """What seed 001 says of an application.

    Attributes:
        name: BiomedBench abbreviation.
        signals: input signals of one processing window.
        arithmetic: ``fx16``, ``fx32`` (fixed point) or ``fp32``.
        period_s: acquisition period between two processing runs (the window length, or 0 when the app has
            no acquisition phase).
        kernels: main kernels per seed 001.
        dominant_phase: the phase seed 001 reports as dominant.
    """

    name: str
    signals: tuple[SignalSpec, ...]
    arithmetic: str
    period_s: float
    kernels: str
    dominant_phase: str


@dataclass(frozen=True)
class Window:
    """One processing window: ``signals[name]`` is (channels, samples) sampled at ``fs_hz[name]``; ``label``
    is the window's reference class and ``annotations`` holds any finer reference (e.g. beat positions)."""

    signals: dict[str, np.ndarray]
    fs_hz: dict[str, float]
    label: int | None = None
    annotations: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class AppOutput:
    """Decision of one window and the key intermediate signals (for float vs fixed comparison)."""

    decision: int
    intermediates: dict[str, np.ndarray] = field(default_factory=dict)


class App(ABC):
    """A BiomedBench application.

    Subclasses declare :attr:`info`, build their data and fit their classifier in :meth:`prepare`
    (training is part of the suite, never shipped constants), and implement :meth:`process`, calling
    profiled kernels inside ``profiler.phase(...)`` blocks.
    """

    info: AppInfo
    #: Fixed-point format of the signal path (None for floating-point applications).
    q: QFormat | None = None

    def __init__(self) -> None:
        self.synthetic = True
        self.data_source = "synthetic"
        self.test_windows: list[Window] = []

    @abstractmethod
    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> App:
        """Build training/test data, fit the classifier; ``quick`` shrinks the data for tests."""

    @abstractmethod
    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        """Run the pipeline on one validated window (kernels report to the active profiler)."""

    @abstractmethod
    def static_bytes(self) -> int:
        """Bytes of parameters and constant tables at the application's word size."""

    def scores(self, outputs: list[AppOutput]) -> dict[str, float]:
        """Application-specific quality figures of the test-window outputs (none by default)."""
        return {}

    @property
    def supports_fixed(self) -> bool:
        return self.q is not None

    @property
    def word_bytes(self) -> int:
        return 2 if self.info.arithmetic == "fx16" else 4

    def run(self, window: Window, fixed: bool = False) -> AppOutput:
        """Validate ``window`` against :attr:`info` and process it."""
        if fixed and not self.supports_fixed:
            raise ConfigError(f"{self.info.name} is a floating-point application; it has no fixed-point mode")
        validate_window(self.info, window)
        return self.process(window, fixed)


def validate_window(info: AppInfo, window: Window) -> None:
    """Check names, channel counts, sampling rates, lengths and finiteness of a window.

    Raises:
        DataError: naming the signal, what was expected and what was found.
    """
    for spec in info.signals:
        if spec.name not in window.signals:
            raise DataError(f"{info.name} needs a {spec.name!r} signal; got {sorted(window.signals)}")
        x = np.asarray(window.signals[spec.name])
        fs = window.fs_hz.get(spec.name)
        if fs is None or abs(fs - spec.fs_hz) > 1e-6 * spec.fs_hz:
            raise DataError(
                f"{info.name}: {spec.name} must be sampled at {spec.fs_hz:g} Hz, got {fs} Hz "
                "(resample it first, e.g. with biowear.signal.filters.resample)"
            )
        if x.ndim != 2 or x.shape[0] != spec.channels:
            raise DataError(
                f"{info.name}: {spec.name} must have {spec.channels} channel(s) as (channels, samples); "
                f"got shape {x.shape}"
            )
        if x.shape[1] != spec.samples:
            kind = "too short" if x.shape[1] < spec.samples else "too long"
            raise DataError(
                f"{info.name}: {spec.name} window is {kind}: {x.shape[1]} samples, expected "
                f"{spec.samples} ({spec.duration_s:g} s at {spec.fs_hz:g} Hz)"
            )
        if not np.all(np.isfinite(x)):
            raise DataError(f"{info.name}: {spec.name} contains NaN or infinite samples")
