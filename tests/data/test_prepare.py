from __future__ import annotations

import importlib

import numpy as np
import pytest

from biowear.data import DataConfig, WindowConfig, prepare
from biowear.errors import ConfigError

CFG = DataConfig(datasets=("synthetic_ecg",), labels="aami5", records=("syn000", "syn003"),
                 window=WindowConfig(kind="beat"))


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


@pytest.mark.parametrize("kwargs,match", [
    ({"datasets": ("nope",)}, "unknown dataset 'nope'; valid options are: mitdb, cudb, synthetic_ecg"),
    ({"filter": "wavelet"}, "unknown filter"),
    ({"normalize": "minmax"}, "unknown normalisation"),
    ({"fs_hz": 1.0}, "fs_hz"),
    ({"datasets": ("mitdb", "cudb"), "records": ("100",)}, "ambiguous"),
])
def test_bad_data_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DataConfig(**kwargs).record_keys()
