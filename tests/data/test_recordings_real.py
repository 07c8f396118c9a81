"""The recording datasets on the real files under the data root (one record each, to stay fast), checked against
the figures of each folder's README, and a copied subset of each folder under new names (as ``--data-dir``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from biowear.data.recordings import RECORDINGS, resample_recording
from tests.data.recordings_helpers import require_recordings

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("name", RECORDINGS.names())
def test_describe_reports_rates_channels_subjects_and_label_source(name):
    ds = require_recordings(name)
    summary = ds.describe(probe=True)  # loads the first record
    assert summary.available and summary.records == ds.record_ids() and summary.subjects == ds.subjects()
    assert summary.signals and all(s.channels for s in summary.signals) and summary.label_source
    for spec in summary.signals:  # declared rates are the rates read
        if spec.fs_hz and spec.name in summary.measured:
            assert summary.measured[spec.name][0] == spec.fs_hz, spec.name
    assert summary.measured
    json.dumps(summary.as_dict())  # JSON-friendly
    assert ds.fingerprint() == ds.fingerprint()
    rec = ds.load_recording(summary.records[0])
    assert (rec.dataset, rec.record_id, rec.subject) == (name, summary.records[0], ds.group_of(rec.record_id))
    assert all(np.all(np.isfinite(s.data)) for s in rec.signals.values())
    assert rec.intervals and all(iv.label in ds.label_names for iv in rec.intervals)


def test_szdb_record_seizures_beats_and_patients():
    ds = require_recordings("szdb")
    assert ds.record_ids() == tuple(f"sz0{i}" for i in range(1, 8))
    assert ds.subjects() == ("sz01", "sz02-04", "sz05", "sz06", "sz07")  # sz02-sz04: one woman
    rec = ds.load_recording("sz01")
    ecg = rec.signal("ecg")
    assert (ecg.fs_hz, ecg.n_samples, ecg.channels, ecg.unit) == (200.0, 1_079_998, ("ECG",), "mV")
    assert ecg.data.min() >= -100 / 25 and ecg.data.max() <= 155 / 25  # 8-bit codes at 25 adu/mV
    assert [(iv.label, iv.start_s, iv.end_s) for iv in rec.intervals] == [("seizure", 876.0, 972.0)]
    assert len(rec.events["beats"]) == 8377 and rec.events["beats"].symbols[:50] == ("?",) * 50
    assert rec.overlapping(840.0, 900.0) and not rec.overlapping(0.0, 60.0)
    at64 = resample_recording(rec, {"ecg": 64.0}).signal("ecg")
    assert at64.fs_hz == 64.0 and at64.n_samples == int(np.ceil(1_079_998 * 8 / 25))


def test_szdb_record_without_waveform_keeps_beats_and_seizures():
    rec = require_recordings("szdb").load_recording("sz02")
    assert rec.signals == {} and rec.meta["signal_files_missing"] == ["sz02.dat"]
    assert rec.duration_s == pytest.approx(2_519_998 / 200) and rec.subject == "sz02-04"
    assert len(rec.events["beats"]) == 13145
    assert [(iv.start_s, iv.end_s) for iv in rec.intervals] == [(3763.0, 3823.0), (10551.0, 10576.0)]


def test_eegmat_task_file():
    ds = require_recordings("eegmat")
    assert ds.subjects() == ("Subject02", "Subject03", "Subject04", "Subject05") and len(ds.record_ids()) == 8
    rec = ds.load_recording("Subject02_2")
    eeg = rec.signal("eeg")
    assert (eeg.fs_hz, eeg.n_samples, len(eeg.channels), eeg.unit) == (500.0, 31000, 19, "uV")
    assert eeg.channels[:2] == ("Fp1", "Fp2") and eeg.channels[-1] == "Pz"
    assert rec.signal("ecg").channels == ("ECG",) and rec.signal("eeg_ref").channels == ("A2-A1",)
    assert [(iv.label, iv.code, iv.end_s) for iv in rec.intervals] == [("task", 1, 62.0)]
    rms = float(np.sqrt(np.mean(eeg.data**2)))
    assert 5 < rms < 30  # README: 10.9 uV
    four = resample_recording(rec.with_signals({"eeg": eeg.select(("Fp1", "Fp2", "F3", "F4"))}), {"eeg": 256.0})
    assert four.signal("eeg").data.shape == (15872, 4)


def test_emg_gestures_series_dedup_and_labels():
    ds = require_recordings("emg_gestures")
    assert ds.record_ids() == ("06_1", "06_2", "28_1", "28_2", "31_1", "31_2") and ds.subjects() == ("06", "28", "31")
    rec = ds.load_recording("06_1")
    emg = rec.signal("emg")
    assert rec.meta["rows"] == 51078 and 940 < rec.meta["log_rate_hz"] < 970
    assert 95 < emg.fs_hz < 115 and emg.n_samples == rec.meta["samples_kept"]
    assert emg.data.min() >= -128 and emg.data.max() <= 127 and np.all(emg.data == np.round(emg.data))
    gestures = [iv for iv in rec.intervals if iv.code != 0]
    assert sorted(iv.code for iv in gestures) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]  # two segments each
    assert all(1.0 < iv.duration_s < 2.5 for iv in gestures)
    rest = np.mean([np.abs(emg.segment(iv.start_s, iv.end_s).data).mean() for iv in gestures if iv.code == 1])
    fist = np.mean([np.abs(emg.segment(iv.start_s, iv.end_s).data).mean() for iv in gestures if iv.code == 2])
    assert fist > 3 * rest  # README: gesture/rest MAV ratio ~7 for 06/1


def test_coswara_clips_and_labels():
    ds = require_recordings("coswara")
    ids = ds.record_ids()
    assert len(ids) == 30 and len(ds.subjects()) == 6
    assert sum(ds.load_recording(i).intervals[0].label == "cough" for i in ids if i.startswith("0Rl")) == 2
    rec = ds.load_recording("0Rlzhiz6bybk77wdLjxwy7yLDhg1/cough-heavy")
    audio = rec.signal("audio")
    assert (audio.fs_hz, audio.n_samples) == (48000.0, 249856) and rec.meta["subtype"] == "PCM_16"
    assert np.abs(audio.data).max() == pytest.approx(32767 / 32768)  # README: reaches full scale
    assert resample_recording(rec, {"audio": 16000.0}).signal("audio").n_samples == int(np.ceil(249856 / 3))


def test_wesad_subject_signals_and_protocol_labels():
    ds = require_recordings("wesad")
    assert ds.record_ids() == tuple(f"S{i}" for i in (*range(2, 12), *range(13, 18)))
    rec = ds.load_recording("S2")
    counts = {k: (s.fs_hz, s.n_samples) for k, s in rec.signals.items()}
    assert counts == {"acc": (32.0, 251970), "bvp": (64.0, 503943), "eda": (4.0, 31494), "temp": (4.0, 31496)}
    assert rec.meta["start_unix_s"] == 1495437325.0 and rec.duration_s == pytest.approx(131.2 * 60, abs=6)
    assert [iv.label for iv in rec.intervals] == ["baseline", "stress", "meditation", "amusement", "meditation"]
    assert (rec.intervals[0].start_s, rec.intervals[0].end_s) == (1851.77, 2995.77)
    eda = rec.signal("eda")
    base, stress = (float(eda.segment(iv.start_s, iv.end_s).data.mean()) for iv in rec.intervals[:2])
    assert stress > base  # README: higher in stress in 14/15 subjects (S2 included)


def test_ppg_dalia_zip_and_activities():
    ds = require_recordings("ppg_dalia")
    assert ds.record_ids() == ("S3",)
    rec = ds.load_recording("S3")
    counts = {k: (s.fs_hz, s.n_samples) for k, s in rec.signals.items()}
    assert counts == {"acc": (32.0, 283332), "bvp": (64.0, 566665), "eda": (4.0, 35418), "temp": (4.0, 35416)}
    assert len(rec.events["ibi"]) == 3338 and rec.events["tags"].times_s[0] == pytest.approx(8853.66, abs=0.01)
    stairs = next(iv for iv in rec.intervals if iv.label == "stairs")
    base = next(iv for iv in rec.intervals if iv.label == "baseline")
    assert (stairs.start_s, stairs.end_s) == (961.0, 1397.0)  # activity time + 110 s
    acc = rec.signal("acc")

    def motion(iv):  # median over 8 s windows of the std of |acc| (g)
        mag = np.linalg.norm(acc.segment(iv.start_s, iv.end_s).data, axis=1)
        return float(np.median(mag[: len(mag) // 256 * 256].reshape(-1, 256).std(axis=1)))

    assert motion(stairs) > 10 * motion(base)  # README: wrist motion follows the protocol with the +110 s offset


# ------------------------------------------------------------------------------------------------ --data-dir copies
def _copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def test_copied_subsets_under_new_names_load_like_the_originals(tmp_path):
    """What ``bench --data-dir`` does: a user's folder of the same format, other names, fewer records."""
    names = {n: require_recordings(n) for n in ("szdb", "eegmat", "emg_gestures", "coswara", "wesad", "ppg_dalia")}
    # szdb: sz01 -> patient_x, with its own times.seize
    src = names["szdb"].directory()
    for ext in ("hea", "dat", "ari"):
        _copy(src / f"sz01.{ext}", tmp_path / "ecg" / f"patient_x.{ext}")
    hea = tmp_path / "ecg" / "patient_x.hea"
    hea.write_bytes(hea.read_bytes().replace(b"sz01", b"patient_x"))
    (tmp_path / "ecg" / "times.seize").write_text("patient_x 00:14:36 00:16:12\nsz09 00:00:01 00:00:02\n")
    rec = names["szdb"].at(tmp_path / "ecg").load_recording("patient_x")
    assert rec.signal("ecg").n_samples == 1_079_998 and [iv.start_s for iv in rec.intervals] == [876.0]
    # eegmat: one subject's pair under a new name
    for cond in ("1", "2"):
        _copy(names["eegmat"].directory() / f"Subject03_{cond}.edf", tmp_path / "eeg" / f"anna_{cond}.edf")
    eeg = names["eegmat"].at(tmp_path / "eeg")
    assert eeg.subjects() == ("anna",) and eeg.load_recording("anna_2").intervals[0].label == "task"
    # emg: a new subject folder
    _copy(
        names["emg_gestures"].directory() / "28" / "2_raw_data_12-11_15.04.16.txt",
        tmp_path / "emg" / "kim" / "2_raw_data_mine.txt",
    )
    emg = names["emg_gestures"].at(tmp_path / "emg")
    assert emg.record_ids() == ("kim_2",) and emg.load_recording("kim_2").meta["rows"] == 47253
    # coswara: two clips, no batch folder
    pid = "g6L8s5Dtq8eIYUTeRWHq0Q7w5L32"
    for clip in ("cough-shallow", "vowel-a"):
        _copy(
            names["coswara"].directory() / "20200413" / pid / f"{clip}.wav", tmp_path / "audio" / "me" / f"{clip}.wav"
        )
    audio = names["coswara"].at(tmp_path / "audio")
    assert audio.record_ids() == ("me/cough-shallow", "me/vowel-a") and audio.subjects() == ("me",)
    # wesad: S3 as P01, with the table rows renamed
    wsrc = names["wesad"].directory()
    for f in (wsrc / "S3" / "S3_E4_Data").iterdir():
        _copy(f, tmp_path / "wesad" / "P01" / "P01_E4_Data" / f.name)
    _copy(wsrc / "S3" / "S3_quest.csv", tmp_path / "wesad" / "P01" / "P01_quest.csv")
    table = (wsrc / "derived" / "e4_condition_intervals.csv").read_text().splitlines()
    keep = [ln.replace("S3,", "P01,") for ln in table if ln.startswith(("#", "subject", "S3,"))]
    (tmp_path / "wesad" / "derived").mkdir()
    (tmp_path / "wesad" / "derived" / "e4_condition_intervals.csv").write_text("\n".join(keep) + "\n")
    w = names["wesad"].at(tmp_path / "wesad").load_recording("P01")
    assert w.signal("bvp").n_samples == 494307 and len(w.intervals) == 5
    # ppg_dalia: the zip under a new subject name
    _copy(names["ppg_dalia"].directory() / "S3" / "S3_E4.zip", tmp_path / "dalia" / "U7" / "U7_E4.zip")
    d = names["ppg_dalia"].at(tmp_path / "dalia").load_recording("U7")
    assert d.signal("acc").n_samples == 283332 and d.intervals == () and d.label_source == "none"
