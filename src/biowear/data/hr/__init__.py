"""PPG heart-rate data (issue 12): IEEE SPC 2015, PPG-DaLiA and WESAD recordings, their reference heart rate,
and the aligned 8 s / 2 s model windows.

* :class:`HRRecording`: one recording (PPG and accelerometer at their own rates, reference BPM per window).
* Readers: :func:`read_spc_recording` (both SPC 2015 layouts; :func:`find_spc_recordings` lists the files under
  the data root), :func:`read_dalia_pickle`, :func:`read_wesad_pickle` (restricted, code-free unpickling).
* :func:`recording_windows` / :func:`recordings_to_arrays`: model windows (default 32 Hz, PPG + acc x/y/z) as
  :class:`~biowear.data.arrays.ArrayData`, never normalised.
* Registered datasets ``ieee_spc2015``, ``ppg_dalia``, ``wesad_hr`` (:mod:`.datasets`) for ``DataConfig``.
"""

from __future__ import annotations

from biowear.data.hr.datasets import HRDataset, PPGDaliaDataset, SPC2015Dataset, WESADHRDataset
from biowear.data.hr.pickles import load_data_pickle
from biowear.data.hr.recording import HRRecording, window_count
from biowear.data.hr.reference import bpm_per_window, detect_rpeaks, ecg_reference_bpm
from biowear.data.hr.spc2015 import SPCFile, find_spc_recordings, read_spc_recording, subject_of, truth_path_for
from biowear.data.hr.windowing import (
    DEFAULT_CHANNELS,
    HR_CHANNELS,
    PPG_CHOICES,
    HRWindowConfig,
    recording_signals,
    recording_windows,
    recordings_to_arrays,
)
from biowear.data.hr.wrist_pickles import read_dalia_pickle, read_wesad_pickle

__all__ = [
    "DEFAULT_CHANNELS",
    "HRDataset",
    "HRRecording",
    "HRWindowConfig",
    "HR_CHANNELS",
    "PPGDaliaDataset",
    "PPG_CHOICES",
    "SPC2015Dataset",
    "SPCFile",
    "WESADHRDataset",
    "bpm_per_window",
    "detect_rpeaks",
    "ecg_reference_bpm",
    "find_spc_recordings",
    "load_data_pickle",
    "read_dalia_pickle",
    "read_spc_recording",
    "read_wesad_pickle",
    "recording_signals",
    "recording_windows",
    "recordings_to_arrays",
    "subject_of",
    "truth_path_for",
    "window_count",
]
