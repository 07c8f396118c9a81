"""Array data -> :class:`PreparedDataset`: channel choice, label grouping, resampling, filter, normalisation.

The steps follow ``DataConfig`` as for records, along each window's sample axis: channels by name
(``channels``; default all), a ``labels`` mapping groups class names (a preset name keeps the arrays'
classes), resampling to ``fs_hz`` (a window's length scales with the rate), the filter, then the
normalisation (``record`` z-scores each group per channel, ``window`` each window). ``window`` settings do not
apply: the data is already windowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np

from biowear.data.arrays import ArrayData, content_digest, validate_arrays
from biowear.data.config import FILTERS, NORMALISATIONS, DataConfig
from biowear.data.labels import LabelMap
from biowear.data.prepared import PreparedDataset
from biowear.data.task import Task
from biowear.errors import ConfigError, DataError
from biowear.signal import resample


def _along_samples(x: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` (working along axis 0) to every window and channel of ``x`` ``(n, channels, samples)``."""
    n, c, _ = x.shape
    flat = np.ascontiguousarray(np.transpose(x, (2, 0, 1)).reshape(x.shape[2], n * c))
    out = fn(flat)
    return np.ascontiguousarray(np.transpose(out.reshape(out.shape[0], n, c), (1, 2, 0))).astype(np.float32)


def _regroup(arrays: ArrayData, labels: object) -> tuple[Task, np.ndarray, np.ndarray]:
    """(task, y, keep mask) after applying a ``{class: [names]}`` mapping, if one is given."""
    keep = np.ones(len(arrays.y), dtype=bool)
    if isinstance(labels, str):
        return arrays.task, arrays.y, keep
    if arrays.task.is_regression:
        raise ConfigError("a labels mapping groups classes; the array data holds regression targets")
    mapping = labels.codes if isinstance(labels, LabelMap) else labels
    assert isinstance(mapping, Mapping)
    names = arrays.task.classes
    out = np.full(len(names), -1, dtype=np.int64)
    for i, (cls, codes) in enumerate(mapping.items()):
        for code in codes:
            if code not in names:
                raise DataError(
                    f"class {cls!r}: label {code!r} does not occur in the arrays; they hold {', '.join(names)}"
                )
            out[names.index(code)] = i
    y = out[arrays.y]
    keep = y >= 0
    return Task.classification(tuple(mapping)), y, keep


def prepare_array_data(
    arrays: ArrayData, config: DataConfig, name: str, key: str, groups: Sequence[str] | None = None
) -> PreparedDataset:
    """Turn validated arrays into a prepared dataset following ``config`` (see the module docstring).

    Args:
        arrays: the windows, targets and groups.
        config: the data recipe.
        name: the dataset name (record keys are ``name/group``).
        key: the prepared data's identity.
        groups: optional subset of groups to keep.

    Raises:
        DataError: an unknown channel or label, a class without windows, or nothing left.
    """
    x = arrays.x
    if config.channels is not None:
        missing = [c for c in config.channels if c not in arrays.channels]
        if missing:
            raise DataError(
                f"{name}: no channel(s) {', '.join(missing)}; its channels are: {', '.join(arrays.channels)}"
            )
        x = x[:, [arrays.channels.index(c) for c in config.channels]]
    task, y, keep = _regroup(arrays, config.labels)
    group_ids = arrays.groups
    if groups is not None:
        keep &= np.isin(group_ids, list(groups))
    if not keep.any():
        raise DataError(f"{name}: no windows left after selecting groups/classes")
    x, y, group_ids = x[keep], y[keep], group_ids[keep]
    fs_hz = config.fs_hz or arrays.fs_hz
    if fs_hz != arrays.fs_hz:
        x = _along_samples(x, lambda a: resample(a, arrays.fs_hz, fs_hz))
    x = _along_samples(x, lambda a: FILTERS.get(config.filter).apply(a, fs_hz, config.band_hz))
    norm = NORMALISATIONS.get(config.normalize)
    names = sorted(set(group_ids.tolist()))
    index = np.searchsorted(np.asarray(names), group_ids).astype(np.int64)
    if norm.per_record is not None:
        for g in range(len(names)):
            part = x[index == g]  # (m, c, L) -> samples of all windows per channel
            flat = np.transpose(part, (0, 2, 1)).reshape(-1, part.shape[1])
            x[index == g] = np.transpose(norm.per_record(flat).reshape(part.shape[0], part.shape[2], -1), (0, 2, 1))
    if norm.per_window is not None:
        x = norm.per_window(x)
    keys = tuple(f"{name}/{g}" for g in names)
    data = PreparedDataset(
        x=np.ascontiguousarray(x, dtype=np.float32),
        y=y,
        record_index=index,
        record_keys=keys,
        task=task,
        fs_hz=float(fs_hz),
        synthetic=arrays.synthetic,
        key=key,
    )
    empty = [c for c, n in data.class_counts.items() if n == 0]
    if empty:
        raise DataError(f"{name}: class(es) {', '.join(empty)} have no windows (counts: {data.class_counts})")
    return data


def from_arrays(
    x: object,
    y: object,
    fs_hz: float,
    groups: object = None,
    classes: object = None,
    channels: object = None,
    target: str = "target",
    unit: str = "",
    config: DataConfig | None = None,
    name: str = "arrays",
    synthetic: bool = False,
) -> PreparedDataset:
    """A prepared dataset from in-memory windows (the ``.npz`` layout of :mod:`biowear.data.arrays`).

    Args:
        x: ``(windows, channels, samples)`` floats.
        y: integer or string labels (classification) or float targets (regression).
        fs_hz: sampling rate of ``x`` in Hz.
        groups: one group id per window (subjects) for group splits; default one group ``all``.
        classes: names of integer labels.
        channels: channel names.
        target, unit: the regression target's name and unit.
        config: the recipe (resampling, filter, normalisation, channels, labels); default: the arrays as given
            (no filter, no normalisation).
        name: dataset name used in record keys.
        synthetic: True for generated data.

    Raises:
        DataError: invalid arrays (see :func:`biowear.data.arrays.validate_arrays`).
    """
    arrays = validate_arrays(x, y, fs_hz, groups, classes, channels, target, unit, source=name, synthetic=synthetic)
    config = config or DataConfig(filter="none", normalize="none")
    cfg = {k: v for k, v in config.to_dict().items() if k not in ("datasets", "records", "window", "sources")}
    text = json.dumps(
        {
            "arrays": content_digest(arrays),
            "task": arrays.task.to_dict(),
            "fs_hz": arrays.fs_hz,
            "channels": arrays.channels,
            "config": cfg,
            "name": name,
        },
        sort_keys=True,
        default=str,
    )
    key = hashlib.sha256(text.encode()).hexdigest()[:20]
    return prepare_array_data(arrays, config, name, key)
