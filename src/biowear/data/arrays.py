"""Array datasets: windows that are already cut, from a ``.npz`` file or from memory.

File layout (``numpy.savez``):

* ``x``: float ``(n_windows, n_channels, n_samples)`` (required);
* ``y``: one label per window (required): integers or strings -> classification, floats -> regression;
* ``fs_hz``: scalar sampling rate in Hz (required);
* ``groups``: one group id per window (subject, session; optional). Groups become the record keys, so
  ``records`` and ``group`` splits work; without them every window belongs to one group ``all`` (random
  splits work, record/group splits give a clear error);
* ``classes``: names of integer labels ``0..k-1`` (optional; default ``"0"``, ``"1"``, ...);
* ``channels``: channel names (optional; default ``"0"``, ``"1"``, ...), for ``DataConfig.channels``;
* ``target`` and ``unit``: the regression target's name and unit (optional strings);
* ``synthetic``: True for generated data (optional; reports then say SYNTHETIC).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.data.fingerprint import content_fingerprint
from biowear.data.source import DataSource
from biowear.data.task import Task
from biowear.errors import ConfigError, DataError
from biowear.paths import atomic_write

_KEYS = ("x", "y", "fs_hz", "groups", "classes", "channels", "target", "unit", "synthetic")


@dataclass(frozen=True)
class ArrayData:
    """Validated arrays: ``x`` float32 ``(n, channels, samples)``, ``y`` (int64 class index or float32 target),
    ``groups`` (str per window), the task, the sampling rate and the channel names."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    task: Task
    fs_hz: float
    channels: tuple[str, ...]
    synthetic: bool = False


def content_digest(arrays: ArrayData) -> str:
    """sha256 of the arrays' values (``x``, ``y`` and ``groups``); the task, rate and channels are not in it."""
    h = hashlib.sha256()
    for a in (arrays.x, arrays.y, arrays.groups.astype(str)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _fail(source: str, key: str, problem: str) -> DataError:
    return DataError(f"{source}: key {key!r} {problem}")


def _strings(source: str, key: str, value: object, n: int | None = None) -> tuple[str, ...]:
    arr = np.asarray(value)
    if arr.ndim != 1 or (n is not None and len(arr) != n):
        raise _fail(source, key, f"must be a 1-D list of {n if n is not None else 'some'} names, got shape {arr.shape}")
    return tuple(str(v) for v in arr)


def task_and_labels(
    source: str, y: np.ndarray, classes: object = None, target: str = "target", unit: str = ""
) -> tuple[Task, np.ndarray]:
    """The task labels ``y`` imply and ``y`` encoded for it: float targets are regression (float32); integer,
    boolean or string labels are classes (``classes`` names integer labels; default the sorted distinct
    values), encoded as int64 indices. Errors name ``source`` and the offending key."""
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise _fail(source, "y", f"holds {int(np.count_nonzero(~np.isfinite(y)))} NaN/inf target(s)")
        if classes is not None:
            raise _fail(source, "classes", "is given but y holds float targets (regression); drop classes or use int y")
        return Task.regression(target, unit), y.astype(np.float32)
    if y.dtype.kind in "iub":
        y = y.astype(np.int64)
        if classes is not None:
            names = _strings(source, "classes", classes)
            if y.min() < 0 or y.max() >= len(names):
                raise _fail(source, "y", f"holds labels {int(y.min())}..{int(y.max())} outside 0..{len(names) - 1}")
            return Task.classification(names), y
        values = np.unique(y)
        return Task.classification(tuple(str(v) for v in values)), np.searchsorted(values, y).astype(np.int64)
    if y.dtype.kind in "US":
        names = tuple(str(v) for v in np.unique(y)) if classes is None else _strings(source, "classes", classes)
        index = {c: i for i, c in enumerate(names)}
        unknown = sorted({str(v) for v in y} - set(index))
        if unknown:
            raise _fail(source, "y", f"holds labels {unknown} missing from classes {list(names)}")
        return Task.classification(names), np.asarray([index[str(v)] for v in y], dtype=np.int64)
    raise _fail(source, "y", f"must hold integers, strings or floats, got dtype {y.dtype}")


def validate_arrays(
    x: object,
    y: object,
    fs_hz: object,
    groups: object = None,
    classes: object = None,
    channels: object = None,
    target: str = "target",
    unit: str = "",
    source: str = "arrays",
    synthetic: bool = False,
) -> ArrayData:
    """Check and convert arrays (see the module docstring for their meaning).

    Raises:
        DataError: wrong ndim, lengths that differ, NaN/inf, bad labels or rate; the message names ``source``
            and the key.
    """
    xa = np.asarray(x)
    if xa.ndim != 3:
        raise _fail(source, "x", f"must be 3-D (windows, channels, samples), got shape {xa.shape}")
    if xa.dtype.kind not in "fiu" or xa.size == 0:
        raise _fail(source, "x", f"must be a non-empty numeric array, got dtype {xa.dtype} and shape {xa.shape}")
    xa = xa.astype(np.float32)
    if not np.all(np.isfinite(xa)):
        raise _fail(source, "x", f"holds {int(np.count_nonzero(~np.isfinite(xa)))} NaN/inf value(s)")
    ya = np.asarray(y)
    if ya.ndim != 1 or len(ya) != len(xa):
        raise _fail(source, "y", f"must hold one label per window ({len(xa)}), got shape {ya.shape}")
    fs = np.asarray(fs_hz)
    if fs.size != 1 or fs.dtype.kind not in "fiu" or not np.isfinite(fs).all() or float(fs.reshape(())) <= 0:
        raise _fail(source, "fs_hz", f"must be one positive number (Hz), got {fs_hz!r}")
    try:
        task, labels = task_and_labels(source, ya, classes, str(target), str(unit))
    except ConfigError as exc:  # e.g. a single class
        raise _fail(source, "y", f"does not define a task: {exc}") from None
    if groups is None:
        group_ids = np.full(len(xa), "all")
    else:
        group_ids = np.asarray([str(g) for g in _strings(source, "groups", groups, len(xa))])
    names = (
        tuple(str(i) for i in range(xa.shape[1]))
        if channels is None
        else _strings(source, "channels", channels, xa.shape[1])
    )
    return ArrayData(xa, labels, group_ids, task, float(fs.reshape(())), names, bool(synthetic))


def load_npz(path: Path) -> ArrayData:
    """Read and validate a ``.npz`` array file (see the module docstring).

    Raises:
        DataError: missing file or key, unknown keys, or invalid arrays (naming the file and the key).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"array file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            doc = {k: z[k] for k in z.files}
    except Exception as exc:  # numpy raises several types for corrupt archives
        raise DataError(f"{path}: cannot read as .npz ({exc})") from exc
    for key in ("x", "y", "fs_hz"):
        if key not in doc:
            raise DataError(f"{path}: key {key!r} is missing; the file holds {', '.join(doc) or 'nothing'}")
    unknown = sorted(set(doc) - set(_KEYS))
    if unknown:
        raise DataError(f"{path}: unknown key(s) {', '.join(unknown)}; valid keys are: {', '.join(_KEYS)}")
    text = {k: str(doc[k]) for k in ("target", "unit") if k in doc}
    return validate_arrays(
        doc["x"],
        doc["y"],
        doc["fs_hz"],
        doc.get("groups"),
        doc.get("classes"),
        doc.get("channels"),
        text.get("target", "target"),
        text.get("unit", ""),
        source=str(path),
        synthetic=bool(doc["synthetic"]) if "synthetic" in doc else False,
    )


def save_npz(path: Path, data: ArrayData) -> Path:
    """Write ``data`` in the layout :func:`load_npz` reads (labels as class names for classification)."""
    extra: dict[str, np.ndarray] = {"channels": np.asarray(data.channels)}
    if data.task.is_regression:
        extra.update(target=np.asarray(data.task.target), unit=np.asarray(data.task.unit))
    else:
        extra["classes"] = np.asarray(data.task.classes)
    extra["synthetic"] = np.asarray(data.synthetic)
    return atomic_write(
        Path(path),
        lambda fh: np.savez(fh, x=data.x, y=data.y, fs_hz=np.asarray(data.fs_hz), groups=data.groups, **extra),
    )


class WindowDataset(DataSource):
    """A dataset whose windows are already cut (the array-style dataset protocol): ``.npz`` files and the
    heart-rate datasets (:mod:`biowear.data.hr`). ``prepare`` turns its :class:`ArrayData` into a prepared
    dataset; its "records" are the groups (subjects) of the arrays, so record and group splits work.

    Subclasses implement :meth:`record_ids`, :meth:`load_arrays` and :meth:`fingerprint`.

    Attributes:
        name: registry (or source) name; groups are addressed as ``name/group``.
        description: one line for ``biowear data list``.
        fs_hz: the rate of the windows :meth:`load_arrays` returns when no rate is asked for.
        synthetic: True for generated data.
    """

    name: str
    description: str
    fs_hz: float
    synthetic: bool = False

    @abstractmethod
    def record_ids(self) -> tuple[str, ...]:
        """The groups (subjects) of the windows: the "records" that ``DataConfig.records`` and splits name."""

    @abstractmethod
    def load_arrays(self, fs_hz: float | None = None, channels: tuple[str, ...] | None = None) -> ArrayData:
        """The windows: at ``fs_hz`` and with ``channels`` when the dataset cuts them itself (None: its
        defaults); a dataset of fixed windows returns its own (``prepare`` then resamples and selects)."""


@dataclass(frozen=True)
class ArrayDataset(WindowDataset):
    """A ``.npz`` array file used as a dataset (``DataConfig.sources = {name: "file.npz"}``).

    Its "records" are the groups of the file, so record and group splits work as for recorded data.
    """

    name: str
    path: Path
    synthetic: bool = False

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"array file {self.path}"

    def load_arrays(self, fs_hz: float | None = None, channels: tuple[str, ...] | None = None) -> ArrayData:
        """The file's arrays as stored (``fs_hz`` and ``channels`` are applied by ``prepare``)."""
        return load_npz(self.path)

    @property
    def fs_hz(self) -> float:  # type: ignore[override]
        return self.load_arrays().fs_hz

    def record_ids(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.load_arrays().groups.tolist())))

    def available(self, root: Path | None = None) -> bool:
        return self.path.is_file()

    def fingerprint(self, root: Path | None = None) -> str:
        """sha256 of the file (memoised by path, mtime and size)."""
        return content_fingerprint([self.path], salt="npz")
