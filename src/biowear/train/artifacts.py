"""Run artifacts in one place: ``model.pt`` (weights + what they were trained for), ``config.json`` and
``run.json``.

``model.pt`` records the model family and architecture, the task (classes in output order, or the regression
target), the input shape, the regression target scale and the data recipe the network was trained on. Loading
never executes code from the file (``torch.load(weights_only=True)``), and :func:`check_matches` refuses a
model used with data it was not trained for, naming both sides. Files are written atomically (temporary file +
rename), so a crash never leaves a half-written artifact behind.

A file holds one *kind* of model (:data:`MODEL_KINDS`): ``float`` (the family's network, also pruned or k-means
shared weights), ``structured`` (channel-pruned: layer widths differ from what the architecture builds; loading
builds the architecture and resizes its layers to the stored weights, see :func:`resize_to_state_dict`) and
``int8`` (registered by :mod:`biowear.compress.variant_file`: the float network plus the quantised graph's
state). Files of earlier versions hold ``float`` models; a kind this reader does not know is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import build_spec, family_of, spec_from_dict, spec_to_dict
from biowear.paths import atomic_write
from biowear.registry import Registry
from biowear.train.resize import resize_to_state_dict
from biowear.train.target import ScaledInput, ScaledOutput, unwrap

MODEL_FORMAT = "biowear-model"
#: 3: the model kind (``info["kind"]``) and a kind's own tensors (``payload["kind_state"]``); 1 and 2 load as float.
MODEL_VERSION = 3


class ModelKind:
    """How one kind of model file stores what the float network's weights do not hold.

    The float weights (``state_dict``) are always the family's network, resized when its widths differ; a kind
    adds plain tensors (``kind_state``) and a JSON description (``info["kind_info"]``).
    """

    name = "float"

    def claims(self, model: nn.Module) -> bool:
        """True when ``model`` is a network of this kind (the file's kind is the last registered that claims)."""
        return isinstance(model, nn.Module)

    def float_network(self, model: nn.Module, float_model: nn.Module | None) -> nn.Module:
        """The float network whose weights the file stores."""
        return model

    def pack(self, model: nn.Module, float_model: nn.Module | None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The kind's extra tensors (plain, loadable with ``weights_only=True``) and its JSON description."""
        return {}, {}

    def unpack(
        self, net: nn.Module, tensors: Mapping[str, torch.Tensor], info: Mapping[str, Any], input_shape: tuple[int, int]
    ) -> tuple[nn.Module, nn.Module | None]:
        """``(model, float_model)`` from the loaded float network and the kind's tensors."""
        return net, None


class StructuredKind(ModelKind):
    """A channel-pruned network: the same family and architecture, narrower layers."""

    name = "structured"

    def claims(self, model: nn.Module) -> bool:
        return False  # chosen by save_model when the widths differ from the architecture's


#: Model kinds by name (``info["kind"]`` of a file); :mod:`biowear.compress.variant_file` registers ``int8``.
MODEL_KINDS: Registry[ModelKind] = Registry("model kind")
MODEL_KINDS.register("float", ModelKind())
MODEL_KINDS.register("structured", StructuredKind())


@dataclass
class SavedModel:
    """A network with everything it was trained for.

    Attributes:
        model: the network (in eval mode, on CPU).
        family: registered model-family name.
        arch: the family's architecture object.
        task: classes or regression target.
        input_shape: ``(channels, samples)`` per window.
        fs_hz: sampling rate of the windows it expects (None when unknown).
        recipe: the data configuration it was trained on (``DataConfig.to_dict()``), or None.
        data_key: the prepared data's identity key ("" when unknown).
        synthetic: True when trained on generated data (None: not recorded, files of earlier releases).
        target_scale: regression ``(mean, std)``, or None.
        meta: anything else stored (e.g. the compression variant that produced it: ``variant``,
            ``kmeans_bits``, ``storage_bytes``, ``metrics``).
        kind: the file's model kind (``float``, ``structured``, ``int8``; see :data:`MODEL_KINDS`).
        float_model: for an int8 model, the float network it was converted from (for QAT the fine-tuned float
            weights); None for other kinds.
    """

    model: nn.Module
    family: str
    arch: Any
    task: Task
    input_shape: tuple[int, int]
    fs_hz: float | None = None
    recipe: dict[str, Any] | None = None
    data_key: str = ""
    synthetic: bool | None = None
    target_scale: tuple[float, float] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "float"
    float_model: nn.Module | None = None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class indices or target values for windows ``x`` (``(n, channels, samples)``)."""
        from biowear.train.fit import predict

        check_input_shape(self, np.asarray(x).shape)
        return predict(self.model, np.asarray(x, dtype=np.float32), self.task)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of a classifier for windows ``x``."""
        from biowear.train.fit import predict_proba

        if self.task.is_regression:
            raise ConfigError("predict_proba is for classifiers; this model is a regression model (use predict)")
        check_input_shape(self, np.asarray(x).shape)
        return predict_proba(self.model, np.asarray(x, dtype=np.float32))


def build_model(
    family_arch: Any,
    task: Task,
    input_shape: tuple[int, int],
    seed: int | None = None,
    target: tuple[float, float] | None = None,
    inputs: tuple[Sequence[float], Sequence[float]] | None = None,
) -> nn.Module:
    """The network of an architecture for a task: ``task.n_outputs`` outputs, wrapped in
    :class:`ScaledInput` when per-channel input statistics ``inputs`` (means, stds) are given, and in
    :class:`ScaledOutput` for a regression task."""
    net = build_spec(family_arch, input_shape[0], task.n_outputs, input_shape[1], seed=seed)
    if inputs is not None:
        if len(inputs[0]) != input_shape[0]:
            raise ConfigError(f"input scale has {len(inputs[0])} channel(s); the network takes {input_shape[0]}")
        net = ScaledInput(net, inputs[0], inputs[1])
    if task.is_regression:
        mean, std = target or (0.0, 1.0)
        net = ScaledOutput(net, mean, std)
    return net


def json_ready(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (JSON has no such numbers) and tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a JSON document atomically; NaN/inf (undefined metrics) are written as null, so the file is
    always valid JSON."""
    text = json.dumps(json_ready(doc), indent=2, default=str, allow_nan=False)
    atomic_write(Path(path), lambda fh: fh.write((text + "\n").encode()))


def read_json(path: Path, what: str = "JSON file") -> dict[str, Any]:
    """Read a JSON object, with a one-line error for a missing, unreadable or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{what} {path} is not readable JSON ({exc}); was it written by biowear?") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{what} {path} must hold a JSON object, got {type(doc).__name__}")
    return doc


def _same_shapes(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return set(a) == set(b) and all(tuple(a[k].shape) == tuple(b[k].shape) for k in a)


def save_model(
    path: Path,
    model: nn.Module,
    arch: Any,
    task: Task,
    input_shape: tuple[int, int],
    fs_hz: float | None = None,
    recipe: Mapping[str, Any] | None = None,
    data_key: str = "",
    synthetic: bool = False,
    meta: Mapping[str, Any] | None = None,
    float_model: nn.Module | None = None,
) -> Path:
    """Save a network and what it was trained for to ``path`` (atomically).

    A regression network must be a :class:`ScaledOutput` (as :func:`build_model` makes it); its target scale
    is recorded, as is the input scale of a :class:`ScaledInput`. The file's kind follows from ``model``: an
    int8 network (``float_model`` is then the float network it was converted from), a channel-pruned
    (``structured``) network whose layer widths differ from what ``arch`` builds, or a ``float`` network.

    Raises:
        ConfigError: a regression model without target scale, or an int8 model without ``float_model``.
    """
    kind = next(k for k in reversed(list(MODEL_KINDS)) if MODEL_KINDS.get(k).claims(model))
    codec = MODEL_KINDS.get(kind)
    net = codec.float_network(model, float_model)
    _, scale, inputs = unwrap(net)
    if scale is None and task.is_regression:
        raise ConfigError("a regression model is saved with its target scale: build it with build_model()")
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    reference = build_model(arch, task, input_shape, seed=0, target=scale, inputs=inputs)
    if kind == "float" and not _same_shapes(state, reference.state_dict()):
        kind, codec = "structured", MODEL_KINDS.get("structured")
    tensors, kind_info = codec.pack(model, float_model)
    info = {
        "family": family_of(arch),
        "spec": spec_to_dict(arch),
        "task": task.to_dict(),
        "classes": list(task.classes),
        "in_channels": int(input_shape[0]),
        "input_length": int(input_shape[1]),
        "n_classes": task.n_outputs,
        "fs_hz": fs_hz,
        "recipe": recipe,
        "data_key": data_key,
        "synthetic": bool(synthetic),
        "target_scale": list(scale) if scale else None,
        "input_scale": [list(inputs[0]), list(inputs[1])] if inputs else None,
        "meta": dict(meta or {}),
        "kind": kind,
        "kind_info": kind_info,
    }
    # Everything but the weights travels as one JSON text: the same model gives the same bytes in any process
    # (nested dicts would be pickled with memo references that depend on string interning).
    payload = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "info": json.dumps(json_ready(info), sort_keys=True, default=str),
        "state_dict": state,
        "kind_state": {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
    }
    atomic_write(Path(path), lambda fh: torch.save(payload, fh))  # to a file object: inner name "archive"
    return Path(path)


def _kind(path: Path, saved: Mapping[str, Any]) -> ModelKind:
    name = str(saved.get("kind") or "float")
    if name not in MODEL_KINDS:
        hint = " (int8 files are read once biowear.compress is imported, e.g. by biowear.load_model)"
        raise ConfigError(
            f"{path} holds a model of kind {name!r} that this reader does not know; known kinds: "
            f"{MODEL_KINDS.choices(', ')}" + (hint if name == "int8" else "; is it from a newer biowear?")
        )
    return MODEL_KINDS.get(name)


def load_model(path: Path) -> SavedModel:
    """Load a ``model.pt`` written by biowear (any kind of :data:`MODEL_KINDS`; also the files of earlier
    versions, which hold float models).

    Raises:
        ConfigError: the file is missing, is not a biowear model, holds an unknown kind of model, or holds
            non-finite weights.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model file {path} does not exist")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load fails in many ways on a foreign or corrupt file
        raise ConfigError(f"{path} is not a biowear model file ({type(exc).__name__}: {exc})") from exc
    if isinstance(saved, dict) and isinstance(saved.get("info"), str):
        try:
            extra = {"state_dict": saved["state_dict"], "kind_state": saved.get("kind_state") or {}}
            saved = {**json.loads(saved["info"]), **extra}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not a biowear model file (unreadable description: {exc})") from exc
    if not isinstance(saved, dict) or "state_dict" not in saved or not ({"spec", "genes"} & set(saved)):
        raise ConfigError(f"{path} is not a biowear model file (no architecture and weights in it)")
    codec = _kind(path, saved)
    try:
        arch = spec_from_dict(saved["spec"] if "spec" in saved else saved["genes"])  # "genes": older files
        if "task" in saved:
            task = Task.from_dict(saved["task"])
        else:
            classes = saved.get("classes") or [str(i) for i in range(int(saved["n_classes"]))]
            task = Task.classification(tuple(classes))
        shape = (int(saved["in_channels"]), int(saved["input_length"]))
        scale = tuple(saved["target_scale"]) if saved.get("target_scale") else None
        inputs = saved.get("input_scale")
        model = build_model(arch, task, shape, seed=0, target=scale, inputs=inputs)  # type: ignore[arg-type]
        resize_to_state_dict(model, saved["state_dict"])
        model.load_state_dict(saved["state_dict"])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise ConfigError(f"{path} is not a loadable biowear model ({type(exc).__name__}: {exc})") from exc
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ConfigError(f"{path} holds non-finite (NaN/inf) weights in {', '.join(bad[:3])}; retrain or re-export it")
    model.eval()
    try:
        net, float_model = codec.unpack(model, saved["kind_state"] if "kind_state" in saved else {},
                                        saved.get("kind_info") or {}, shape)  # fmt: skip
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise ConfigError(f"{path}: cannot rebuild its {codec.name} model ({type(exc).__name__}: {exc})") from exc
    return SavedModel(
        model=net.eval(),
        family=family_of(arch),
        arch=arch,
        task=task,
        input_shape=shape,
        fs_hz=saved.get("fs_hz"),
        recipe=saved.get("recipe"),
        data_key=saved.get("data_key", ""),
        synthetic=saved.get("synthetic"),
        target_scale=scale,  # type: ignore[arg-type]
        meta=dict(saved.get("meta") or {}),
        kind=codec.name,
        float_model=float_model,
    )


def check_input_shape(saved: SavedModel, shape: tuple[int, ...]) -> None:
    """Refuse inputs whose (channels, samples) differ from the model's."""
    if len(shape) != 3 or tuple(shape[1:]) != tuple(saved.input_shape):
        raise ConfigError(
            f"the model takes windows of shape (n, {saved.input_shape[0]}, {saved.input_shape[1]}) "
            f"(channels, samples); the input has shape {tuple(shape)}"
        )


def check_matches(saved: SavedModel, data: Any) -> None:
    """Refuse prepared data the model was not trained for: another task or class order, another input shape
    or sampling rate, synthetic vs real data.

    Raises:
        ConfigError: naming the model's and the data's side of the first difference.
    """
    task = data.task
    if task.kind != saved.task.kind:
        raise ConfigError(f"the model is a {saved.task.kind} model but the data is a {task.kind} task")
    if task.classes != saved.task.classes:
        raise ConfigError(
            f"the model was trained for classes {list(saved.task.classes)} (in that output order) but the data "
            f"has classes {list(task.classes)}; use the configuration the model was trained with"
        )
    shape = tuple(data.x.shape[1:])
    if shape != tuple(saved.input_shape):
        raise ConfigError(
            f"the model takes windows of {saved.input_shape[0]} channel(s) x {saved.input_shape[1]} samples but "
            f"the data has {shape[0]} x {shape[1]}; use the configuration the model was trained with"
        )
    if saved.fs_hz is not None and not math.isclose(float(saved.fs_hz), float(data.fs_hz), rel_tol=1e-9):
        raise ConfigError(f"the model was trained at {saved.fs_hz:g} Hz but the data is at {data.fs_hz:g} Hz")
    if saved.synthetic is not None and bool(saved.synthetic) != bool(data.synthetic):
        side = "SYNTHETIC" if saved.synthetic else "real"
        other = "SYNTHETIC" if data.synthetic else "real"
        raise ConfigError(f"the model was trained on {side} data but the configuration prepares {other} data")


def save_run_config(path: Path, data: Any, split: Any, train: Any, arch: Any) -> Path:
    """Write a run's ``config.json``: the data, split and training recipe and the architecture (atomically)."""
    from dataclasses import asdict

    write_json(
        Path(path),
        {
            "data": asdict(data),
            "split": asdict(split),
            "train": asdict(train),
            "family": family_of(arch),
            "arch": arch.label(),
            "spec": spec_to_dict(arch),
        },
    )
    return Path(path)


def load_recipe(doc_or_path: Mapping[str, Any] | Path) -> tuple[Any, Any, Any]:
    """The (DataConfig, SplitConfig, TrainConfig) of a run's ``config.json`` or a study's ``<name>.config.json``
    (other sections are ignored).

    Raises:
        ConfigError: unreadable JSON (for example a TOML file given as a config), no ``data`` section, or a
            section the configuration classes refuse; the message names the section and key.
    """
    from biowear.data import DataConfig, SplitConfig
    from biowear.train.fit import TrainConfig
    from biowear.validate import build

    doc = read_json(doc_or_path, "configuration") if isinstance(doc_or_path, (str, Path)) else dict(doc_or_path)
    if "data" not in doc:
        raise ConfigError("the configuration has no 'data' section; give the config.json written beside the model")
    return (
        build(DataConfig, doc["data"], "data"),
        build(SplitConfig, doc.get("split", {}), "split"),
        build(TrainConfig, doc.get("train", {}), "train"),
    )
