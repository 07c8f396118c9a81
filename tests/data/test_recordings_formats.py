"""The format readers and dataset plugins on small files the tests write, and one clear error for each kind of
bad input: a wrong or missing sampling rate, a missing channel, a truncated EDF/WAV/E4 file, and label files
that do not match the recording."""

from __future__ import annotations

import lzma
import re
from dataclasses import replace

import numpy as np
import pytest

from biowear.data.recordings import (
    RECORDINGS,
    CoswaraDataset,
    EEGMatDataset,
    EMGGesturesDataset,
    PPGDaliaE4Dataset,
    SeizureECGDataset,
    WESADDataset,
    read_e4,
    read_edf,
    read_uci_emg,
    read_wav,
)
from biowear.errors import BiowearError, ConfigError, DataError
from tests.data.recordings_helpers import (
    WESAD_TABLE,
    e4_csv,
    e4_files,
    uci_rows,
    write_e4_folder,
    write_e4_zip,
    write_edf,
    write_szdb,
    write_wav,
    write_wesad,
)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert isinstance(exc.value, BiowearError) and "\n" not in msg
    return msg


# ============================================================================================== E4
def test_e4_folder_zip_and_xz_read_the_same(tmp_path):
    files = e4_files(duration_s=20.0)
    folder = read_e4(write_e4_folder(tmp_path / "f", files))
    zipped = read_e4(write_e4_zip(tmp_path / "z" / "S9_E4.zip", files))
    xz = tmp_path / "x"
    xz.mkdir()
    for name, text in files.items():
        (xz / (name + ".xz" if name[:3] in ("ACC", "BVP", "EDA", "TEM") else name)).write_bytes(
            lzma.compress(text.encode()) if name[:3] in ("ACC", "BVP", "EDA", "TEM") else text.encode()
        )
    for session in (folder, zipped, read_e4(xz)):
        assert {k: (s.fs_hz, s.n_samples) for k, s in session.signals.items()} == {
            "acc": (32.0, 640),
            "bvp": (64.0, 1280),
            "eda": (4.0, 80),
            "temp": (4.0, 80),
        }
        assert session.start_unix_s == 1_500_000_000.0
        assert session.signals["acc"].channels == ("x", "y", "z") and session.signals["acc"].unit == "g"
        assert np.array_equal(session.signals["acc"].data, folder.signals["acc"].data)
        assert np.allclose(session.events["ibi"].times_s, [1.5, 2.3]) and np.allclose(session.events["ibi"].values, 0.8)
        assert np.allclose(session.events["tags"].times_s, [30.5])


def test_crlf_copies_read_like_lf(tmp_path):
    files = e4_files(duration_s=8.0)
    crlf = {k: v.replace("\n", "\r\n") for k, v in files.items()}
    a, b = read_e4(write_e4_folder(tmp_path / "lf", files)), read_e4(write_e4_folder(tmp_path / "crlf", crlf))
    assert all(np.array_equal(a.signals[k].data, b.signals[k].data) for k in a.signals)
    text, codes = uci_rows(n_samples=30, hold=4)
    (tmp_path / "emg.txt").write_text(text.replace("\n", "\r\n"))
    assert np.array_equal(read_uci_emg(tmp_path / "emg.txt").codes, codes)


def test_e4_acc_is_converted_to_g(tmp_path):
    files = e4_files(duration_s=2.0)
    files["ACC.csv"] = e4_csv("ACC", np.tile([[64, -32, 0]], (64, 1)))
    s = read_e4(write_e4_folder(tmp_path / "f", files))
    assert np.allclose(s.signals["acc"].data[0], [1.0, -0.5, 0.0])


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.split("\n", 1)[0] + "\n", r"BVP\.csv: sampling rate missing"),  # header line 2 absent
        (lambda t: t.replace("64.000000", "0.000000", 1), r"BVP\.csv: sampling rate on line 2 must be positive"),
        (lambda t: t.replace("64.000000", "abc", 1), r"BVP\.csv: line 2 \(sampling rate, Hz\) must hold"),
        (
            lambda t: t.replace("64.000000", "128.000000", 1),
            r"BVP\.csv: line 2 gives a sampling rate of 128 Hz but BVP is expected at 64 Hz",
        ),
        (lambda t: "", r"BVP\.csv: empty file"),
    ],
)
def test_e4_bad_rate_header(tmp_path, edit, match):
    files = e4_files(duration_s=10.0)
    files["BVP.csv"] = edit(files["BVP.csv"])
    write_e4_zip(tmp_path / "S1" / "S1_E4.zip", files)
    ds = PPGDaliaE4Dataset().at(tmp_path)
    with pytest.raises(DataError) as exc:
        ds.load_recording("S1")
    assert "S1_E4.zip" in _one_line(exc)
    assert exc.match(match)


def test_e4_acc_needs_three_columns_and_lists_missing_files(tmp_path):
    files = e4_files(duration_s=4.0)
    files["ACC.csv"] = e4_csv("ACC", np.zeros((128, 2)))
    with pytest.raises(DataError, match=r"ACC\.csv: line 1 .* must hold 3 number"):
        read_e4(write_e4_folder(tmp_path / "a", files))
    files = e4_files(duration_s=4.0)
    del files["EDA.csv"]
    with pytest.raises(DataError, match=r"lacks EDA\.csv; it holds: ACC\.csv, BVP\.csv"):
        read_e4(write_e4_folder(tmp_path / "b", files))
    with pytest.raises(ConfigError, match="valid options are: acc, bvp"):
        read_e4(tmp_path / "b", signals=("ppg",))


def test_e4_truncated_files(tmp_path):
    files = e4_files(duration_s=60.0)
    # cut mid-line: the last ACC row has 2 of its 3 values
    cut = dict(files, **{"ACC.csv": files["ACC.csv"][: files["ACC.csv"].rindex(",")]})
    with pytest.raises(DataError) as exc:
        read_e4(write_e4_folder(tmp_path / "mid", cut))
    assert "ACC.csv" in _one_line(exc) and "truncated" in str(exc.value)
    # cut at a line boundary: BVP holds 20 s while the others hold 60 s
    lines = files["BVP.csv"].splitlines(keepends=True)
    short = dict(files, **{"BVP.csv": "".join(lines[: 2 + 20 * 64])})
    with pytest.raises(DataError, match=r"BVP\.csv: holds 20\.0 s but the session's other signals run to 60\.0 s"):
        read_e4(write_e4_folder(tmp_path / "line", short))
    # a truncated zip and a truncated xz member
    z = write_e4_zip(tmp_path / "z.zip", files)
    z.write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    with pytest.raises(DataError, match=r"z\.zip: not a readable E4 zip .*truncated"):
        read_e4(z)
    xz = write_e4_folder(tmp_path / "xz", files)
    (xz / "BVP.csv").unlink()
    (xz / "BVP.csv.xz").write_bytes(lzma.compress(files["BVP.csv"].encode())[:-40])
    with pytest.raises(DataError, match=r"BVP\.csv\.xz: cannot read .*truncated or corrupt"):
        read_e4(xz)


# ============================================================================================== WESAD layout
def test_wesad_layout_loads_with_protocol_labels(tmp_path):
    ds = WESADDataset().at(write_wesad(tmp_path / "w"))
    assert ds.record_ids() == ("SA",) and ds.subjects() == ("SA",)
    rec = ds.load_recording("SA")
    assert [(iv.label, iv.code, iv.start_s, iv.end_s) for iv in rec.intervals] == [
        ("baseline", 1, 5.0, 25.0),
        ("stress", 2, 30.0, 50.0),
    ]
    assert "checked against SA_quest.csv" in rec.label_source
    assert rec.signal("bvp").fs_hz == 64.0 and rec.meta["start_unix_s"] == 1_500_000_000.0


def test_wesad_label_files_that_do_not_match(tmp_path):
    late = WESAD_TABLE.replace("SA,stress,2,30.0,50.0", "SA,stress,2,30.0,500.0")
    ds = WESADDataset().at(write_wesad(tmp_path / "late", table=late))
    with pytest.raises(DataError) as exc:
        ds.load_recording("SA")
    assert "e4_condition_intervals.csv" in _one_line(exc) and "does not match the recording" in str(exc.value)
    longer = WESAD_TABLE.replace("SA,baseline,1,5.0,25.0", "SA,baseline,1,5.0,35.0")  # 30 s vs the quest's 20 s
    ds = WESADDataset().at(write_wesad(tmp_path / "long", table=longer))
    with pytest.raises(DataError, match=r"baseline lasts 30 s but .*SA_quest\.csv gives 20 s"):
        ds.load_recording("SA")
    other = WESAD_TABLE.replace("SA,", "SB,")
    with pytest.raises(DataError, match=r"no intervals for subject 'SA' \(subjects there: SB\)"):
        WESADDataset().at(write_wesad(tmp_path / "other", table=other)).load_recording("SA")
    folder = write_wesad(tmp_path / "none")
    (folder / "derived" / "e4_condition_intervals.csv").unlink()
    with pytest.raises(DataError, match="RespiBAN start"):
        WESADDataset().at(folder).load_recording("SA")


def test_dalia_layout_activity_offset_and_mismatch(tmp_path):
    write_e4_zip(tmp_path / "S1" / "S1_E4.zip", e4_files(duration_s=60.0))
    (tmp_path / "S1" / "S1_activity.csv").write_text("# SUBJECT_ID, S1\r\n# NO_ACTIVITY, 0\r\n# STAIRS, 10\r\n")
    rec = PPGDaliaE4Dataset(activity_offset_s=5.0).at(tmp_path).load_recording("S1")
    assert [(iv.label, iv.code, iv.start_s, iv.end_s) for iv in rec.intervals] == [
        ("no_activity", 0, 5.0, 15.0),
        ("stairs", 2, 15.0, 60.0),
    ]
    (tmp_path / "S1" / "S1_activity.csv").write_text("# NO_ACTIVITY, -110\r\n# WALKING, 900\r\n")
    with pytest.raises(
        DataError,
        match=r"S1_activity\.csv, line 2: WALKING starts at 1010 s .* lasts 60 s; the activity file does not match",
    ):
        PPGDaliaE4Dataset(activity_offset_s=110.0).at(tmp_path).load_recording("S1")  # default offset


# ============================================================================================== EDF
def test_edf_pairs_load_as_rest_and_task(tmp_path):
    write_edf(tmp_path / "alice_1.edf", duration_s=6)
    write_edf(tmp_path / "alice_2.edf", duration_s=4, seed=1)
    ds = EEGMatDataset().at(tmp_path)
    assert ds.record_ids() == ("alice_1", "alice_2") and ds.subjects() == ("alice",)
    rest, task = (ds.load_recording(r) for r in ds.record_ids())
    assert rest.signal("eeg").channels == ("Fp1", "Fp2", "T3", "T4") and rest.signal("eeg").fs_hz == 500.0
    assert rest.signal("eeg_ref").channels == ("A2-A1",) and rest.signal("ecg").unit == "mV"
    assert [(iv.label, iv.code, iv.end_s) for iv in rest.intervals] == [("rest", 0, 6.0)]
    assert [(iv.label, iv.code) for iv in task.intervals] == [("task", 1)]
    raw = read_edf(tmp_path / "alice_1.edf")
    assert np.allclose(rest.signal("eeg").channel("Fp1"), raw[0].data)
    with pytest.raises(DataError, match=r"no channel\(s\) Cz; available channels: Fp1, Fp2, T3, T4"):
        rest.signal("eeg").select(("Fp1", "Cz"))


def test_edf_wrong_rate_and_truncation(tmp_path):
    write_edf(tmp_path / "bob_1.edf", fs=256.0, duration_s=2)
    with pytest.raises(DataError) as exc:
        EEGMatDataset().at(tmp_path).load_recording("bob_1")
    assert "bob_1.edf" in _one_line(exc) and "256 Hz but dataset 'eegmat' expects 500 Hz" in str(exc.value)
    assert replace(EEGMatDataset(), expected_fs_hz=None).at(tmp_path).load_recording("bob_1").signal("eeg").fs_hz == 256
    path = write_edf(tmp_path / "carol_1.edf", duration_s=4)
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(DataError) as exc:
        EEGMatDataset().at(tmp_path).load_recording("carol_1")
    assert "carol_1.edf: truncated EDF file" in _one_line(exc) and "1000 missing" in str(exc.value)
    path.write_bytes(b"0" * 100)
    with pytest.raises(DataError, match="shorter than the 256-byte EDF header"):
        read_edf(path)


# ============================================================================================== WAV
def test_wav_clips_and_truncation(tmp_path):
    write_wav(tmp_path / "b1" / "p1" / "cough-heavy.wav")
    write_wav(tmp_path / "b1" / "p1" / "vowel-a.wav", seed=1)
    write_wav(tmp_path / "b1" / "p2" / "cough-shallow.wav", fs=16000, seed=2)
    ds = CoswaraDataset().at(tmp_path)
    assert ds.record_ids() == ("p1/cough-heavy", "p1/vowel-a", "p2/cough-shallow")
    assert ds.subjects() == ("p1", "p2")
    cough = ds.load_recording("p1/cough-heavy")
    assert cough.signal("audio").fs_hz == 48000 and cough.signal("audio").n_samples == 24000
    assert [(iv.label, iv.code) for iv in cough.intervals] == [("cough", 1)]
    assert [iv.label for iv in ds.load_recording("p1/vowel-a").intervals] == ["non_cough"]
    with pytest.raises(DataError, match="16000 Hz but dataset 'coswara' expects 48000 Hz"):
        replace(ds, expected_fs_hz=48000.0).load_recording("p2/cough-shallow")
    path = tmp_path / "b1" / "p1" / "cough-heavy.wav"
    path.write_bytes(path.read_bytes()[: 44 + 2 * 10000])
    with pytest.raises(DataError) as exc:
        ds.load_recording("p1/cough-heavy")
    assert "cough-heavy.wav: truncated WAV file: the header declares 24000 frames" in _one_line(exc)
    path.write_bytes(b"RIFF")
    with pytest.raises(DataError, match="soundfile cannot read it"):
        read_wav(path)


# ============================================================================================== UCI EMG
def test_uci_emg_dedup_detects_the_true_rate(tmp_path):
    text, codes = uci_rows(n_samples=200, hold=9)
    (tmp_path / "07").mkdir()
    (tmp_path / "07" / "1_raw_data_x.txt").write_text(text)
    log = read_uci_emg(tmp_path / "07" / "1_raw_data_x.txt")
    assert np.array_equal(log.codes, codes) and log.n_rows == 1800
    assert log.fs_hz == pytest.approx(199 / (199 * 9 / 1000))  # 111.1 Hz: 1 distinct sample per 9 ms
    assert log.log_rate_hz == pytest.approx(1000.0)
    rec = EMGGesturesDataset().at(tmp_path).load_recording("07_1")
    assert rec.subject == "07" and rec.signal("emg").n_samples == 200
    assert [(iv.label, iv.code) for iv in rec.intervals] == [("rest", 1), ("fist", 2)]
    assert rec.intervals[1].start_s == pytest.approx(100 / log.fs_hz)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace("channel8\t", "\t", 1), r"header lacks column\(s\) channel8; it has: time, channel1"),
        (lambda t: t[: t.rindex("\t", 0, len(t) - 20)], r"malformed rows .*truncated"),
        (lambda t: t.replace("\t1\n", "\t9\n", 1), r"unknown class code\(s\) \[9\]"),
        (lambda t: t.replace("\n2\t", "\n1\t", 1), r"'time' \(ms\) must increase strictly"),
        (lambda t: re.sub(r"^(1\t)[^\t]+", r"\g<1>0.5", t, count=1, flags=re.M), r"MYO 8-bit codes"),
    ],
)
def test_uci_emg_bad_input(tmp_path, edit, match):
    text, _ = uci_rows(n_samples=50, hold=3)
    path = tmp_path / "1_raw.txt"
    path.write_text(edit(text))
    with pytest.raises(DataError) as exc:
        read_uci_emg(path)
    assert "1_raw.txt" in _one_line(exc)
    assert exc.match(match)


# ============================================================================================== WFDB + times.seize
def test_szdb_layout_with_and_without_waveform(tmp_path):
    folder = write_szdb(tmp_path, records=("a1", "b2"), seizures=["a1 00:00:30 00:01:00", "b2 01:10 01:40"])
    write_szdb(tmp_path / "x", records=("b2",), dat=False)  # a header + beats without .dat
    for ext in ("hea", "ari"):
        (folder / f"b2.{ext}").write_bytes((tmp_path / "x" / f"b2.{ext}").read_bytes())
    (folder / "b2.dat").unlink()
    ds = replace(SeizureECGDataset(), patients=(("a1", "P"), ("b2", "P"))).at(folder)
    assert ds.record_ids() == ("a1", "b2") and ds.subjects() == ("P",)
    a1, b2 = ds.load_recording("a1"), ds.load_recording("b2")
    assert a1.signal("ecg").fs_hz == 200.0 and a1.duration_s == 120.0
    assert [(iv.start_s, iv.end_s) for iv in a1.intervals] == [(30.0, 60.0)]
    assert len(a1.events["beats"]) == len(np.arange(100, 24000 - 1, 160))
    assert b2.signals == {} and b2.duration_s == 120.0 and b2.meta["has_waveform"] is False
    assert [(iv.start_s, iv.end_s) for iv in b2.intervals] == [(70.0, 100.0)]
    with pytest.raises(DataError, match="no signal 'ecg'; its signals are: none"):
        b2.signal("ecg")


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (
            ["rec_a 00:01:00 00:03:00"],
            r"times\.seize, line 1: seizure 60-180 s of record 'rec_a' ends after the record",
        ),
        (["rec_a 00:01:00 00:00:50"], r"line 1: seizure offset 00:00:50 must come after its onset"),
        (["rec_a 00:01:00"], r"line 1: expected 'record onset offset'"),
        (["rec_a 00:xx:00 00:01:00"], r"'00:xx:00' is not a time"),
    ],
)
def test_szdb_seizure_file_that_does_not_match(tmp_path, lines, match):
    ds = SeizureECGDataset().at(write_szdb(tmp_path, seizures=lines))
    with pytest.raises(DataError) as exc:
        ds.load_recording("rec_a")
    assert "times.seize" in _one_line(exc)
    assert exc.match(match)


def test_szdb_wrong_rate_and_unknown_record(tmp_path):
    folder = write_szdb(tmp_path)
    hea = folder / "rec_a.hea"
    hea.write_text(hea.read_text().replace(" 200 ", " 250 ", 1))
    with pytest.raises(DataError, match=r"rec_a\.hea: the record is sampled at 250 Hz but dataset 'szdb' expects 200"):
        SeizureECGDataset().at(folder).load_recording("rec_a")
    with pytest.raises(ConfigError, match="has no record 'nope'; valid records are: rec_a"):
        SeizureECGDataset().at(folder).load_recording("nope")


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist; expected"):
        EEGMatDataset().at(tmp_path / "nowhere").record_ids()
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(DataError, match="no record found in .*; the folder holds: junk.txt"):
        EEGMatDataset().at(tmp_path).record_ids()
    assert not EEGMatDataset().at(tmp_path).available()
    with pytest.raises(ConfigError, match="valid options are: szdb, eegmat, emg_gestures, coswara, wesad, ppg_dalia"):
        RECORDINGS.get("chbmit")
