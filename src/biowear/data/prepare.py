"""Turning records (or array files) into a labelled, windowed, cached dataset of tensors-to-be.

Cache files live in ``<cache>/prepared/<key>-v<version>.npz``. The key hashes the configuration and each
dataset's fingerprint (for WFDB folders and ``.npz`` sources the sha256 of their files; for the built-ins
their file sizes and headers, unchanged since earlier versions so training keys stay valid). Every cache file
also records the content fingerprint (sha256 of every file, memoised by path, mtime and size) of its data and
is rebuilt when it differs, so edited data is never served from the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable

import numpy as np

from biowear.data.array_prepare import from_arrays, prepare_array_data
from biowear.data.arrays import WindowDataset
from biowear.data.config import FILTERS, NORMALISATIONS, DataConfig
from biowear.data.datasets import Dataset
from biowear.data.labels import LabelMap, code_kind, episode_key
from biowear.data.prepared import CACHE_VERSION, PreparedDataset, load_cache, save_cache
from biowear.data.record import Record
from biowear.data.task import Task
from biowear.data.windows import WINDOW_KINDS, CutContext
from biowear.errors import DataError
from biowear.paths import cache_dir
from biowear.signal import resample

__all__ = ["DataConfig", "PreparedDataset", "from_arrays", "prepare", "select_channels"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


def select_channels(record: Record, config: DataConfig, preferred: tuple[str, ...]) -> np.ndarray:
    """The record's columns chosen by ``config.channels`` (names) or, without names, the preferred lead first
    and ``config.n_channels`` of them.

    Raises:
        DataError: an unknown channel name (listing the record's channels) or too few channels.
    """
    name = f"{record.dataset}/{record.record_id}"
    if config.channels is not None:
        missing = [c for c in config.channels if c not in record.channels]
        if missing:
            raise DataError(
                f"record {name} has no channel(s) {', '.join(missing)}; its channels are: {', '.join(record.channels)}"
            )
        return record.signal[:, [record.channels.index(c) for c in config.channels]]
    if record.signal.shape[1] < config.n_channels:
        raise DataError(f"record {name} has {record.signal.shape[1]} channel(s); {config.n_channels} requested")
    first = record.channel_index(preferred)
    order = [first] + [i for i in range(record.signal.shape[1]) if i != first]
    return record.signal[:, order[: config.n_channels]]


def _preprocess(record: Record, config: DataConfig, fs_hz: float, preferred: tuple[str, ...]) -> np.ndarray:
    x = resample(select_channels(record, config, preferred), record.fs_hz, fs_hz)
    x = FILTERS.get(config.filter).apply(x, fs_hz, config.band_hz)
    per_record = NORMALISATIONS.get(config.normalize).per_record
    return per_record(x) if per_record else x


def _cache_key(config: DataConfig) -> str:
    """Identity of the prepared data: configuration + data fingerprints. Training keys (and so stored
    explorations) build on it, so it does not change with the cache file format. Source paths are left out:
    a moved folder keeps its key, edited data gets a new one (through its content fingerprint)."""
    fingerprints = {d: config.dataset(d).fingerprint() for d in config.datasets}
    cfg = config.to_dict()
    cfg.pop("sources", None)
    text = json.dumps({"config": cfg, "data": fingerprints}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def prepare(config: DataConfig, use_cache: bool = True, progress: ProgressFn | None = None) -> PreparedDataset:
    """Load, preprocess, segment and label every record of ``config``; cached on disk by config hash.

    Raises:
        DataError: a record is missing or corrupt, a class's codes never occur in the selected records
            (naming the codes that do), or a class gets no samples.
    """
    key = _cache_key(config)
    content = {d: config.dataset(d).content_fingerprint() for d in config.datasets}
    path = cache_dir() / "prepared" / f"{key}-v{CACHE_VERSION}.npz"
    if use_cache and path.is_file():
        try:
            cached = load_cache(path, key, content)
            if cached is not None:
                return cached
            log.info("cache %s was built from other data contents; rebuilding", path)
        except Exception as exc:  # a truncated cache file is rebuilt, not trusted
            log.warning("ignoring unreadable cache %s (%s)", path, exc)
    first = config.dataset(config.datasets[0])
    if isinstance(first, WindowDataset):
        arrays = first.load_arrays(config.fs_hz, config.channels)
        groups = None if config.records is None else tuple(r for _, r in config.record_keys())
        data = prepare_array_data(arrays, config, first.name, key, groups)
    else:
        data = _prepare_records(config, key, progress)
    if use_cache:
        save_cache(path, data, content)
    return data


def _prepare_records(config: DataConfig, key: str, progress: ProgressFn | None) -> PreparedDataset:
    labels = config.label_map()
    keys = config.record_keys()
    fs_hz = config.working_fs_hz()
    kind = WINDOW_KINDS.get(config.window.kind)
    xs, ys, idx, groups = [], [], [], []
    synthetic = False
    seen = _CodesSeen()
    datasets: dict[str, Dataset] = {}
    for i, (dname, rid) in enumerate(keys):
        if progress:
            progress(i, len(keys), f"{dname}/{rid}")
        ds = datasets.setdefault(dname, config.dataset(dname))  # type: ignore[arg-type]
        record = ds.load(rid)
        synthetic |= record.synthetic
        seen.add(record, ds.beats_classified)
        groups.append(f"{dname}/{ds.group_of(rid)}")
        signal = _preprocess(record, config, fs_hz, ds.preferred_channels)
        ann = record.annotations.rescaled(fs_hz / record.fs_hz, signal.shape[0])
        ctx = CutContext(signal, ann, fs_hz, record.invalid, ds.beats_classified)
        xk, yk = kind.cut(ctx, labels, config.window)
        if len(yk):
            xs.append(xk)
            ys.append(yk)
            idx.append(np.full(len(yk), i, dtype=np.int64))
    if progress:
        progress(len(keys), len(keys), "done")
    if not xs:
        seen.check(labels, {c: 0 for c in labels.classes})
        raise DataError(f"no labelled windows in {len(keys)} record(s) for classes {list(labels.classes)}")
    x = np.concatenate(xs)
    per_window = NORMALISATIONS.get(config.normalize).per_window
    if per_window and not kind.self_normalised:  # Kachuee beats bring their own scaling
        x = per_window(x)
    data = PreparedDataset(
        x=x,
        y=np.concatenate(ys),
        record_index=np.concatenate(idx),
        record_keys=tuple(f"{d}/{r}" for d, r in keys),
        task=Task.classification(labels.classes),
        fs_hz=fs_hz,
        synthetic=synthetic,
        key=key,
        record_groups=tuple(groups),
    )
    seen.check(labels, data.class_counts)
    return data


class _CodesSeen:
    """Annotation codes met in the prepared records, to explain classes that get no windows."""

    def __init__(self) -> None:
        self.beats: Counter[str] = Counter()
        self.notes: Counter[tuple[str, str]] = Counter()

    def add(self, record: Record, beats_classified: bool) -> None:
        a = record.annotations
        if beats_classified:
            self.beats.update(a.symbol)
        else:
            self.beats.update(s for s in a.symbol if s in "[]")
        self.notes.update((s, n.strip()) for s, n in zip(a.symbol, a.aux_note) if n.strip())

    def occurs(self, code: str) -> bool:
        kind = code_kind(code)
        if kind in ("beat", "vf"):
            return self.beats[code] > 0
        symbol, text = episode_key(code)
        return any(t == text and (symbol is None or s == symbol) for s, t in self.notes)

    def check(self, labels: LabelMap, counts: dict[str, int]) -> None:
        """Raise :class:`DataError` for classes without windows, naming the codes that do occur."""
        empty = [c for c, n in counts.items() if n == 0]
        if not empty:
            return
        never = [c for c in empty if not any(self.occurs(code) for code in labels.codes[c])]
        detail = ""
        if never:
            beats = ", ".join(f"{k} ({v})" for k, v in self.beats.most_common())
            notes = ", ".join(f"{s} {t!r} ({v})" for (s, t), v in self.notes.most_common(30))
            codes = ", ".join(sorted(set().union(*(labels.codes[c] for c in never))))
            detail = (
                f"; the codes of {', '.join(never)} ({codes}) "
                f"never occur. Annotation symbols that occur: {beats or 'none'}; aux notes (symbol 'note'): "
                f"{notes or 'none'} (map a note with aux:TEXT, a rhythm with (LABEL)"
            )
        raise DataError(
            f"class(es) {', '.join(empty)} have no samples in the selected records (counts: {counts}){detail}; "
            f"add records/datasets that contain them or change the label map"
        )
