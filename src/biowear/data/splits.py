"""Train/validation/test splits: random stratified, inter-patient DS1/DS2, explicit record lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from biowear.data.prepare import PreparedDataset
from biowear.errors import ConfigError, DataError

#: Inter-patient division of MIT-BIH of de Chazal et al. (2004); paced records 102/104/107/217 excluded.
DS1: tuple[str, ...] = (
    "101",
    "106",
    "108",
    "109",
    "112",
    "114",
    "115",
    "116",
    "118",
    "119",
    "122",
    "124",
    "201",
    "203",
    "205",
    "207",
    "208",
    "209",
    "215",
    "220",
    "223",
    "230",
)
DS2: tuple[str, ...] = (
    "100",
    "103",
    "105",
    "111",
    "113",
    "117",
    "121",
    "123",
    "200",
    "202",
    "210",
    "212",
    "213",
    "214",
    "219",
    "221",
    "222",
    "228",
    "231",
    "232",
    "233",
    "234",
)
SPLIT_KINDS: tuple[str, ...] = ("random", "interpatient", "records")


@dataclass(frozen=True)
class SplitConfig:
    """How windows are divided.

    Args:
        kind: ``random`` (stratified by class, ``fractions``; BioNetExplorer uses 70/10/20),
            ``interpatient`` (train on DS1, test on DS2 of de Chazal et al. 2004; mitdb only) or
            ``records`` (explicit record lists).
        fractions: train/validation/test fractions for ``random``; for the other kinds the validation
            share is carved from the training records' windows in the same train:val proportion.
        train_records, val_records, test_records: record names for ``records`` (val may be empty).
        seed: seed of the shuffling.
    """

    kind: str = "random"
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    train_records: tuple[str, ...] = ()
    val_records: tuple[str, ...] = ()
    test_records: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SPLIT_KINDS:
            raise ConfigError(f"unknown split {self.kind!r}; valid options are: {', '.join(SPLIT_KINDS)}")
        if len(self.fractions) != 3 or min(self.fractions) < 0 or abs(sum(self.fractions) - 1) > 1e-6:
            raise ConfigError(f"split fractions must be three non-negative numbers summing to 1, got {self.fractions}")
        if self.fractions[0] <= 0 or self.fractions[2] <= 0:
            raise ConfigError("train and test fractions must be positive")
        if self.kind == "records" and (not self.train_records or not self.test_records):
            raise ConfigError("split 'records' needs train_records and test_records")


@dataclass(frozen=True)
class Split:
    """Index arrays into a :class:`PreparedDataset`."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _stratified(idx: np.ndarray, y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if test_size <= 0:
        return idx, idx[:0]
    counts = np.bincount(y[idx])
    stratify = y[idx] if counts[counts > 0].min() >= 2 else None
    a, b = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(a), np.sort(b)


def _keys(data: PreparedDataset, names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        matches = [k for k in data.record_keys if k == name or k.split("/", 1)[1] == name]
        if not matches:
            raise ConfigError(f"record {name!r} is not in the prepared data; it holds {', '.join(data.record_keys)}")
        out.extend(matches)
    return out


def make_split(data: PreparedDataset, config: SplitConfig) -> Split:
    """Split ``data`` as ``config`` says; every part must be non-empty.

    Raises:
        DataError: a part ends up empty (e.g. records without labelled windows).
    """
    idx = np.arange(len(data.y))
    f_train, f_val, f_test = config.fractions
    val_share = f_val / (f_train + f_val)
    if config.kind == "random":
        rest, test = _stratified(idx, data.y, f_test, config.seed)
        train, val = _stratified(rest, data.y, val_share, config.seed)
    else:
        if config.kind == "interpatient":
            if not all(k.startswith("mitdb/") for k in data.record_keys):
                raise ConfigError("the inter-patient DS1/DS2 split is defined for mitdb records only")
            train_keys, val_keys, test_keys = _keys(data, DS1), [], _keys(data, DS2)
        else:
            train_keys = _keys(data, config.train_records)
            val_keys = _keys(data, config.val_records)
            test_keys = _keys(data, config.test_records)
        overlap = set(train_keys) & set(test_keys) | set(val_keys) & (set(train_keys) | set(test_keys))
        if overlap:
            raise ConfigError(f"records {sorted(overlap)} appear in more than one split part")
        train = idx[data.records_mask(train_keys)]
        test = idx[data.records_mask(test_keys)]
        if val_keys:
            val = idx[data.records_mask(val_keys)]
        else:
            train, val = _stratified(train, data.y, val_share, config.seed)
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len(part) == 0:
            raise DataError(f"the {name} part of the {config.kind} split is empty")
    return Split(train=train, val=val, test=test)
