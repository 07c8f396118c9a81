"""Heart-rate windows for the application: a registered heart-rate dataset, or one recording file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from biowear.data.datasets import DATASETS
from biowear.data.hr import (
    HRDataset,
    HRRecording,
    HRWindowConfig,
    read_spc_recording,
    recording_windows,
    recordings_to_arrays,
)
from biowear.errors import ConfigError
from biowear.hr.config import HRConfig
from biowear.hr.evaluate import HRWindows


def heart_rate_datasets() -> tuple[str, ...]:
    """Names of the registered datasets with PPG + accelerometer and a heart-rate reference."""
    return tuple(n for n in DATASETS.names() if isinstance(DATASETS.get(n), HRDataset))


def window_config(config: HRConfig) -> HRWindowConfig:
    """PPG (as ``config.ppg`` says) + accelerometer x/y/z at the model rate."""
    return HRWindowConfig.for_ppg(config.ppg, config.fs_hz)


def _windows_of(recordings: tuple[HRRecording, ...], config: HRConfig, key: str) -> HRWindows:
    arrays = recordings_to_arrays(recordings, window_config(config), name=config.dataset)
    # recordings_to_arrays keeps each recording's valid windows, in order: name them by recording too
    recording = np.repeat([r.recording_id for r in recordings], [int(np.sum(r.bpm_valid)) for r in recordings])
    return HRWindows(arrays.x, arrays.y, recording, arrays.groups, arrays.fs_hz, key)


def load_windows(config: HRConfig, root: Path | None = None) -> HRWindows:
    """Every recording of ``config.dataset`` with a reference, as model windows in time order.

    Raises:
        ConfigError: a dataset that is not a heart-rate dataset (listing those that are).
        DataError: missing or bad files (the dataset's reader says which and where it looked).
    """
    names = heart_rate_datasets()
    if config.dataset not in names:
        raise ConfigError(
            f"{config.dataset!r} is not a heart-rate dataset (PPG + accelerometer + reference); valid options "
            f"are: {', '.join(names)}"
        )
    dataset = DATASETS.get(config.dataset)
    assert isinstance(dataset, HRDataset)
    recordings = tuple(r for r in dataset.load_recordings(root=root) if r.has_reference)
    cfg = window_config(config)
    key = hashlib.sha256(f"{dataset.fingerprint(root)}:{cfg.fs_hz}:{cfg.channels}".encode()).hexdigest()[:16]
    return _windows_of(recordings, config, key)


def file_windows(path: Path, truth: Path | None, config: HRConfig) -> tuple[np.ndarray, np.ndarray | None, float]:
    """(windows, BPM0 or None, shift in s) of one SPC 2015 ``.mat`` recording (training or test layout)."""
    rec = read_spc_recording(path, truth)
    x = recording_windows(rec, window_config(config))
    return x, None if rec.bpm is None else np.asarray(rec.bpm, dtype=np.float64), rec.shift_s
