from __future__ import annotations

from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare


def binary_beat_task(dataset: str, records: tuple[str, ...]):
    """1 s beat-centred windows at 128 Hz with binary labels and a seeded random 70/10/20 split: (data, split)."""
    cfg = DataConfig(
        datasets=(dataset,),
        labels="binary",
        records=records,
        fs_hz=128.0,
        window=WindowConfig(kind="beat", window_samples=128),
    )
    data = prepare(cfg)
    return data, make_split(data, SplitConfig(seed=0))
