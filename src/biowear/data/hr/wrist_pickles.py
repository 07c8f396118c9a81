"""PPG-DaLiA and WESAD subject pickles (``SX.pkl``): wrist PPG (BVP, 64 Hz) and accelerometer (32 Hz).

Both are dicts saved by Python 2 (read with the restricted loader of :mod:`biowear.data.hr.pickles`):

* PPG-DaLiA (Reiss et al. 2019): ``data['signal']['wrist']['BVP']`` ``(n, 1)`` at 64 Hz,
  ``data['signal']['wrist']['ACC']`` ``(n, 3)`` at 32 Hz in 1/64 g, ``data['label']`` the ECG-derived heart
  rate per 8 s window with 2 s shift, ``data['subject']`` (``'S1'`` ...).
* WESAD (Schmidt et al. 2018): the same wrist signals, ``data['signal']['chest']['ECG']`` ``(n, 1)`` at
  700 Hz, ``data['label']`` the 700 Hz protocol condition (not a heart rate; unused here). The reference heart
  rate is derived from the chest ECG (:func:`biowear.data.hr.reference.ecg_reference_bpm`); windows without
  a usable ECG rate are flagged invalid.

Wrist and chest signals of one pickle start at the same instant, so window ``k`` is ``[2k, 2k + 8)`` s in
each. The accelerometer is converted to g (divided by 64).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from biowear.data.hr.pickles import load_data_pickle, pickle_array
from biowear.data.hr.recording import HRRecording
from biowear.data.hr.reference import ecg_reference_bpm
from biowear.errors import DataError

BVP_FS_HZ = 64.0
ACC_FS_HZ = 32.0
WESAD_ECG_FS_HZ = 700.0
#: E4 accelerometer codes per g.
ACC_CODES_PER_G = 64.0


def _wrist(path: Path, dataset: str, subject_id: str | None) -> tuple[dict, HRRecording]:
    src = str(path)
    doc = load_data_pickle(path)
    if not isinstance(doc, dict):
        raise DataError(f"{src}: the pickle must hold a dict with 'signal' and 'label', got {type(doc).__name__}")
    bvp = pickle_array(doc, ("signal", "wrist", "BVP"), src)
    acc = pickle_array(doc, ("signal", "wrist", "ACC"), src, ndim=(2,))
    if bvp.ndim == 2 and bvp.shape[1] != 1:
        raise DataError(f"{src}: data['signal']['wrist']['BVP'] must be (n, 1), got shape {bvp.shape}")
    subject = doc.get("subject")
    subject = subject.decode("latin1") if isinstance(subject, bytes) else subject
    rec = HRRecording(
        subject_id=subject_id or (str(subject) if isinstance(subject, str) and subject else path.stem),
        recording_id=path.stem,
        ppg=bvp.reshape(len(bvp), 1),
        ppg_fs_hz=BVP_FS_HZ,
        acc=acc / ACC_CODES_PER_G,
        acc_fs_hz=ACC_FS_HZ,
        source=src,
        dataset=dataset,
    )
    return doc, rec


def read_dalia_pickle(path: Path, subject_id: str | None = None, dataset: str = "ppg_dalia") -> HRRecording:
    """One PPG-DaLiA subject with its heart-rate labels (``data['label']``, one per 8 s / 2 s window).

    Raises:
        DataError: unreadable or unsafe pickle, missing keys, NaN/inf, a recording shorter than 8 s, or a
            label count that differs from the number of windows.
    """
    path = Path(path)
    doc, rec = _wrist(path, dataset, subject_id)
    label = pickle_array(doc, ("label",), str(path), ndim=(1, 2))
    return replace(rec, bpm=label.reshape(-1))


def read_wesad_pickle(path: Path, subject_id: str | None = None, dataset: str = "wesad_hr") -> HRRecording:
    """One WESAD subject with the reference heart rate derived from its chest ECG.

    Raises:
        DataError: unreadable or unsafe pickle, missing keys, NaN/inf (naming the channel), a recording
            shorter than 8 s, or an ECG the detector refuses.
    """
    path = Path(path)
    doc, rec = _wrist(path, dataset, subject_id)
    ecg = pickle_array(doc, ("signal", "chest", "ECG"), str(path)).reshape(-1)
    rec = replace(rec, ecg=ecg, ecg_fs_hz=WESAD_ECG_FS_HZ)
    bpm, valid = ecg_reference_bpm(ecg, WESAD_ECG_FS_HZ, rec.n_windows, rec.window_s, rec.shift_s, str(path))
    if not valid.any():
        raise DataError(f"{path}: no window of the chest ECG gives a heart rate in 30-230 BPM (no R-peaks found)")
    return replace(rec, bpm=bpm, bpm_valid=valid)
