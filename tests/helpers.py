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


def synthetic_beat_folder(folder, seed: int, records: tuple[str, ...] = ("r1", "r2"), duration_s: float = 60.0):
    """A WFDB folder of SYNTHETIC ECG records (one seed each from ``seed``) and the binary 128-sample beat-window
    recipe that reads it: the DataConfig."""
    from biowear.data import SyntheticECGConfig, generate_record
    from biowear.data.wfdb_source import write_wfdb_record

    for i, rid in enumerate(records):
        write_wfdb_record(generate_record(rid, seed=seed + i, config=SyntheticECGConfig(duration_s=duration_s)), folder)
    return DataConfig(sources={"beats": str(folder)}, labels="binary", fs_hz=128.0,
                      window=WindowConfig(kind="beat", window_samples=128))  # fmt: skip
