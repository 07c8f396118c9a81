"""SYNTHETIC regression windows: noisy sinusoids whose frequency (Hz) is the target.

Made for demos and fast tests of regression tasks (the heart-rate-like problem of estimating a dominant
frequency from a window); every window is generated, none is recorded from a person.
"""

from __future__ import annotations

import numpy as np


def sine_windows(
    n_windows: int = 600,
    fs_hz: float = 64.0,
    window_samples: int = 256,
    freq_hz: tuple[float, float] = (0.8, 3.0),
    n_channels: int = 1,
    noise: float = 0.3,
    n_groups: int = 6,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Arrays in the ``.npz`` dataset layout: ``x`` (n, channels, samples) float32, ``y`` frequency in Hz
    (float32), ``groups`` (one "subject" id per window), ``fs_hz``, ``target``, ``unit`` and ``synthetic``
    (True: every output made from it is labelled SYNTHETIC).

    Each window is ``sin(2 pi f t + phase)`` plus its second harmonic at a random weight and white noise of
    standard deviation ``noise``; extra channels get their own phase and noise.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(window_samples) / fs_hz
    f = rng.uniform(*freq_hz, size=n_windows)
    phase = rng.uniform(0, 2 * np.pi, size=(n_windows, n_channels, 1))
    harmonic = rng.uniform(0.0, 0.5, size=(n_windows, 1, 1))
    arg = 2 * np.pi * f[:, None, None] * t[None, None, :] + phase
    x = np.sin(arg) + harmonic * np.sin(2 * arg) + noise * rng.standard_normal((n_windows, n_channels, window_samples))
    return {
        "x": x.astype(np.float32),
        "y": f.astype(np.float32),
        "groups": np.array([f"s{i % n_groups}" for i in range(n_windows)]),
        "fs_hz": np.array(fs_hz),
        "target": np.array("frequency"),
        "unit": np.array("Hz"),
        "synthetic": np.array(True),
    }
