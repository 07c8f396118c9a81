from __future__ import annotations

from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare


def synthetic_binary(records: tuple[str, ...]):
    """Beat-centred synthetic ECG (binary labels, 128 samples at 128 Hz): data, split, training arrays."""
    cfg = DataConfig(
        datasets=("synthetic_ecg",),
        labels="binary",
        records=records,
        fs_hz=128.0,
        window=WindowConfig(kind="beat", window_samples=128),
    )
    data = prepare(cfg)
    split = make_split(data, SplitConfig(seed=0))
    return data, split, (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
