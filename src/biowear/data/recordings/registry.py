"""The registered recording datasets (:data:`RECORDINGS`), one per real-data folder of the data root."""

from __future__ import annotations

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.gestures_audio import CoswaraDataset, EMGGesturesDataset
from biowear.data.recordings.physionet import EEGMatDataset, SeizureECGDataset
from biowear.data.recordings.wrist import PPGDaliaE4Dataset, WESADDataset
from biowear.registry import Registry

#: Recording datasets by name (the folder name under the data root).
RECORDINGS: Registry[RecordingDataset] = Registry("recording dataset")
RECORDINGS.register("szdb", SeizureECGDataset())
RECORDINGS.register("eegmat", EEGMatDataset())
RECORDINGS.register("emg_gestures", EMGGesturesDataset())
RECORDINGS.register("coswara", CoswaraDataset())
RECORDINGS.register("wesad", WESADDataset())
RECORDINGS.register("ppg_dalia", PPGDaliaE4Dataset())


def get_recordings(name: str) -> RecordingDataset:
    """The registered recording dataset ``name`` (the error lists the valid names)."""
    return RECORDINGS.get(name)
