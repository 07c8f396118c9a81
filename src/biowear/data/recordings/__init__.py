"""Real-data recordings in the formats wearable and clinical datasets ship: Empatica E4 CSV folders and zips,
EDF, WAV, the UCI EMG text log and WFDB with a ``times.seize`` file, as dataset plugins with labels whose
source is stated.

The model (:mod:`.model`):

* :class:`Recording`: one record of one subject: ``signals`` (name -> :class:`Signal`, each at its own rate),
  ``intervals`` (labelled spans, :class:`Interval`), ``label_source``, ``events`` (beats, E4 IBI/tags),
  ``meta``. ``recording.signal("bvp")`` and ``signal.select(("Fp1", "Fp2"))`` raise one
  :class:`~biowear.errors.DataError` listing what exists; ``recording.overlapping(t0, t1)`` gives the
  intervals a window touches (e.g. seizure overlap).
* :class:`RecordingDataset`: ``record_ids()``, ``subjects()``, ``group_of(id)`` (subject, for splits),
  ``load_recording(id)``, ``recordings()``, ``describe(probe=False) -> DatasetSummary`` (rates, channels,
  subjects, label source; ``.as_dict()`` for JSON), ``available()``, ``fingerprint()``, and ``at(path)``: the
  same format read from a user's folder (records are discovered by file pattern, so renamed or partial copies
  load).

Registered in :data:`RECORDINGS` (folder names under ``BIOWEAR_DATA``):

=============  ==============================================  =====================================================
name           signals (rate)                                   labels (source)
=============  ==============================================  =====================================================
szdb           ecg (200 Hz, absent for sz02/03/06), beats       seizure intervals (times.seize); patient sz02-04
eegmat         eeg 19 leads, eeg_ref, ecg (500 Hz)              rest/task over the whole file (file name _1/_2)
emg_gestures   emg 8 ch (detected ~100-110 Hz, de-duplicated)   gesture runs (UCI class column)
coswara        audio (48 kHz)                                   cough/non_cough per clip (clip file name)
wesad          acc 32, bvp 64, eda 4, temp 4 Hz (E4)            baseline/stress/amusement/meditation (protocol table)
ppg_dalia      acc 32, bvp 64, eda 4, temp 4 Hz (E4 zip)        activities (SX_activity.csv, +110 s estimated)
=============  ==============================================  =====================================================

Helpers: :func:`resample_signal` / :func:`resample_recording` (scipy ``resample_poly``, ratio by
:func:`rational_ratio`), :class:`CalibrationNormaliser` (per-subject statistics from a calibration segment
that ends before the first scored window), and the readers :func:`read_e4`, :func:`read_edf`, :func:`read_wav`,
:func:`read_uci_emg`, :func:`read_wfdb`, :func:`read_seizure_times`.
"""

from __future__ import annotations

from biowear.data.recordings.base import RecordingDataset
from biowear.data.recordings.e4 import E4_SIGNALS, E4Session, read_e4
from biowear.data.recordings.edf import EDFSignal, check_edf_size, read_edf
from biowear.data.recordings.gestures_audio import CoswaraDataset, EMGGesturesDataset, cough_label
from biowear.data.recordings.model import DatasetSummary, Events, Interval, Recording, Signal, SignalSpec
from biowear.data.recordings.normalise import CalibrationNormaliser
from biowear.data.recordings.physionet import EEGMatDataset, SeizureECGDataset
from biowear.data.recordings.registry import RECORDINGS, get_recordings
from biowear.data.recordings.resample import ResampleRatio, rational_ratio, resample_recording, resample_signal
from biowear.data.recordings.seizure_times import WFDBContents, read_seizure_times, read_wfdb
from biowear.data.recordings.uci_emg import GESTURES, EMGLog, read_uci_emg
from biowear.data.recordings.wav import Audio, read_wav
from biowear.data.recordings.wrist import PPGDaliaE4Dataset, WESADDataset, read_activity, read_quest

__all__ = [
    "Audio",
    "CalibrationNormaliser",
    "CoswaraDataset",
    "DatasetSummary",
    "E4Session",
    "E4_SIGNALS",
    "EDFSignal",
    "EEGMatDataset",
    "EMGGesturesDataset",
    "EMGLog",
    "Events",
    "GESTURES",
    "Interval",
    "PPGDaliaE4Dataset",
    "RECORDINGS",
    "Recording",
    "RecordingDataset",
    "ResampleRatio",
    "SeizureECGDataset",
    "Signal",
    "SignalSpec",
    "WESADDataset",
    "WFDBContents",
    "check_edf_size",
    "cough_label",
    "get_recordings",
    "rational_ratio",
    "read_activity",
    "read_e4",
    "read_edf",
    "read_quest",
    "read_seizure_times",
    "read_uci_emg",
    "read_wav",
    "read_wfdb",
    "resample_recording",
    "resample_signal",
]
