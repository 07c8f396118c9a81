"""A generated WFDB folder: 2 records, 3 channels at 200 Hz, a beat code ``Z`` unknown to MIT-BIH, and protocol
notes ``Relax`` / ``Stress`` / ``Break`` on ``"`` comment annotations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FS_HZ = 200
DURATION_S = 60
CHANNELS = ("I", "II", "V5")
#: Protocol notes (second, text): Relax from 0 s, Stress from 30 s, an unmapped Break from 50 s.
NOTES = ((0.01, "Relax"), (30.0, "Stress"), (50.0, "Break"))


def CUSTOM_LABELS():  # noqa: N802 - reads as a constant
    """wfdb needs a definition for a symbol outside its table (else it writes it as a ``"`` note)."""
    import pandas as pd

    return pd.DataFrame({"label_store": [42], "symbol": ["Z"], "description": ["odd beat"]})


def beat_plan(seed: int) -> tuple[np.ndarray, list[str]]:
    """Beat samples (every 0.8 s) and symbols (every 5th a ``Z``)."""
    samples = np.arange(int(0.5 * FS_HZ), DURATION_S * FS_HZ - FS_HZ, int(0.8 * FS_HZ))
    symbols = ["Z" if (k + seed) % 5 == 0 else "N" for k in range(len(samples))]
    return samples, symbols


def write_folder(folder: Path, names: tuple[str, ...] = ("alpha", "beta")) -> Path:
    """Write the records ``names`` into ``folder``; channel k carries the constant offset 10 k mV (plus beats)."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    n = DURATION_S * FS_HZ
    for seed, name in enumerate(names):
        samples, symbols = beat_plan(seed)
        rng = np.random.default_rng(seed)
        base = np.zeros(n)
        for s, sym in zip(samples, symbols):
            base[s - 4 : s + 4] += 1.0 if sym == "N" else -1.5
        signal = np.stack([base + 10.0 * k + 0.01 * rng.normal(size=n) for k in range(len(CHANNELS))], axis=1)
        wfdb.wrsamp(
            name,
            fs=FS_HZ,
            units=["mV"] * 3,
            sig_name=list(CHANNELS),
            p_signal=signal,
            fmt=["16"] * 3,
            adc_gain=[200.0] * 3,
            baseline=[0] * 3,
            write_dir=str(folder),
        )
        events = [(int(s), sym, "") for s, sym in zip(samples, symbols)]
        events += [(int(t * FS_HZ) + 1, '"', text) for t, text in NOTES]
        events.sort()
        wfdb.wrann(
            name,
            "atr",
            np.array([e[0] for e in events]),
            symbol=[e[1] for e in events],
            aux_note=[e[2] for e in events],
            custom_labels=CUSTOM_LABELS(),
            write_dir=str(folder),
        )
    return folder
