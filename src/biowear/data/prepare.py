"""Turning records into a labelled, windowed, cached dataset of tensors-to-be."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from biowear.data.datasets import get_dataset
from biowear.data.labels import LabelMap, resolve_label_map
from biowear.data.record import Record
from biowear.data.windows import WindowConfig, Windows, kachuee_beats, segment
from biowear.errors import ConfigError, DataError
from biowear.paths import cache_dir
from biowear.signal import bandpass, remove_baseline, resample, zscore

log = logging.getLogger(__name__)

FILTERS: tuple[str, ...] = ("none", "bandpass", "baseline")
NORMALISATIONS: tuple[str, ...] = ("window", "record", "none")
#: Bumped when the cache file layout or the windows biowear produces change (invalidates cache files only).
_CACHE_VERSION = 3

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DataConfig:
    """Everything that determines a prepared dataset (and so its cache key).

    Args:
        datasets: registered dataset names whose records are pooled (e.g. ``("mitdb", "cudb")``).
        labels: a label-map preset name or a ``{class: [codes]}`` mapping.
        records: optional subset, as ``"dataset/record"`` or bare record names when one dataset is used.
        fs_hz: working sampling rate; None keeps the first dataset's native rate (others are resampled).
        window: segmentation settings.
        filter: ``bandpass`` (zero-phase Butterworth, ``band_hz``), ``baseline`` (median-filter baseline
            removal) or ``none``.
        band_hz: band-pass edges in Hz.
        normalize: ``window`` (z-score each window), ``record`` (z-score each record) or ``none``.
        n_channels: number of leads used (the dataset's preferred lead first).
    """

    datasets: tuple[str, ...] = ("mitdb",)
    labels: str | Mapping[str, Sequence[str]] = "binary"
    records: tuple[str, ...] | None = None
    fs_hz: float | None = None
    window: WindowConfig = field(default_factory=WindowConfig)
    filter: str = "bandpass"
    band_hz: tuple[float, float] = (0.5, 40.0)
    normalize: str = "window"
    n_channels: int = 1

    def __post_init__(self) -> None:
        if not self.datasets:
            raise ConfigError("at least one dataset is needed")
        for name in self.datasets:
            get_dataset(name)
        if self.filter not in FILTERS:
            raise ConfigError(f"unknown filter {self.filter!r}; valid options are: {', '.join(FILTERS)}")
        if self.normalize not in NORMALISATIONS:
            raise ConfigError(
                f"unknown normalisation {self.normalize!r}; valid options are: {', '.join(NORMALISATIONS)}"
            )
        if self.fs_hz is not None and not 10 <= self.fs_hz <= 10_000:
            raise ConfigError(f"fs_hz must be within 10..10000 Hz, got {self.fs_hz}")
        if self.n_channels < 1:
            raise ConfigError(f"n_channels must be >= 1, got {self.n_channels}")
        self.label_map()  # validate early

    def label_map(self) -> LabelMap:
        return resolve_label_map(self.labels)

    def working_fs_hz(self) -> float:
        return self.fs_hz or get_dataset(self.datasets[0]).fs_hz

    def record_keys(self) -> list[tuple[str, str]]:
        """The (dataset, record) pairs this config uses, validated."""
        if self.records is None:
            return [(d, r) for d in self.datasets for r in get_dataset(d).record_ids()]
        keys = []
        for item in self.records:
            if "/" in item:
                d, r = item.split("/", 1)
            elif len(self.datasets) == 1:
                d, r = self.datasets[0], item
            else:
                raise ConfigError(f"record {item!r} is ambiguous with several datasets; write 'dataset/record'")
            if d not in self.datasets:
                raise ConfigError(f"record {item!r} names dataset {d!r}, which is not in {list(self.datasets)}")
            get_dataset(d).check_records((r,))
            keys.append((d, r))
        return keys

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["labels"] = self.label_map().to_dict()
        return d


@dataclass(frozen=True)
class PreparedDataset:
    """Windows ready for training.

    Attributes:
        x: float32 ``(n_windows, n_channels, window_samples)``.
        y: int64 class index per window.
        record_index: int index into ``record_keys`` per window.
        record_keys: ``"dataset/record"`` names.
        classes: class names (output order).
        fs_hz: working sampling rate.
        synthetic: True when any source is synthetic.
        key: cache key (hash of the config and the data fingerprints).
    """

    x: np.ndarray
    y: np.ndarray
    record_index: np.ndarray
    record_keys: tuple[str, ...]
    classes: tuple[str, ...]
    fs_hz: float
    synthetic: bool
    key: str

    @property
    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def records_mask(self, keys: Sequence[str]) -> np.ndarray:
        """Boolean mask of windows whose record is in ``keys``."""
        selected = set(keys)
        wanted = [i for i, k in enumerate(self.record_keys) if k in selected]
        return np.isin(self.record_index, wanted)


def _preprocess(record: Record, config: DataConfig, fs_hz: float, preferred: tuple[str, ...]) -> np.ndarray:
    if record.signal.shape[1] < config.n_channels:
        raise DataError(
            f"record {record.dataset}/{record.record_id} has {record.signal.shape[1]} channel(s); "
            f"{config.n_channels} requested"
        )
    first = record.channel_index(preferred)
    order = [first] + [i for i in range(record.signal.shape[1]) if i != first]
    x = record.signal[:, order[: config.n_channels]]
    x = resample(x, record.fs_hz, fs_hz)
    if config.filter == "bandpass":
        x = bandpass(x, fs_hz, *config.band_hz)
    elif config.filter == "baseline":
        x = remove_baseline(x, fs_hz)
    if config.normalize == "record":
        x = zscore(x, axis=0)
    return x


def _drop_invalid(win: Windows, invalid: np.ndarray, n_samples: int, length: int) -> Windows:
    """Remove windows that overlap samples the source marked invalid (mask mapped to the working rate)."""
    source = np.minimum((np.arange(n_samples) * len(invalid)) // n_samples, len(invalid) - 1)
    bad = np.concatenate([[0], np.cumsum(invalid[source])])
    keep = bad[win.starts + length] - bad[win.starts] == 0
    if not keep.all():
        log.info("dropped %d window(s) over invalid samples", int((~keep).sum()))
    return Windows(win.starts[keep], win.labels[keep])


def _cache_key(config: DataConfig) -> str:
    """Identity of the prepared data: configuration + data fingerprints. Training keys (and so stored
    explorations) build on it, so it does not change with the cache file format."""
    fingerprints = {d: get_dataset(d).fingerprint() for d in config.datasets}
    text = json.dumps({"config": config.to_dict(), "data": fingerprints}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def prepare(config: DataConfig, use_cache: bool = True, progress: ProgressFn | None = None) -> PreparedDataset:
    """Load, preprocess, segment and label every record of ``config``; cached on disk by config hash.

    Raises:
        DataError: a record is missing or corrupt, or a class gets no samples.
    """
    labels = config.label_map()
    keys = config.record_keys()
    key = _cache_key(config)
    path = cache_dir() / "prepared" / f"{key}-v{_CACHE_VERSION}.npz"
    if use_cache and path.is_file():
        try:
            return _load(path, key)
        except Exception as exc:  # a truncated cache file is rebuilt, not trusted
            log.warning("ignoring unreadable cache %s (%s)", path, exc)
    fs_hz = config.working_fs_hz()
    xs, ys, idx = [], [], []
    synthetic = False
    for i, (dname, rid) in enumerate(keys):
        if progress:
            progress(i, len(keys), f"{dname}/{rid}")
        ds = get_dataset(dname)
        record = ds.load(rid)
        synthetic |= record.synthetic
        signal = _preprocess(record, config, fs_hz, ds.preferred_channels)
        ann = record.annotations.rescaled(fs_hz / record.fs_hz, signal.shape[0])
        if config.window.kind == "kachuee":
            xk, yk = kachuee_beats(signal, ann, labels, fs_hz, config.window.window_samples, ds.beats_classified)
            if len(yk):
                xs.append(xk)
                ys.append(yk)
                idx.append(np.full(len(yk), i, dtype=np.int64))
            continue
        win = segment(ann, signal.shape[0], labels, config.window, use_beats=ds.beats_classified)
        if record.invalid is not None and record.invalid.any():
            win = _drop_invalid(win, record.invalid, signal.shape[0], config.window.window_samples)
        if len(win.starts):
            offsets = win.starts[:, None] + np.arange(config.window.window_samples)[None, :]
            xs.append(np.transpose(signal[offsets], (0, 2, 1)).astype(np.float32))
            ys.append(win.labels)
            idx.append(np.full(len(win.starts), i, dtype=np.int64))
    if progress:
        progress(len(keys), len(keys), "done")
    if not xs:
        raise DataError(f"no labelled windows in {len(keys)} record(s) for classes {list(labels.classes)}")
    x = np.concatenate(xs)
    if config.normalize == "window" and config.window.kind != "kachuee":  # Kachuee beats bring their own scaling
        x = zscore(x, axis=-1)
    data = PreparedDataset(
        x=x,
        y=np.concatenate(ys),
        record_index=np.concatenate(idx),
        record_keys=tuple(f"{d}/{r}" for d, r in keys),
        classes=labels.classes,
        fs_hz=fs_hz,
        synthetic=synthetic,
        key=key,
    )
    empty = [c for c, n in data.class_counts.items() if n == 0]
    if empty:
        raise DataError(
            f"class(es) {', '.join(empty)} have no samples in the selected records "
            f"(counts: {data.class_counts}); add records/datasets that contain them or change the label map"
        )
    if use_cache:
        _save(path, data)
    return data


def _save(path: Path, data: PreparedDataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    meta = json.dumps(
        {"record_keys": data.record_keys, "classes": data.classes, "fs_hz": data.fs_hz, "synthetic": data.synthetic}
    )
    np.savez(tmp, x=data.x, y=data.y, record_index=data.record_index, meta=np.array(meta))
    tmp.replace(path)


def _load(path: Path, key: str) -> PreparedDataset:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return PreparedDataset(
            x=z["x"],
            y=z["y"],
            record_index=z["record_index"],
            record_keys=tuple(meta["record_keys"]),
            classes=tuple(meta["classes"]),
            fs_hz=float(meta["fs_hz"]),
            synthetic=bool(meta["synthetic"]),
            key=key,
        )
