"""The public Python API: explore a space, take its Pareto networks, compress one, save it, predict with it.

Modelled on Optuna (``create_study`` / ``optimize``, studies resumable from their folder) and scikit-learn
(``fit``/``predict``, see :class:`biowear.estimator.Network`)::

    import biowear as bw

    study = bw.create_study("beats", data="mitdb", family="resnet_lstm", space={"blocks": (0, 2)},
                            directory="runs/beats")
    study.optimize("nsga2")
    net = study.pareto_front()[0].load()
    result = bw.compress_model(net, directory="runs/beats/compress")
    small = result.best(max_loss=0.5)
    result.save(small, "runs/beats/small.pt")
    bw.load_model("runs/beats/small.pt").predict(windows)

Every object here is a thin layer over the library modules the command line uses too, so results, files and
caches are shared between the API and ``biowear ...`` commands.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from biowear.compress.config import CompressionConfig
from biowear.compress.points import CompressionPoint, best_within_loss
from biowear.data import DataConfig, PreparedDataset, SplitConfig, make_split, prepare
from biowear.data.arrays import content_digest, save_npz, validate_arrays
from biowear.errors import ConfigError
from biowear.search import Constraints, GAConfig, Objective, Point, StrategyResult, Study, StudyConfig
from biowear.search.evaluate import load_data as _study_data
from biowear.search.executor import EXECUTORS
from biowear.train import SavedModel, TrainConfig, check_matches, load_model, save_model
from biowear.train.artifacts import build_model
from biowear.validate import build

DataLike = DataConfig | PreparedDataset | str | Path | Mapping[str, Any]


# ---------------------------------------------------------------------------------------------- data
def data_config(data: DataLike | None, directory: Path | None = None, **recipe: Any) -> DataConfig:
    """A :class:`DataConfig` from what a user has at hand.

    Args:
        data: a ``DataConfig``; a registered dataset name (``"mitdb"``); a path to a WFDB folder or a ``.npz``
            array file; or in-memory arrays ``{"x": ..., "y": ..., "fs_hz": ..., "groups": ...}`` (the ``.npz``
            layout), which are written once to ``directory/data/arrays-<hash>.npz`` so that studies and caches
            can key them by content.
        recipe: further ``DataConfig`` fields (labels, window, fs_hz, filter, normalize, records, ...).

    Raises:
        ConfigError: an unknown name, a missing path, or arrays without a folder to keep them in.
    """
    if isinstance(data, DataConfig):
        return replace(data, **recipe) if recipe else data
    if data is None:
        return DataConfig(**recipe)
    if isinstance(data, Mapping):
        if directory is None:
            raise ConfigError("in-memory arrays need a directory= to be kept in (they are saved as .npz there)")
        arrays = validate_arrays(
            data.get("x"), data.get("y"), data.get("fs_hz"), data.get("groups"), data.get("classes"),
            data.get("channels"), str(data.get("target", "target")), str(data.get("unit", "")), source="arrays",
            synthetic=bool(data.get("synthetic", False)),
        )  # fmt: skip
        described = {"task": arrays.task.to_dict(), "fs_hz": arrays.fs_hz, "channels": arrays.channels,
                     "synthetic": arrays.synthetic, "values": content_digest(arrays)}  # fmt: skip
        digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
        path = Path(directory) / "data" / f"arrays-{digest[:12]}.npz"  # same content, same file
        if not path.exists():
            save_npz(path, arrays)
        recipe.setdefault("filter", "none")
        recipe.setdefault("normalize", "none")
        return DataConfig(sources={"arrays": str(path.resolve())}, **recipe)
    text = str(data)
    path = Path(text).expanduser()
    if path.suffix == ".npz" or path.is_dir():
        if not path.exists():
            raise ConfigError(f"data path {path} does not exist")
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem) or "data"
        if path.suffix == ".npz":
            recipe.setdefault("filter", "none")
            recipe.setdefault("normalize", "none")
        return DataConfig(sources={name: str(path.resolve())}, **recipe)
    return DataConfig(datasets=(text,), **recipe)


def load_data(data: DataLike, directory: Path | None = None, **recipe: Any) -> PreparedDataset:
    """Prepared (windowed, labelled, cached) data from anything :func:`data_config` accepts."""
    if isinstance(data, PreparedDataset):
        return data
    return prepare(data_config(data, directory, **recipe))


# ---------------------------------------------------------------------------------------------- explore
@dataclass(frozen=True)
class ParetoNetwork:
    """One network of a front: its architecture, quality, hardware cost and saved weights.

    Attributes:
        arch: the family's architecture object; label: its text form.
        value: the quality metric in its own unit and direction (e.g. accuracy, or MAE).
        quality: Q, higher is better; hardware: bytes or FLOPs (the objective's measure).
        metrics, cost: the full test metrics and exact cost.
        path: the saved ``model.pt``.
    """

    arch: Any
    label: str
    value: float
    quality: float
    hardware: float
    metrics: dict[str, Any]
    cost: dict[str, Any]
    path: Path
    split: SplitConfig
    train: TrainConfig

    def load(self) -> SavedModel:
        """The trained network (with the split and training recipe of its study, for :func:`compress`)."""
        saved = load_model(self.path)
        saved.meta.setdefault("split", self.split)
        saved.meta.setdefault("train", self.train)
        return saved


class ExplorationStudy:
    """An architecture-space exploration kept in ``directory`` (a SQLite store + trained models); opening the
    same directory and name again resumes it, and every strategy shares the trained networks.

    Create it with :func:`create_study`.
    """

    def __init__(self, config: StudyConfig, directory: Path):
        self.config, self.directory = config, Path(directory)
        self._study = Study(config, self.directory)
        self.results: dict[str, StrategyResult] = {}
        self.data = _study_data(config.data)
        self.synthetic = bool(self.data.synthetic)

    @property
    def space(self) -> Any:
        """The :class:`~biowear.search.space.ArchitectureSpace` explored."""
        return self._study.space

    def optimize(
        self,
        strategy: str = "nsga2",
        executor: str = "local",
        workers: int = 2,
        callback: Callable[[str, Any, Any, bool], None] | None = None,
    ) -> StrategyResult:
        """Run (or resume) one registered strategy; ``callback(strategy, arch, evaluation, reused)`` hears of
        every network as it finishes (the command line draws its progress with it)."""
        pool = EXECUTORS.get(executor)(workers, ()) if executor != "local" else None
        try:
            result = self._study.run(strategy, pool, callback)
        finally:
            if pool is not None:
                pool.close()
        self.results[strategy] = result
        return result

    def _points(self, strategy: str | None) -> Sequence[Point]:
        if strategy is None:
            return self._study.all_points()
        return self._study.result(strategy).points

    def pareto_front(self, strategy: str | None = None) -> list[ParetoNetwork]:
        """The non-dominated networks (quality vs hardware) of one strategy, or of every network trained in
        this study when ``strategy`` is None; best quality first."""
        from biowear.search.pareto import pareto_mask

        points = list(self._points(strategy))
        mask = pareto_mask([p.quality for p in points], [p.hardware for p in points])
        front = [p for p, keep in zip(points, mask) if keep]
        return [self._network(p) for p in sorted(front, key=lambda p: (-p.quality, p.hardware))]

    def best(self, strategy: str | None = None) -> ParetoNetwork:
        """The network with the highest objective value phi."""
        points = list(self._points(strategy))
        if not points:
            raise ConfigError("no network has been trained in this study yet; call optimize() first")
        return self._network(max(points, key=lambda p: p.phi))

    def _network(self, p: Point) -> ParetoNetwork:
        ev = p.evaluation
        return ParetoNetwork(
            p.arch, self._study.space.label(p.arch), p.value, p.quality, p.hardware, dict(ev.metrics),
            dict(ev.cost), self.directory / "models" / ev.model_path, self.config.split, self.config.train,
        )  # fmt: skip

    def report(self, out: Path | None = None) -> Path:
        """Render the exploration report (PNG plots, Markdown and HTML tables) of every strategy run so far."""
        from biowear.report.explore import render_study_report

        if not self.results:
            self.results = {s: self._study.result(s) for s in self._study.store.strategies(self.config.name)}
        if not self.results:
            raise ConfigError("nothing to report yet; call optimize() first")
        return render_study_report(self._study, self.results, Path(out or self.directory / "report"), self.synthetic)

    def close(self) -> None:
        self._study.close()


def create_study(
    name: str = "study",
    data: DataLike | None = None,
    *,
    directory: str | Path,
    family: str = "resnet_lstm",
    space: Mapping[str, tuple[int, int]] | None = None,
    constraints: Constraints | Mapping[str, float] | None = None,
    objective: Objective | Mapping[str, Any] | None = None,
    split: SplitConfig | Mapping[str, Any] | None = None,
    train: TrainConfig | Mapping[str, Any] | None = None,
    ga: GAConfig | Mapping[str, Any] | None = None,
    random_fraction: float = 0.1,
    seed: int = 0,
    **recipe: Any,
) -> ExplorationStudy:
    """Create (or reopen) an exploration of a registered family's space.

    Args:
        name: study name inside the store of ``directory``.
        data: anything :func:`data_config` accepts (dataset name, WFDB folder, ``.npz``, arrays, DataConfig).
        directory: the folder holding the store, the trained models and the reports; nothing is written
            outside it (apart from the prepared-data cache).
        family: registered model family (``resnet_lstm``, ``ecg_cnn``, ...).
        space: inclusive ``(low, high)`` bounds per gene of the family; genes not named span their grid.
        constraints, objective, split, train, ga: the config objects or their fields as a mapping.
        recipe: further ``DataConfig`` fields (labels, window, fs_hz, ...).
    """
    directory = Path(directory)

    def section(cls: type, value: Any, label: str) -> Any:
        if value is None:
            return cls()
        return value if isinstance(value, cls) else build(cls, dict(value), label)

    config = StudyConfig(
        name=name,
        data=data_config(data, directory, **recipe),
        split=section(SplitConfig, split, "split"),
        train=section(TrainConfig, train, "train"),
        family=family,
        bounds=dict(space or {}),
        constraints=section(Constraints, constraints, "constraints"),
        objective=section(Objective, objective, "objective"),
        ga=section(GAConfig, ga, "ga"),
        random_fraction=random_fraction,
        seed=seed,
    )
    return ExplorationStudy(config, directory)


# ---------------------------------------------------------------------------------------------- compress
@dataclass
class CompressionResult:
    """The measured variants of one network (the original first) and the context to rebuild any of them."""

    points: list[CompressionPoint]
    base: SavedModel
    data: PreparedDataset
    split: Any
    train: TrainConfig
    config: CompressionConfig
    directory: Path | None

    @property
    def original(self) -> CompressionPoint:
        return self.points[0]

    def best(self, max_loss: float = 0.2) -> CompressionPoint:
        """The most compressed variant whose quality loss is at most ``max_loss`` (percentage points for
        ratios such as accuracy, the target's unit for MAE/RMSE)."""
        chosen = best_within_loss(self.points, max_loss)
        if chosen is None:
            raise ConfigError(f"no variant loses at most {max_loss:g}; the smallest loss is "
                              f"{min(p.quality_loss for p in self.points):g}")  # fmt: skip
        return chosen

    def network(self, point: CompressionPoint | str) -> Any:
        """The compressed network of a measured variant (rebuilt deterministically; pruned networks are read
        back from the run folder)."""
        from biowear.compress.variant_file import variant_model

        label = point if isinstance(point, str) else point.label()
        return variant_model(self.base.model, self.data, self.split, self.train, self.config, label, self.directory)[0]

    def point(self, label: str) -> CompressionPoint:
        """The measured point of a variant label (the error lists the labels)."""
        for p in self.points:
            if p.label() == label:
                return p
        raise ConfigError(
            f"no measured variant {label!r}; valid options are: {', '.join(p.label() for p in self.points)}"
        )

    def save(self, point: CompressionPoint | str, path: str | Path) -> Path:
        """Save a variant as a loadable model file of its kind (see :mod:`biowear.compress.variant_file`):
        pruned and k-means variants keep the architecture, structured ones are resized on load, int8 ones keep
        the float network they came from (``SavedModel.float_model``). ``meta`` records the label, k-means
        bits, storage figure and test metrics."""
        from biowear.compress.variant_file import save_variant, variant_model

        label = point if isinstance(point, str) else point.label()
        measured = self.point(label)
        net, float_model = variant_model(
            self.base.model, self.data, self.split, self.train, self.config, label, self.directory
        )
        return save_variant(Path(path), self.base, net, measured, float_model)


def compress_model(
    model: SavedModel | str | Path | Any,
    data: DataLike | None = None,
    *,
    split: SplitConfig | None = None,
    train: TrainConfig | None = None,
    config: CompressionConfig | None = None,
    directory: str | Path | None = None,
    progress: Callable[[str, bool], None] | None = None,
) -> CompressionResult:
    """Measure compressed variants of a trained network (see :class:`CompressionConfig`).

    Args:
        model: a :class:`SavedModel`, a ``model.pt`` path, or a fitted :class:`~biowear.estimator.Network`.
        data: the data to fine-tune and measure on; default: the recipe recorded in the model file. A model
            and data that do not match (classes, input shape, sampling rate, synthetic vs real) are refused.
        split, train: default the study's (for a front network) or a random 70/10/20 split and default training.
        directory: keeps the run resumable (points and pruned networks); None keeps nothing on disk.
    """
    from biowear.compress.sweep import sweep

    if isinstance(model, (str, Path)):
        model = load_model(Path(model))
    elif hasattr(model, "to_saved"):
        model = model.to_saved()
    if not isinstance(model, SavedModel):
        raise ConfigError(f"compress() takes a SavedModel, a model.pt path or a fitted Network, not {type(model)}")
    if data is None:
        if model.recipe is None:
            raise ConfigError("the model file records no data recipe; pass data= (a DataConfig, name or path)")
        data = build(DataConfig, model.recipe, "data")
    prepared = load_data(data, Path(directory) if directory else None)
    check_matches(model, prepared)
    split_cfg = split or model.meta.get("split") or SplitConfig()
    if isinstance(split_cfg, Mapping):
        split_cfg = build(SplitConfig, dict(split_cfg), "split")
    train_cfg = train or model.meta.get("train") or TrainConfig()
    if isinstance(train_cfg, Mapping):
        train_cfg = build(TrainConfig, dict(train_cfg), "train")
    config = config or CompressionConfig()
    parts = make_split(prepared, split_cfg)
    out = Path(directory) if directory else None
    points = sweep(model.model, prepared, parts, train_cfg, config, directory=out, progress=progress)
    return CompressionResult(points, model, prepared, parts, train_cfg, config, out)


# ---------------------------------------------------------------------------------------------- models
def predict(
    model: SavedModel | str | Path, x: np.ndarray | str | Path, config: DataConfig | str | Path | None = None
) -> np.ndarray:
    """Class indices (classification) or target values (regression) of a saved model of any kind (float,
    pruned, k-means, structured, int8).

    Args:
        model: a :class:`SavedModel` or a model file.
        x: windows ``(n, channels, samples)``; or a ``.npy``/``.npz`` (``x``) file of them; or a WFDB record
            path without extension, cut into windows with ``config`` or the data recipe the model records.

    Raises:
        ConfigError: a missing file, windows of the wrong shape, NaN values, or a record without a recipe.
    """
    from biowear.train.inputs import check_windows, read_windows

    saved = load_model(Path(model)) if isinstance(model, (str, Path)) else model
    if isinstance(x, (str, Path)):
        if isinstance(config, (str, Path)):
            from biowear.train.artifacts import load_recipe

            config = load_recipe(Path(config))[0]
        recipe = config or (build(DataConfig, saved.recipe, "data") if saved.recipe else None)
        windows = read_windows(Path(x), saved.input_shape, recipe)
    else:
        windows = check_windows(x, saved.input_shape)
    return saved.predict(windows)


# ---------------------------------------------------------------------------------------------- deploy
def export_model(
    model: SavedModel | str | Path,
    directory: str | Path,
    calibration: np.ndarray,
    *,
    format: str = "c",
    check: np.ndarray | None = None,
    weights: str = "auto",
    ranges: str = "mse",
    mcu: bool = False,
) -> dict[str, Any]:
    """Export a model file of any kind as int8 C (``format="c"``: ``model.h``/``model.c``/``model_io.c``, a host
    harness and a Makefile, checked bit for bit against the numpy reference on ``check`` windows; with ``mcu``
    also built for Cortex-M4 and run under QEMU) or as ONNX (fp32 and int8 QDQ, verified with onnxruntime).

    Args:
        calibration: training windows ``(n, channels, samples)`` that fix the activation ranges.
        weights: ``auto`` (packed k-means codes for a k-means variant, else ``int8``), ``int8`` or ``kmeans``.

    Returns:
        What ``export.json`` (C) or ``onnx_check.json`` (ONNX) records.
    """
    saved = load_model(Path(model)) if isinstance(model, (str, Path)) else model
    out = Path(directory)
    if format == "onnx":
        from biowear.export.onnx import export_onnx_bundle

        return export_onnx_bundle(saved, out, calibration, verify_windows=check)
    if format != "c":
        raise ConfigError(f"unknown export format {format!r}; valid options are: c, onnx")
    from biowear.export.c_export import export_c
    from biowear.export.quantize import weight_layout

    net = saved.float_model or saved.model
    layout = weight_layout(weights, saved.meta)
    record, _ = export_c(net, saved.input_shape, out, calibration, weights=layout, ranges=ranges, check=check, mcu=mcu)
    return record.to_dict()


__all__ = [
    "CompressionConfig",
    "CompressionResult",
    "ExplorationStudy",
    "ParetoNetwork",
    "build_model",
    "compress_model",
    "create_study",
    "data_config",
    "export_model",
    "load_data",
    "load_model",
    "predict",
    "save_model",
]
