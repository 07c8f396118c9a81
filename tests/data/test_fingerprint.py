from __future__ import annotations

import hashlib
import importlib
import json
import os

import pytest

from biowear.data import FILTERS, NORMALISATIONS, SPLIT_KINDS, WINDOW_KINDS, WINDOW_RULES, DataConfig, prepare
from biowear.data.datasets import SyntheticECGDataset
from biowear.data.fingerprint import content_fingerprint, file_digests
from biowear.errors import ConfigError, DataError
from biowear.paths import cache_dir


def test_digests_are_sha256_and_memoised_by_mtime_and_size(tmp_path):
    f = tmp_path / "a.dat"
    f.write_bytes(b"abc")
    digest = file_digests([f])[str(f.resolve())]
    assert digest == hashlib.sha256(b"abc").hexdigest()
    memo = json.loads((cache_dir() / "fingerprints.json").read_text())
    assert memo[str(f.resolve())][2] == digest
    before = content_fingerprint([f])
    f.write_bytes(b"abd")  # same size, new content and mtime
    os.utime(f, ns=(1, 1))
    assert content_fingerprint([f]) != before
    with pytest.raises(DataError, match="cannot read data file"):
        file_digests([tmp_path / "missing.dat"])


def test_cache_file_with_other_content_is_rebuilt(monkeypatch):
    cfg = DataConfig(datasets=("synthetic_ecg",), records=("syn001",))
    first = prepare(cfg)
    prep = importlib.import_module("biowear.data.prepare")
    calls = []
    original = prep._preprocess
    monkeypatch.setattr(prep, "_preprocess", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert prepare(cfg).key == first.key and not calls  # served from the cache
    monkeypatch.setattr(SyntheticECGDataset, "content_fingerprint", lambda self, root=None: "edited")
    again = prepare(cfg)
    assert calls and again.key == first.key  # same identity, rebuilt from the (changed) content


def test_registries_name_the_options():
    assert WINDOW_KINDS.names() == ["fixed", "beat", "kachuee"]
    assert WINDOW_RULES.names() == ["priority", "majority", "centre"]
    assert FILTERS.names() == ["none", "bandpass", "baseline"]
    assert NORMALISATIONS.names() == ["window", "record", "none"]
    assert SPLIT_KINDS.names() == ["random", "interpatient", "records", "group"]
    from biowear.data import SplitConfig, WindowConfig

    with pytest.raises(ConfigError, match="unknown window kind 'x'; valid options are: fixed, beat, kachuee"):
        WindowConfig(kind="x")
    with pytest.raises(ConfigError, match="WindowConfig.window_samples must be an integer in \\[8, 1e\\+06\\]"):
        WindowConfig(window_samples=4)
    with pytest.raises(ConfigError, match="WindowConfig.episode_min_overlap must be a finite number in \\(0, 1\\]"):
        WindowConfig(episode_min_overlap=0.0)
    with pytest.raises(
        ConfigError, match="unknown split 'kfold'; valid options are: random, interpatient, records, group"
    ):
        SplitConfig(kind="kfold")
    with pytest.raises(ConfigError, match="DataConfig.fs_hz must be"):
        DataConfig(fs_hz=float("nan"))
