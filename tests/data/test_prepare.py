from __future__ import annotations

import importlib

import numpy as np
import pytest

from biowear.data import DataConfig, WindowConfig, prepare
from biowear.errors import ConfigError

CFG = DataConfig(
    datasets=("synthetic_ecg",), labels="aami5", records=("syn000", "syn003"), window=WindowConfig(kind="beat")
)


def test_prepared_shapes_labels_and_normalisation():
    data = prepare(CFG, use_cache=False)
    assert data.x.shape[1:] == (1, 256) and data.x.dtype == np.float32
    assert len(data.y) == len(data.record_index) == len(data.x)
    assert data.synthetic and data.classes == ("N", "S", "V", "F", "Q")
    assert np.allclose(data.x.mean(axis=-1), 0, atol=1e-4) and np.allclose(data.x.std(axis=-1), 1, atol=1e-2)


def test_second_preparation_comes_from_the_cache(monkeypatch):
    first = prepare(CFG)
    prep = importlib.import_module("biowear.data.prepare")  # the package re-exports a function of that name
    monkeypatch.setattr(prep, "_preprocess", lambda *a, **k: pytest.fail("cache was not used"))
    second = prepare(CFG)
    assert np.array_equal(first.x, second.x) and first.key == second.key


def test_cache_key_changes_with_config():
    other = DataConfig(datasets=("synthetic_ecg",), labels="binary", records=("syn000", "syn001"))
    assert prepare(CFG).key != prepare(other).key


def test_resampling_changes_window_rate():
    cfg = DataConfig(datasets=("synthetic_ecg",), labels="binary", records=("syn000",), fs_hz=128.0)
    data = prepare(cfg, use_cache=False)
    assert data.fs_hz == 128.0 and data.x.shape[-1] == 256


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"datasets": ("nope",)}, "unknown dataset 'nope'; valid options are: mitdb, cudb, synthetic_ecg"),
        ({"filter": "wavelet"}, "unknown filter"),
        ({"normalize": "minmax"}, "unknown normalisation"),
        ({"fs_hz": 1.0}, "fs_hz"),
        ({"datasets": ("mitdb", "cudb"), "records": ("100",)}, "ambiguous"),
    ],
)
def test_bad_data_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DataConfig(**kwargs).record_keys()


def test_windows_over_invalid_samples_are_dropped(monkeypatch):
    import dataclasses

    from biowear.data import get_dataset

    ds = get_dataset("synthetic_ecg")
    original = type(ds).load

    def load_with_gap(self, record_id, root=None):
        rec = original(self, record_id, root)
        invalid = np.zeros(rec.n_samples, dtype=bool)
        invalid[36_000:39_600] = True  # 10 s gap at 360 Hz
        return dataclasses.replace(rec, invalid=invalid)

    cfg = DataConfig(datasets=("synthetic_ecg",), labels="binary", records=("syn000",))
    clean = prepare(cfg, use_cache=False)
    monkeypatch.setattr(type(ds), "load", load_with_gap)
    gappy = prepare(cfg, use_cache=False)
    from biowear.data.windows import segment

    rec = ds.load("syn000")
    win = segment(rec.annotations, rec.n_samples, cfg.label_map(), cfg.window)
    overlapping = np.count_nonzero((win.starts + 256 > 36_000) & (win.starts < 39_600))
    assert overlapping > 5 and len(clean.y) - len(gappy.y) == overlapping
