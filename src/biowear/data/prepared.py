"""The prepared dataset (windows, targets, record/group of each window, task) and its cache file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.task import Task
from biowear.errors import DataError
from biowear.paths import atomic_write

#: Bumped when the cache file layout or the windows biowear produces change (invalidates cache files only).
CACHE_VERSION = 4


@dataclass(frozen=True)
class PreparedDataset:
    """Windows ready for training.

    Attributes:
        x: float32 ``(n_windows, n_channels, window_samples)``.
        y: int64 class index per window (classification) or float32 target (regression).
        record_index: int index into ``record_keys`` per window.
        record_keys: ``"dataset/record"`` names (for arrays: ``"name/group"``).
        task: what is predicted (``task.classes`` or ``task.target``/``task.unit``).
        fs_hz: working sampling rate.
        synthetic: True when any source is synthetic.
        key: cache key (hash of the config and the data fingerprints).
        record_groups: the group (subject) of each record key, as ``"dataset/group"``; default: the record.
    """

    x: np.ndarray
    y: np.ndarray
    record_index: np.ndarray
    record_keys: tuple[str, ...]
    task: Task
    fs_hz: float
    synthetic: bool
    key: str
    record_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.task, Task):
            raise TypeError(f"PreparedDataset.task must be a Task, got {type(self.task).__name__}")
        y = np.asarray(self.y)
        y = y.astype(np.float32) if self.task.is_regression else y.astype(np.int64)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "record_keys", tuple(self.record_keys))
        object.__setattr__(self, "record_groups", tuple(self.record_groups) or self.record_keys)
        n = len(self.x)
        if len(y) != n or len(self.record_index) != n:
            raise DataError(
                f"prepared data: {n} windows but {len(y)} targets and {len(self.record_index)} record indices"
            )
        if len(self.record_groups) != len(self.record_keys):
            raise DataError("prepared data: record_groups needs one group per record key")

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in output order (``()`` for regression)."""
        return self.task.classes

    @property
    def class_counts(self) -> dict[str, int]:
        """Windows per class (empty for regression)."""
        if self.task.is_regression:
            return {}
        counts = np.bincount(self.y, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def describe_targets(self) -> str:
        """One line: the class counts, or the target's range and mean."""
        if not self.task.is_regression:
            return f"classes {self.class_counts}"
        unit = f" {self.task.unit}" if self.task.unit else ""
        return (
            f"target {self.task.target}: mean {float(self.y.mean()):.4g}{unit}, "
            f"range {float(self.y.min()):.4g}..{float(self.y.max()):.4g}{unit}"
        )

    def records_mask(self, keys: Sequence[str]) -> np.ndarray:
        """Boolean mask of windows whose record is in ``keys``."""
        selected = set(keys)
        wanted = [i for i, k in enumerate(self.record_keys) if k in selected]
        return np.isin(self.record_index, wanted)

    def group_index(self) -> np.ndarray:
        """Index into the sorted distinct groups, per window."""
        names = sorted(set(self.record_groups))
        per_record = np.asarray([names.index(g) for g in self.record_groups], dtype=np.int64)
        return per_record[self.record_index]


def save_cache(path: Path, data: PreparedDataset, content: dict[str, str]) -> None:
    """Write ``data`` atomically; ``content`` (dataset -> content fingerprint) is checked by :func:`load_cache`."""
    meta = json.dumps(
        {
            "record_keys": data.record_keys,
            "record_groups": data.record_groups,
            "task": data.task.to_dict(),
            "fs_hz": data.fs_hz,
            "synthetic": data.synthetic,
            "content": content,
        }
    )
    atomic_write(path, lambda fh: np.savez(fh, x=data.x, y=data.y, record_index=data.record_index, meta=np.array(meta)))


def load_cache(path: Path, key: str, content: dict[str, str]) -> PreparedDataset | None:
    """The cached dataset, or None when it was built from other data contents than ``content``."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("content") != content:
            return None
        return PreparedDataset(
            x=z["x"],
            y=z["y"],
            record_index=z["record_index"],
            record_keys=tuple(meta["record_keys"]),
            task=Task.from_dict(meta["task"]),
            fs_hz=float(meta["fs_hz"]),
            synthetic=bool(meta["synthetic"]),
            key=key,
            record_groups=tuple(meta["record_groups"]),
        )
