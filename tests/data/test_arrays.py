from __future__ import annotations

import numpy as np
import pytest

from biowear.data import DataConfig, SplitConfig, from_arrays, load_npz, make_split, prepare
from biowear.errors import ConfigError, DataError

FS = 100.0


def sines(n=120, length=200, seed=0):
    """Windows of 2 channels whose first channel is a sine of a random frequency (the regression target)."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(1.0, 5.0, size=n)
    t = np.arange(length) / FS
    x = np.stack([np.sin(2 * np.pi * freq[:, None] * t), rng.normal(size=(n, length))], axis=1)
    return x.astype(np.float32), freq


def write(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.fixture
def cls_npz(tmp_path):
    x, freq = sines()
    y = np.where(freq > 3.0, "fast", "slow")
    groups = np.repeat([f"s{i}" for i in range(6)], 20)
    return write(tmp_path / "cls.npz", x=x, y=y, groups=groups, fs_hz=FS, channels=np.array(["ppg", "noise"]))


@pytest.fixture
def reg_npz(tmp_path):
    x, freq = sines(seed=1)
    return write(tmp_path / "reg.npz", x=x, y=freq, fs_hz=np.float64(FS), target="frequency", unit="Hz")


def test_npz_classification(cls_npz):
    data = prepare(DataConfig(sources={"cls": cls_npz}, filter="none", normalize="window"), use_cache=False)
    assert data.task.kind == "classification" and data.classes == ("fast", "slow") and data.y.dtype == np.int64
    assert data.x.shape == (120, 2, 200) and data.record_keys == tuple(f"cls/s{i}" for i in range(6))
    assert np.allclose(data.x.std(axis=-1), 1, atol=1e-2)
    s = make_split(data, SplitConfig(kind="group", seed=0))
    test_groups = set(data.record_index[s.test])
    assert test_groups and not test_groups & set(data.record_index[np.concatenate([s.train, s.val])])
    r = make_split(data, SplitConfig(kind="records", train_records=("s0", "s1", "s2"), test_records=("s5",)))
    assert set(data.record_index[r.test]) == {5}


def test_npz_regression_resampled_and_channel_by_name(reg_npz, tmp_path):
    cfg = DataConfig(sources={"reg": reg_npz}, fs_hz=50.0, filter="none", normalize="none")
    data = prepare(cfg, use_cache=False)
    assert data.task.is_regression and data.task.target == "frequency" and data.task.unit == "Hz"
    assert data.y.dtype == np.float32 and data.x.shape == (120, 2, 100) and data.fs_hz == 50.0
    assert data.record_keys == ("reg/all",) and data.class_counts == {} and "frequency" in data.describe_targets()
    s = make_split(data, SplitConfig(seed=0))  # plain random split for regression
    assert len(s.train) + len(s.val) + len(s.test) == 120
    with pytest.raises(ConfigError, match="needs at least two records.*give `groups`"):
        make_split(data, SplitConfig(kind="records", train_records=("all",), test_records=("all",)))
    named = prepare(
        DataConfig(
            sources={
                "cls": write(
                    tmp_path / "c.npz", x=sines()[0], y=np.arange(120) % 2, fs_hz=FS, channels=np.array(["a", "b"])
                )
            },
            channels=("b",),
            filter="none",
            normalize="none",
        ),
        use_cache=False,
    )
    assert named.x.shape[1] == 1 and named.classes == ("0", "1")


def test_npz_cache_is_keyed_by_content(reg_npz):
    cfg = DataConfig(sources={"reg": reg_npz}, filter="none", normalize="none")
    first = prepare(cfg)
    assert prepare(cfg).key == first.key
    x, freq = sines(seed=2)
    write(reg_npz, x=x, y=freq, fs_hz=FS)
    second = prepare(cfg)
    assert second.key != first.key and not np.array_equal(second.y, first.y)


def test_labels_mapping_groups_array_classes(cls_npz):
    cfg = DataConfig(sources={"cls": cls_npz}, labels={"quick": ["fast"], "calm": ["slow"]}, filter="none")
    assert prepare(cfg, use_cache=False).classes == ("quick", "calm")
    with pytest.raises(DataError, match="label 'medium' does not occur in the arrays; they hold fast, slow"):
        prepare(DataConfig(sources={"cls": cls_npz}, labels={"a": ["fast"], "b": ["medium"]}), use_cache=False)


def test_from_arrays_in_memory():
    x, freq = sines()
    data = from_arrays(x, freq, FS, groups=np.arange(120) // 30, target="f", unit="Hz")
    assert data.task.is_regression and len(data.record_keys) == 4 and np.array_equal(data.x, x)
    labelled = from_arrays(x, (freq > 3).astype(int), FS, classes=["slow", "fast"])
    assert labelled.classes == ("slow", "fast") and labelled.key != data.key


@pytest.mark.parametrize(
    "arrays,match",
    [
        ({"y": [0, 1], "fs_hz": FS}, "key 'x' is missing"),
        ({"x": np.zeros((2, 8)), "y": [0, 1], "fs_hz": FS}, "key 'x' must be 3-D"),
        ({"x": np.full((2, 1, 8), np.nan), "y": [0, 1], "fs_hz": FS}, "key 'x' holds 16 NaN/inf"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 1, 1], "fs_hz": FS}, "key 'y' must hold one label per window"),
        ({"x": np.zeros((2, 1, 8)), "y": [0.5, np.inf], "fs_hz": FS}, "key 'y' holds 1 NaN/inf"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 1], "fs_hz": -1.0}, "key 'fs_hz' must be one positive number"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 1], "fs_hz": FS, "groups": ["a"]}, "key 'groups' must be"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 3], "fs_hz": FS, "classes": ["a", "b"]}, "outside 0..1"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 0], "fs_hz": FS}, "key 'y' does not define a task"),
        ({"x": np.zeros((2, 1, 8)), "y": [0, 1], "fs_hz": FS, "extra": 1}, "unknown key"),
    ],
)
def test_bad_npz_is_a_clear_error(tmp_path, arrays, match):
    path = write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=match) as info:
        load_npz(path)
    assert "bad.npz" in str(info.value)


def test_unreadable_or_missing_npz(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.npz: cannot read"):
        load_npz(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_npz(tmp_path / "none.npz")
