from __future__ import annotations

import numpy as np
import pytest

from biowear.data import DS1, DS2, PreparedDataset, SplitConfig, Task, make_split
from biowear.errors import ConfigError


def fake_data(keys, per_record=50, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    n = per_record * len(keys)
    return PreparedDataset(
        x=rng.normal(size=(n, 1, 8)).astype(np.float32),
        y=rng.integers(0, n_classes, size=n),
        record_index=np.repeat(np.arange(len(keys)), per_record),
        record_keys=tuple(keys),
        task=Task.classification(tuple(f"c{i}" for i in range(n_classes))),
        fs_hz=360.0,
        synthetic=True,
        key="test",
    )


def test_random_split_is_stratified_disjoint_and_seeded():
    data = fake_data([f"synthetic_ecg/syn{i:03d}" for i in range(20)])
    s = make_split(data, SplitConfig(seed=3))
    n = len(data.y)
    assert len(s.train) + len(s.val) + len(s.test) == n
    assert not set(s.train) & set(s.test) and not set(s.val) & set(s.test) and not set(s.train) & set(s.val)
    assert abs(len(s.test) / n - 0.2) < 0.01 and abs(len(s.val) / n - 0.1) < 0.01
    for part in (s.train, s.val, s.test):  # class proportions preserved
        assert abs(data.y[part].mean() - data.y.mean()) < 0.03
    again = make_split(data, SplitConfig(seed=3))
    assert np.array_equal(s.test, again.test)
    assert not np.array_equal(s.test, make_split(data, SplitConfig(seed=4)).test)


def test_interpatient_split_uses_de_chazal_lists():
    assert len(DS1) == 22 and len(DS2) == 22 and not set(DS1) & set(DS2)
    data = fake_data([f"mitdb/{r}" for r in DS1 + DS2])
    s = make_split(data, SplitConfig(kind="interpatient"))
    train_records = {data.record_keys[i] for i in data.record_index[np.concatenate([s.train, s.val])]}
    test_records = {data.record_keys[i] for i in data.record_index[s.test]}
    assert train_records == {f"mitdb/{r}" for r in DS1}
    assert test_records == {f"mitdb/{r}" for r in DS2}


def test_interpatient_needs_mitdb():
    with pytest.raises(ConfigError, match="mitdb records only"):
        make_split(fake_data(["synthetic_ecg/syn000"]), SplitConfig(kind="interpatient"))


def test_record_split_and_overlap_error():
    data = fake_data([f"synthetic_ecg/syn{i:03d}" for i in range(6)])
    s = make_split(
        data,
        SplitConfig(
            kind="records",
            train_records=("syn000", "syn001", "syn002"),
            val_records=("syn003",),
            test_records=("syn004", "syn005"),
        ),
    )
    assert set(data.record_index[s.val]) == {3} and set(data.record_index[s.test]) == {4, 5}
    with pytest.raises(ConfigError, match="more than one split part"):
        make_split(data, SplitConfig(kind="records", train_records=("syn000",), test_records=("syn000",)))
    with pytest.raises(ConfigError, match="not in the prepared data"):
        make_split(data, SplitConfig(kind="records", train_records=("syn000",), test_records=("syn099",)))


@pytest.mark.parametrize(
    "kwargs", [{"kind": "kfold"}, {"fractions": (0.5, 0.5, 0.5)}, {"fractions": (0.9, 0.1, 0.0)}, {"kind": "records"}]
)
def test_bad_split_config(kwargs):
    with pytest.raises(ConfigError):
        SplitConfig(**kwargs)
