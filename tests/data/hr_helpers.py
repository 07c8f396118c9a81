"""Small PPG-DaLiA and WESAD subject pickles in exactly the real layout (seeded, synthetic signals)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

BVP_HZ, ACC_HZ, ECG_HZ = 64.0, 32.0, 700.0


def pulse_ppg(duration_s: float, hr_bpm: float, seed: int = 0) -> np.ndarray:
    """A sine PPG at ``hr_bpm`` sampled at 64 Hz, ``(n, 1)``, with a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * BVP_HZ)) / BVP_HZ
    return (80 * np.sin(2 * np.pi * hr_bpm / 60 * t) + rng.normal(0, 2, t.size))[:, None]


def acc_codes(duration_s: float, seed: int = 0) -> np.ndarray:
    """E4 accelerometer codes (1/64 g) at 32 Hz, ``(n, 3)``: gravity on z plus noise."""
    rng = np.random.default_rng(seed + 1)
    n = int(duration_s * ACC_HZ)
    return np.round(rng.normal(0, 3, (n, 3)) + np.array([0.0, 0.0, 64.0]))


def spike_ecg(beat_times_s: np.ndarray, duration_s: float, seed: int = 0) -> np.ndarray:
    """A 700 Hz ECG of R-peak-like spikes (10 ms Gaussian, 1 mV) at ``beat_times_s``, with small T waves and
    noise, ``(n, 1)``."""
    rng = np.random.default_rng(seed + 2)
    t = np.arange(int(duration_s * ECG_HZ)) / ECG_HZ
    x = rng.normal(0, 0.01, t.size)
    for b in beat_times_s:
        near = np.abs(t - b) < 0.4
        x[near] += np.exp(-0.5 * ((t[near] - b) / 0.01) ** 2) + 0.2 * np.exp(-0.5 * ((t[near] - b - 0.25) / 0.04) ** 2)
    return x[:, None]


def write_pickle(path: Path, doc: dict, numpy1_paths: bool = True) -> Path:
    """Pickle ``doc`` with protocol 2 as Python 2 / numpy 1 wrote the real files (``numpy.core.multiarray``
    globals when ``numpy1_paths``)."""
    blob = pickle.dumps(doc, protocol=2)
    if numpy1_paths:
        blob = blob.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return path


def dalia_doc(subject: str, duration_s: float = 60.0, hr_bpm: float = 90.0, seed: int = 0) -> dict:
    """A PPG-DaLiA subject dict: BVP 64 Hz, ACC 32 Hz (codes), label = ``hr_bpm`` per 8 s / 2 s window."""
    n_windows = int((duration_s - 8) // 2) + 1
    return {
        "subject": subject,
        "signal": {
            "wrist": {"BVP": pulse_ppg(duration_s, hr_bpm, seed), "ACC": acc_codes(duration_s, seed)},
            "chest": {"ECG": np.zeros((int(duration_s * ECG_HZ), 1))},
        },
        "label": np.full(n_windows, hr_bpm),
        "activity": np.zeros((int(duration_s * 4), 1)),
    }


def wesad_doc(subject: str, beat_times_s: np.ndarray, duration_s: float, hr_ppg: float = 75.0, seed: int = 0) -> dict:
    """A WESAD subject dict: wrist BVP/ACC, chest ECG 700 Hz with beats at ``beat_times_s``, 700 Hz labels."""
    n700 = int(duration_s * ECG_HZ)
    return {
        "subject": subject,
        "signal": {
            "wrist": {"BVP": pulse_ppg(duration_s, hr_ppg, seed), "ACC": acc_codes(duration_s, seed)},
            "chest": {"ECG": spike_ecg(beat_times_s, duration_s, seed), "ACC": np.zeros((n700, 3))},
        },
        "label": np.ones(n700, dtype=np.int64),
    }
