"""The data recipe (:class:`DataConfig`) and the registries of its named steps (filters, normalisations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biowear.data.arrays import ArrayDataset, WindowDataset
from biowear.data.datasets import DATASETS, Dataset
from biowear.data.folder import WFDBFolderDataset
from biowear.data.labels import LabelMap, resolve_label_map
from biowear.data.windows import WindowConfig
from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.signal import bandpass, remove_baseline, zscore
from biowear.validate import Each, Interval, Rule, check, check_value


@dataclass(frozen=True)
class Filter:
    """A registered filter: ``apply(x, fs_hz, band_hz)`` filters ``x`` along axis 0 (samples)."""

    description: str
    apply: Callable[[np.ndarray, float, tuple[float, float]], np.ndarray]


@dataclass(frozen=True)
class Normalisation:
    """A registered normalisation: ``per_record`` runs on each record ``(samples, channels)`` before cutting,
    ``per_window`` on the stacked windows ``(n, channels, samples)``."""

    description: str
    per_record: Callable[[np.ndarray], np.ndarray] | None = None
    per_window: Callable[[np.ndarray], np.ndarray] | None = None


FILTERS: Registry[Filter] = Registry("filter")
FILTERS.register("none", Filter("no filtering", lambda x, fs, band: x))
FILTERS.register(
    "bandpass", Filter("zero-phase Butterworth band-pass (band_hz)", lambda x, fs, band: bandpass(x, fs, *band))
)
FILTERS.register("baseline", Filter("median-filter baseline removal", lambda x, fs, band: remove_baseline(x, fs)))

NORMALISATIONS: Registry[Normalisation] = Registry("normalisation")
NORMALISATIONS.register("window", Normalisation("z-score each window", per_window=lambda x: zscore(x, axis=-1)))
NORMALISATIONS.register(
    "record", Normalisation("z-score each record (array groups)", per_record=lambda x: zscore(x, axis=0))
)
NORMALISATIONS.register("none", Normalisation("no normalisation"))


def _normalise_sources(sources: object) -> tuple[tuple[str, str], ...]:
    """A sorted tuple of (name, path) pairs from a mapping or a sequence of pairs."""
    if sources is None:
        return ()
    items = list(sources.items()) if isinstance(sources, Mapping) else list(sources)  # type: ignore[call-overload]
    pairs = []
    for item in items:
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            raise ConfigError(f"DataConfig.sources must map names to paths, got item {item!r}")
        name, path = str(item[0]), str(item[1])
        if not name or "/" in name or name != name.strip():
            raise ConfigError(f"DataConfig.sources: name {name!r} must be non-empty, without '/' or spaces around it")
        if name in DATASETS:
            raise ConfigError(
                f"DataConfig.sources: name {name!r} shadows a built-in dataset; built-ins are: "
                f"{', '.join(DATASETS.names())}"
            )
        pairs.append((name, path))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        raise ConfigError(f"DataConfig.sources: duplicate names in {names}")
    return tuple(sorted(pairs))


@dataclass(frozen=True)
class DataConfig:
    """Everything that determines a prepared dataset (and so its cache key).

    Args:
        datasets: dataset names whose records are pooled (registered names such as ``mitdb``, or names of
            ``sources``); empty: the sources' names, or ``("mitdb",)`` without sources.
        labels: a label-map preset name or a ``{class: [codes]}`` mapping (see :mod:`biowear.data.labels`).
            For array data, a mapping groups the arrays' class names into output classes (windows of other
            names are dropped); a preset name keeps the arrays' own classes or targets.
        records: optional subset, as ``"dataset/record"`` or bare record names when one dataset is used.
        fs_hz: working sampling rate; None keeps the first dataset's native rate (others are resampled). The
            heart-rate datasets (``ieee_spc2015``, ``ppg_dalia``, ``wesad_hr``) cut their windows at this rate
            (default 32 Hz).
        window: segmentation settings (unused for array data, which is already windowed).
        filter: a :data:`FILTERS` name: ``bandpass`` (zero-phase Butterworth, ``band_hz``), ``baseline``
            (median-filter baseline removal) or ``none``. Arrays are filtered along their sample axis.
        band_hz: band-pass edges in Hz.
        normalize: a :data:`NORMALISATIONS` name: ``window`` (z-score each window), ``record`` (z-score each
            record; for arrays each group) or ``none``.
        n_channels: number of leads used (the dataset's preferred lead first) when ``channels`` is None;
            array data keeps all its channels.
        channels: channel names to use, in this order (e.g. ``("MLII", "V5")``); an unknown name is an error
            listing the record's channels. Heart-rate datasets offer ``ppg`` (mean of the PPG channels),
            ``ppg1``, ``ppg2``, ``acc_x``, ``acc_y``, ``acc_z`` (default ``ppg, acc_x, acc_y, acc_z``).
        sources: datasets given by path, as ``{name: path}`` or (name, path) pairs (normalised to a sorted
            tuple of pairs): a folder of WFDB records, or a ``.npz`` array file. A name may not shadow a
            built-in dataset.
        annotator: annotation file extension of WFDB folder sources.

    Raises:
        ConfigError: unknown names, out-of-range numbers, bad sources or channels, an invalid label map.
    """

    datasets: tuple[str, ...] = ()
    labels: str | Mapping[str, Sequence[str]] = "binary"
    records: tuple[str, ...] | None = None
    fs_hz: float | None = None
    window: WindowConfig = field(default_factory=WindowConfig)
    filter: str = "bandpass"
    band_hz: tuple[float, float] = (0.5, 40.0)
    normalize: str = "window"
    n_channels: int = 1
    channels: tuple[str, ...] | None = None
    sources: tuple[tuple[str, str], ...] = ()
    annotator: str = "atr"

    RULES = {
        "fs_hz": Interval(float, 10, 10_000, optional=True),
        "n_channels": Interval(int, 1, None),
        "band_hz": Each(Interval(float, 0, None, closed="neither"), non_empty=True),
    }

    def __post_init__(self) -> None:
        sources = _normalise_sources(self.sources)
        object.__setattr__(self, "sources", sources)
        datasets = tuple(self.datasets) or (tuple(n for n, _ in sources) or ("mitdb",))
        object.__setattr__(self, "datasets", datasets)
        if self.records is not None:
            object.__setattr__(self, "records", tuple(self.records))
        object.__setattr__(self, "band_hz", tuple(self.band_hz))
        if self.channels is not None:
            object.__setattr__(self, "channels", tuple(str(c) for c in self.channels))
        for name in datasets:
            self._check_name(name)
        if any(self.is_array(n) for n in datasets) and len(datasets) > 1:
            raise ConfigError(
                f"an array dataset (a .npz source or an already-windowed dataset such as ieee_spc2015) cannot be "
                f"pooled with other datasets: {list(datasets)}"
            )
        FILTERS.get(self.filter)
        NORMALISATIONS.get(self.normalize)
        check(self, self.RULES)
        if len(self.band_hz) != 2 or not self.band_hz[0] < self.band_hz[1]:
            raise ConfigError(f"DataConfig.band_hz must be two edges low < high in Hz, got {self.band_hz}")
        if self.channels is not None:
            check_value("DataConfig", "channels", self.channels, Each(_NAME, non_empty=True, distinct=True))
            if self.n_channels not in (1, len(self.channels)):
                raise ConfigError("give DataConfig.channels (names) or n_channels (a count), not both")
        if not self.annotator or not self.annotator.isalnum():
            raise ConfigError(f"DataConfig.annotator must be a file extension such as 'atr', got {self.annotator!r}")
        self.label_map()  # validate early

    def _check_name(self, name: str) -> None:
        if name in self.source_paths():
            return
        try:
            DATASETS.get(name)
        except ConfigError as exc:
            extra = f"; sources: {', '.join(self.source_paths())}" if self.sources else ""
            raise ConfigError(f"{exc}{extra}") from None

    def source_paths(self) -> dict[str, str]:
        """``{name: path}`` of the path-given datasets."""
        return dict(self.sources)

    def is_array(self, name: str) -> bool:
        """True when ``name`` is an array dataset: a ``.npz`` source or a registered window dataset."""
        path = self.source_paths().get(name)
        if path is None:
            return name in DATASETS and isinstance(DATASETS.get(name), WindowDataset)
        return path.lower().endswith(".npz")

    def dataset(self, name: str) -> Dataset | WindowDataset:
        """The dataset called ``name``: a source (folder or array file) or a registered dataset."""
        path = self.source_paths().get(name)
        if path is None:
            return DATASETS.get(name)
        if self.is_array(name):
            return ArrayDataset(name, Path(path).expanduser())
        return WFDBFolderDataset(name, Path(path), annotator=self.annotator)

    def label_map(self) -> LabelMap:
        return resolve_label_map(self.labels)

    def working_fs_hz(self) -> float:
        return self.fs_hz or self.dataset(self.datasets[0]).fs_hz

    def record_keys(self) -> list[tuple[str, str]]:
        """The (dataset, record) pairs this config uses, validated."""
        if self.records is None:
            return [(d, r) for d in self.datasets for r in self.dataset(d).record_ids()]
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
            ds = self.dataset(d)
            if r not in ds.record_ids():
                raise ConfigError(f"dataset {d!r} has no record(s) {r}; valid records are: {' '.join(ds.record_ids())}")
            keys.append((d, r))
        return keys

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; fields at their neutral default (no channels, sources, default annotator) are left
        out, so cache keys of configurations without them are those of earlier versions."""
        d = asdict(self)
        d["labels"] = self.label_map().to_dict()
        neutral: dict[str, object] = {"channels": None, "sources": (), "annotator": "atr"}
        for name, value in neutral.items():
            if d[name] == value:
                del d[name]
        if "sources" in d:
            d["sources"] = [list(p) for p in self.sources]
        return d


class _Name(Rule):
    """A non-empty string (channel name)."""

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def describe(self) -> str:
        return "a non-empty name"


_NAME = _Name()
