"""Per-subject normalisation from a calibration segment that precedes the scored windows.

A device worn by a new subject can only calibrate on what it has already seen. So the statistics used to
normalise a test subject's windows may come only from a calibration segment that **ends before the first
scored window starts**; never from the subject's whole session (that would leak the test windows' own
level and spread into their features). :meth:`CalibrationNormaliser.fit` enforces this contract: it takes the
calibration segment and the start of the first scored window, and refuses a segment that reaches into the
scored part.

Example (z-score a subject's EDA with its first 120 s, score windows from 120 s on)::

    norm = CalibrationNormaliser.fit(eda_signal, calibration_s=(0.0, 120.0), first_scored_s=120.0)
    z = norm.transform(eda_signal.segment(120.0, 130.0).data)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from biowear.data.recordings.model import Signal
from biowear.errors import ConfigError, DataError


@dataclass(frozen=True)
class CalibrationNormaliser:
    """Per-channel ``(x - mean) / std`` with statistics taken from a calibration segment only.

    Attributes:
        mean: per-channel mean of the calibration samples.
        std: per-channel standard deviation (``floor`` where a channel is flat).
        calibration_s: ``(start, end)`` of the calibration segment, seconds of recording time.
        first_scored_s: the start of the first scored window; ``calibration_s[1] <= first_scored_s``.
        n_samples: calibration samples used per channel.
    """

    mean: np.ndarray
    std: np.ndarray
    calibration_s: tuple[float, float]
    first_scored_s: float
    n_samples: int

    @classmethod
    def fit(
        cls,
        signal: Signal,
        calibration_s: tuple[float, float],
        first_scored_s: float,
        floor: float = 1e-12,
    ) -> CalibrationNormaliser:
        """Statistics of ``signal`` over ``calibration_s``, checked to end no later than ``first_scored_s``.

        Args:
            signal: the subject's signal (recording time axis).
            calibration_s: ``(start, end)`` seconds of the calibration segment.
            first_scored_s: when the first scored window starts (seconds of recording time).
            floor: the smallest standard deviation used (flat channels are not blown up).

        Raises:
            ConfigError: the segment is empty or reversed, or it ends after ``first_scored_s`` (it would use
                scored data).
            DataError: the segment holds fewer than 2 samples of ``signal``.
        """
        start, end = (float(v) for v in calibration_s)
        if not end > start:
            raise ConfigError(f"calibration segment must end after it starts, got [{start:g}, {end:g}) s")
        if end > first_scored_s:
            raise ConfigError(
                f"calibration segment [{start:g}, {end:g}) s reaches into the scored windows, which start at "
                f"{first_scored_s:g} s; a device can only calibrate on data before it scores (never on the whole "
                "session of a test subject)"
            )
        part = signal.segment(start, end).data
        if len(part) < 2:
            raise DataError(
                f"{signal.source or signal.name}: calibration segment [{start:g}, {end:g}) s holds < 2 samples"
            )
        std = np.maximum(part.std(axis=0), floor)
        return cls(part.mean(axis=0), std, (start, end), float(first_scored_s), len(part))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Normalise ``x`` of shape ``(..., n_channels)`` (samples on any axis but the last)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != len(self.mean):
            raise ConfigError(f"expected {len(self.mean)} channels on the last axis, got shape {x.shape}")
        return (x - self.mean) / self.std

    def transform_signal(self, signal: Signal, start_s: float | None = None) -> Signal:
        """The normalised signal from ``start_s`` (default ``first_scored_s``) on, so no calibration sample is
        scored."""
        part = signal.segment(self.first_scored_s if start_s is None else start_s, signal.end_s)
        if part.start_s < self.calibration_s[1] - 1e-9:
            raise ConfigError(
                f"scored samples from {part.start_s:g} s overlap the calibration segment ending at "
                f"{self.calibration_s[1]:g} s"
            )
        return replace(part, data=self.transform(part.data), unit=f"z({signal.unit})" if signal.unit else "z")
