"""Train/validation/test splits: random (stratified for classification), inter-patient DS1/DS2, explicit
record lists, and random groups (subjects). Split kinds are a registry (:data:`SPLIT_KINDS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from biowear.data.prepared import PreparedDataset
from biowear.errors import ConfigError, DataError
from biowear.registry import Registry
from biowear.validate import Each, Interval, check

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


@dataclass(frozen=True)
class SplitConfig:
    """How windows are divided.

    Args:
        kind: a :data:`SPLIT_KINDS` name: ``random`` (windows by ``fractions``, stratified by class for
            classification; BioNetExplorer uses 70/10/20), ``interpatient`` (train on DS1, test on DS2 of de
            Chazal et al. 2004; mitdb only), ``records`` (explicit record lists) or ``group`` (whole groups,
            i.e. subjects as given by ``Dataset.group_of`` or an array file's ``groups``, shuffled with
            ``seed`` and dealt to train/validation/test by ``fractions`` of the groups).
        fractions: train/validation/test fractions for ``random`` and ``group``; for ``interpatient`` and
            ``records`` (without val_records) the validation share is carved from the training records'
            windows in the same train:val proportion, as it is for ``group`` when there are too few groups.
        train_records, val_records, test_records: record names for ``records`` (val may be empty).
        seed: seed of the shuffling.
    """

    kind: str = "random"
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    train_records: tuple[str, ...] = ()
    val_records: tuple[str, ...] = ()
    test_records: tuple[str, ...] = ()
    seed: int = 0

    RULES = {"fractions": Each(Interval(float, 0.0, 1.0), non_empty=True), "seed": Interval(int)}

    def __post_init__(self) -> None:
        SPLIT_KINDS.get(self.kind)
        for name in ("fractions", "train_records", "val_records", "test_records"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        check(self, self.RULES)
        if len(self.fractions) != 3 or abs(sum(self.fractions) - 1) > 1e-6:
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


def _stratified(
    idx: np.ndarray, y: np.ndarray, test_size: float, seed: int, stratify_by_class: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    if test_size <= 0:
        return idx, idx[:0]
    stratify = None
    if stratify_by_class:
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


Parts = tuple[np.ndarray, np.ndarray, np.ndarray]
#: ``(data, config, stratify) -> (train, val, test)`` index arrays.
SplitFn = Callable[[PreparedDataset, "SplitConfig", bool], Parts]


def _val_share(config: SplitConfig) -> float:
    f_train, f_val, _ = config.fractions
    return f_val / (f_train + f_val)


def _random(data: PreparedDataset, config: SplitConfig, stratify: bool) -> Parts:
    idx = np.arange(len(data.y))
    rest, test = _stratified(idx, data.y, config.fractions[2], config.seed, stratify)
    train, val = _stratified(rest, data.y, _val_share(config), config.seed, stratify)
    return train, val, test


def _need_several(data: PreparedDataset, what: str) -> None:
    if len(set(data.record_groups if what == "groups" else data.record_keys)) < 2:
        raise ConfigError(
            f"a split by {what} needs at least two {what}; the data holds one ({data.record_keys[0]}). For array "
            f"data give `groups` (one id per window) in the .npz, or use the random split"
        )


def _by_record_lists(data: PreparedDataset, config: SplitConfig, train_keys, val_keys, test_keys, stratify) -> Parts:
    idx = np.arange(len(data.y))
    overlap = set(train_keys) & set(test_keys) | set(val_keys) & (set(train_keys) | set(test_keys))
    if overlap:
        raise ConfigError(f"records {sorted(overlap)} appear in more than one split part")
    train = idx[data.records_mask(train_keys)]
    test = idx[data.records_mask(test_keys)]
    if val_keys:
        val = idx[data.records_mask(val_keys)]
    else:
        train, val = _stratified(train, data.y, _val_share(config), config.seed, stratify)
    return train, val, test


def _interpatient(data: PreparedDataset, config: SplitConfig, stratify: bool) -> Parts:
    if not all(k.startswith("mitdb/") for k in data.record_keys):
        raise ConfigError("the inter-patient DS1/DS2 split is defined for mitdb records only; use records or group")
    return _by_record_lists(data, config, _keys(data, DS1), [], _keys(data, DS2), stratify)


def _records(data: PreparedDataset, config: SplitConfig, stratify: bool) -> Parts:
    _need_several(data, "records")
    keys = [_keys(data, names) for names in (config.train_records, config.val_records, config.test_records)]
    return _by_record_lists(data, config, *keys, stratify)


def _group(data: PreparedDataset, config: SplitConfig, stratify: bool) -> Parts:
    _need_several(data, "groups")
    names = sorted(set(data.record_groups))
    order = np.random.default_rng(config.seed).permutation(len(names))
    f_train, f_val, f_test = config.fractions
    n_test = min(max(1, int(round(f_test * len(names)))), len(names) - 1)
    n_val = min(int(round(f_val * len(names))), len(names) - n_test - 1)
    test_g, val_g, train_g = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    by_group = data.group_index()
    idx = np.arange(len(data.y))
    train, test = idx[np.isin(by_group, train_g)], idx[np.isin(by_group, test_g)]
    if len(val_g):
        val = idx[np.isin(by_group, val_g)]
    else:
        train, val = _stratified(train, data.y, _val_share(config), config.seed, stratify)
    return train, val, test


SPLIT_KINDS: Registry[SplitFn] = Registry("split")
SPLIT_KINDS.register("random", _random)
SPLIT_KINDS.register("interpatient", _interpatient)
SPLIT_KINDS.register("records", _records)
SPLIT_KINDS.register("group", _group)


def make_split(data: PreparedDataset, config: SplitConfig) -> Split:
    """Split ``data`` as ``config`` says; every part must be non-empty.

    Random splits (and validation shares carved from training windows) are stratified by class for
    classification and plain for regression.

    Raises:
        ConfigError: a split that does not fit the data (inter-patient on non-mitdb data, one record/group).
        DataError: a part ends up empty (e.g. records without labelled windows).
    """
    train, val, test = SPLIT_KINDS.get(config.kind)(data, config, not data.task.is_regression)
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len(part) == 0:
            raise DataError(f"the {name} part of the {config.kind} split is empty")
    return Split(train=train, val=val, test=test)
