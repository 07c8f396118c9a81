from __future__ import annotations

from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare

#: Four MIT-BIH records with normal and anomalous beats, small enough for CI.
CI_RECORDS = ("100", "106", "119", "208")


def binary_beats(records: tuple[str, ...] = CI_RECORDS):
    """1 s beat-centred windows at 128 Hz with binary labels, random 70/10/20 split: (data, split)."""
    cfg = DataConfig(
        datasets=("mitdb",),
        labels="binary",
        records=records,
        fs_hz=128.0,
        window=WindowConfig(kind="beat", window_samples=128),
    )
    data = prepare(cfg)
    return data, make_split(data, SplitConfig(seed=0))
