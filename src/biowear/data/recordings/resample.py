"""Resampling a recording's signals to the rate an application asks for, with scipy's polyphase filter.

``scipy.signal.resample_poly(x, up, down)`` changes the rate by the rational factor ``up / down`` with a
Kaiser-windowed FIR anti-aliasing filter. The ratio ``fs_out / fs_in`` is approximated by the closest
fraction whose denominator is at most ``max_denominator`` (:func:`rational_ratio`); the rate actually reached
is ``fs_in * up / down``, which is what the returned signal carries in ``fs_hz``. For the rates here the
approximation is exact (200 -> 64 Hz is 8/25, 500 -> 256 Hz is 64/125, 48 kHz -> 16 kHz is 1/3, 64 -> 200 Hz
is 25/8); for a detected rate such as the UCI EMG's 99.9 Hz it is the nearest fraction, and
:class:`ResampleRatio` states the relative rate error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from biowear.data.recordings.model import Recording, Signal
from biowear.errors import ConfigError

#: Largest denominator of the up/down ratio (keeps the polyphase filter short).
MAX_DENOMINATOR = 1000


@dataclass(frozen=True)
class ResampleRatio:
    """The factor ``up / down`` that approximates ``fs_out_hz / fs_in_hz``.

    Attributes:
        fs_in_hz: the input rate.
        fs_asked_hz: the rate asked for.
        up: interpolation factor.
        down: decimation factor.
    """

    fs_in_hz: float
    fs_asked_hz: float
    up: int
    down: int

    @property
    def fs_out_hz(self) -> float:
        """The rate reached: ``fs_in_hz * up / down``."""
        return self.fs_in_hz * self.up / self.down

    @property
    def rate_error(self) -> float:
        """Relative difference between the reached and the asked rate (0 when exact)."""
        return abs(self.fs_out_hz - self.fs_asked_hz) / self.fs_asked_hz

    def __str__(self) -> str:
        exact = "exact" if self.rate_error == 0 else f"rate error {self.rate_error:.2e}"
        return f"{self.fs_in_hz:g} Hz x {self.up}/{self.down} = {self.fs_out_hz:g} Hz ({exact})"


def rational_ratio(fs_in_hz: float, fs_out_hz: float, max_denominator: int = MAX_DENOMINATOR) -> ResampleRatio:
    """The fraction ``up / down`` (``down <= max_denominator``) closest to ``fs_out_hz / fs_in_hz``.

    Raises:
        ConfigError: a rate is not positive and finite.
    """
    for name, fs in (("input", fs_in_hz), ("output", fs_out_hz)):
        if not (np.isfinite(fs) and fs > 0):
            raise ConfigError(f"the {name} sampling rate must be positive and finite, got {fs} Hz")
    ratio = Fraction(fs_out_hz / fs_in_hz).limit_denominator(max_denominator)
    if ratio.numerator == 0:
        raise ConfigError(f"cannot resample {fs_in_hz:g} Hz to {fs_out_hz:g} Hz: the ratio rounds to 0")
    return ResampleRatio(float(fs_in_hz), float(fs_out_hz), ratio.numerator, ratio.denominator)


def resample_signal(signal: Signal, fs_hz: float, max_denominator: int = MAX_DENOMINATOR) -> Signal:
    """``signal`` at ``fs_hz`` (polyphase, see the module docstring); unchanged when already there.

    The result's ``fs_hz`` is the rate reached (``fs_in * up / down``), its ``start_s`` is kept, and its data
    is float64.
    """
    ratio = rational_ratio(signal.fs_hz, fs_hz, max_denominator)
    if ratio.up == ratio.down:
        return signal
    from scipy.signal import resample_poly

    data = resample_poly(np.asarray(signal.data, dtype=np.float64), ratio.up, ratio.down, axis=0)
    return replace(signal, data=data, fs_hz=ratio.fs_out_hz)


def resample_recording(
    recording: Recording, rates_hz: Mapping[str, float], max_denominator: int = MAX_DENOMINATOR
) -> Recording:
    """The recording with each signal named in ``rates_hz`` resampled to its rate (others dropped).

    Args:
        recording: the recording.
        rates_hz: signal name -> rate the application asks for (e.g. ``{"ecg": 64.0}`` for SeizureDetSVM).

    Raises:
        DataError: a named signal is missing (the message lists the recording's signals).
        ConfigError: a rate is not positive.
    """
    return recording.with_signals(
        {name: resample_signal(recording.signal(name), fs, max_denominator) for name, fs in rates_hz.items()}
    )
