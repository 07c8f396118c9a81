from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import numpy as np
import pytest

from biowear.data import DataConfig, SplitConfig, WFDBFolderDataset, WindowConfig, make_split, prepare
from biowear.errors import ConfigError, DataError
from tests.data.folder_helpers import CHANNELS, FS_HZ, beat_plan, write_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_folder(tmp_path_factory.mktemp("wfdb-folder") / "lab")


def cfg(folder, **kw):
    kw.setdefault("labels", {"normal": ["N"], "odd": ["Z"]})
    return DataConfig(sources={"lab": str(folder)}, **kw)


def test_folder_dataset_discovers_records(folder):
    ds = WFDBFolderDataset("lab", folder)
    assert ds.record_ids() == ("alpha", "beta") and ds.fs_hz == FS_HZ
    rec = ds.load("alpha")
    assert rec.channels == CHANNELS and rec.signal.shape == (60 * FS_HZ, 3) and "Z" in rec.annotations.symbol
    assert ds.group_of("beta") == "beta"


def test_beat_code_outside_mitdb_labels_beats(folder):
    data = prepare(cfg(folder, window=WindowConfig(kind="beat", window_samples=64)), use_cache=False)
    assert data.classes == ("normal", "odd") and data.fs_hz == FS_HZ
    assert data.record_keys == ("lab/alpha", "lab/beta") and data.record_groups == data.record_keys
    expected_z = sum(sym == "Z" for seed in (0, 1) for sym in beat_plan(seed)[1])
    assert data.class_counts["odd"] == expected_z and data.y.dtype == np.int64


def test_sources_default_the_datasets_and_records_subset(folder):
    c = cfg(folder, records=("beta",))
    assert c.datasets == ("lab",) and c.record_keys() == [("lab", "beta")]
    with pytest.raises(ConfigError, match="valid records are: alpha beta"):
        cfg(folder, records=("gamma",)).record_keys()


def test_channels_by_name(folder):
    base = {"filter": "none", "normalize": "none", "window": WindowConfig(window_samples=64)}
    data = prepare(cfg(folder, channels=("V5", "I"), **base), use_cache=False)
    assert data.x.shape[1] == 2
    assert np.allclose(np.median(data.x[:, 0]), 20.0, atol=0.1) and np.allclose(np.median(data.x[:, 1]), 0.0, atol=0.1)
    default = prepare(cfg(folder, n_channels=2, **base), use_cache=False)
    assert np.allclose(np.median(default.x[:, 1]), 10.0, atol=0.1)  # no preferred lead: first n channels


def test_unknown_channel_lists_the_records_channels(folder):
    with pytest.raises(DataError, match="no channel.*MLII; its channels are: I, II, V5"):
        prepare(cfg(folder, channels=("MLII",)), use_cache=False)


def test_aux_note_episodes_last_until_the_next_note(folder):
    labels = {"relax": ["aux:Relax"], "stress": ["aux:Stress"]}
    data = prepare(cfg(folder, labels=labels, window=WindowConfig(window_samples=200)), use_cache=False)
    starts_s = np.concatenate([np.arange(0, 60 * FS_HZ - 199, 200)] * 2) / FS_HZ
    # windows are 1 s; Relax covers 0-30 s, Stress 30-50 s, the unmapped Break note ends Stress at 50 s
    per_record = data.y[data.record_index == 0]
    assert per_record.tolist() == [0] * 30 + [1] * 20
    assert len(starts_s) == 120 and data.class_counts == {"relax": 60, "stress": 40}


def test_code_that_never_occurs_names_the_codes_that_do(folder):
    with pytest.raises(DataError, match=r"codes of paced \(/\) never occur.*symbols that occur: N \(\d+\), Z.*'Relax'"):
        prepare(cfg(folder, labels={"normal": ["N"], "paced": ["/"]}), use_cache=False)


def test_sources_round_trip_through_json_and_toml(folder):
    import tomllib

    from biowear.validate import build

    c = cfg(folder, channels=("II",))
    back = build(DataConfig, json.loads(json.dumps(asdict(c))), "data")
    assert back == c and back.sources == (("lab", str(folder)),) and back.channels == ("II",)
    doc = tomllib.loads(f'sources = {{ lab = "{folder}" }}\nchannels = ["II"]\nlabels = {{ a = ["N"], b = ["Z"] }}')
    assert build(DataConfig, doc, "data").sources == c.sources
    pairs = DataConfig(sources=[("b", "/x/b"), ("a", "/x/a.npz")], datasets=("b",))
    assert pairs.sources == (("a", "/x/a.npz"), ("b", "/x/b")) and hash(pairs.sources)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"sources": {"mitdb": "/x"}}, "shadows a built-in dataset"),
        ({"sources": {"a/b": "/x"}}, "without '/'"),
        ({"sources": {"a": "/x.npz", "b": "/y"}}, "cannot be pooled"),
        ({"datasets": ("nope",), "sources": {"a": "/x"}}, "unknown dataset 'nope'.*sources: a"),
        ({"channels": ("I",), "n_channels": 2}, "not both"),
        ({"band_hz": (40.0, 0.5)}, "band_hz"),
    ],
)
def test_bad_source_configs(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DataConfig(**kwargs)


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        DataConfig(sources={"x": str(tmp_path / "nope")}).record_keys()
    (tmp_path / "r.hea").write_text("r 1 200 10\n")
    with pytest.raises(DataError, match=r"no complete WFDB record.*headers found: r.hea"):
        DataConfig(sources={"x": str(tmp_path)}).record_keys()


def test_cache_follows_the_folder_content_not_its_path(folder, tmp_path):
    import wfdb

    copy = shutil.copytree(folder, tmp_path / "copy")
    first = prepare(cfg(copy))
    moved = shutil.copytree(copy, tmp_path / "moved")
    assert prepare(cfg(moved)).key == first.key
    ann = wfdb.rdann(str(copy / "alpha"), "atr")
    symbols = ["N" if s == "Z" else s for s in ann.symbol]
    wfdb.wrann("alpha", "atr", ann.sample, symbol=symbols, aux_note=ann.aux_note, write_dir=str(copy))
    edited = prepare(cfg(copy))
    assert edited.key != first.key and edited.class_counts["odd"] < first.class_counts["odd"]


def test_record_and_group_splits_on_a_folder(folder):
    data = prepare(cfg(folder), use_cache=False)
    s = make_split(data, SplitConfig(kind="records", train_records=("alpha",), test_records=("beta",)))
    assert set(data.record_index[s.test]) == {1} and set(data.record_index[s.train]) == {0}
    g = make_split(data, SplitConfig(kind="group", seed=1))
    assert len(set(data.record_index[g.test])) == 1 and not set(data.record_index[g.test]) & set(
        data.record_index[g.train]
    )
    with pytest.raises(ConfigError, match="mitdb records only"):
        make_split(data, SplitConfig(kind="interpatient"))
