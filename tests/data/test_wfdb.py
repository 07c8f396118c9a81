from __future__ import annotations

import numpy as np
import pytest

from biowear.data import get_dataset
from biowear.data.wfdb_source import read_wfdb_record, write_wfdb_record
from biowear.errors import ConfigError, DataError


def test_round_trip_through_wfdb(tmp_path, short_record):
    write_wfdb_record(short_record, tmp_path)
    back = read_wfdb_record(tmp_path, short_record.record_id, "synthetic_ecg")
    assert back.fs_hz == short_record.fs_hz and back.channels == short_record.channels
    assert np.allclose(back.signal, short_record.signal, atol=2e-3)
    assert np.array_equal(back.annotations.sample, short_record.annotations.sample)
    assert back.annotations.symbol == short_record.annotations.symbol


def test_corrupt_header_is_a_clear_error(tmp_path, short_record):
    hea = write_wfdb_record(short_record, tmp_path)
    hea.write_text("this is not a header\n\x00\x01garbage")
    with pytest.raises(DataError, match="cannot read"):
        read_wfdb_record(tmp_path, short_record.record_id, "test")


def test_truncated_signal_file_is_a_clear_error(tmp_path, short_record):
    write_wfdb_record(short_record, tmp_path)
    dat = tmp_path / f"{short_record.record_id}.dat"
    dat.write_bytes(dat.read_bytes()[:100])
    with pytest.raises(DataError, match=short_record.record_id):
        read_wfdb_record(tmp_path, short_record.record_id, "test")


def test_missing_record_names_the_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_wfdb_record(tmp_path, "100", "mitdb")
    ds = get_dataset("mitdb")
    with pytest.raises(DataError, match="biowear data download mitdb"):
        ds.load("100", root=tmp_path)


def test_unknown_record_lists_valid_ones():
    with pytest.raises(ConfigError, match="no record.*999.*valid records are: 100 101"):
        get_dataset("mitdb").load("999")


def test_nan_in_signal_is_refused(tmp_path, short_record):
    import dataclasses

    sig = short_record.signal.copy()
    sig[500:510, 0] = np.nan  # wfdb writes NaN as the format's invalid-sample value
    rec = dataclasses.replace(short_record, signal=np.nan_to_num(sig, nan=0.0))
    write_wfdb_record(rec, tmp_path)
    import wfdb

    wfdb.wrsamp(
        rec.record_id,
        fs=rec.fs_hz,
        units=["mV"],
        sig_name=list(rec.channels),
        p_signal=sig.astype(np.float64),
        fmt=["16"],
        write_dir=str(tmp_path),
    )
    with pytest.raises(DataError, match="NaN"):
        read_wfdb_record(tmp_path, rec.record_id, "test")


def test_record_validates_nan_directly(short_record):
    import dataclasses

    bad = short_record.signal.copy()
    bad[3, 0] = np.inf
    with pytest.raises(DataError, match="NaN/inf"):
        dataclasses.replace(short_record, signal=bad)


def test_download_offline_fails_fast(tmp_path, monkeypatch):
    import socket
    import time

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="cannot reach physionet.org.*copy its .hea/.dat/.atr files"):
        get_dataset("cudb").download(root=tmp_path)
    assert time.perf_counter() - t0 < 5


def test_invalid_samples_can_be_masked(tmp_path, short_record):
    import wfdb

    sig = short_record.signal.copy().astype(np.float64)
    sig[1000:1100, 0] = np.nan
    wfdb.wrsamp(
        "gap",
        fs=short_record.fs_hz,
        units=["mV"],
        sig_name=list(short_record.channels),
        p_signal=sig,
        fmt=["16"],
        write_dir=str(tmp_path),
    )
    rec = read_wfdb_record(tmp_path, "gap", "test", invalid_samples="mask")
    assert rec.invalid is not None and rec.invalid.sum() == 100 and rec.invalid[1000:1100].all()
    assert np.isfinite(rec.signal).all()
    # the bridge is a straight line between the valid neighbours
    assert np.allclose(
        rec.signal[1000:1100, 0], np.linspace(rec.signal[999, 0], rec.signal[1100, 0], 102)[1:-1], atol=1e-3
    )
