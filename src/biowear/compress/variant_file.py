"""Compressed variants as model files: every kind a sweep measures saved so that it loads back exactly.

* pruned and k-means variants keep the architecture: ``float`` files (:func:`biowear.train.artifacts.save_model`);
* structured variants are ``structured`` files: the architecture is built and resized to the stored weights;
* int8 variants (PTQ and QAT) are ``int8`` files (:class:`Int8Kind`, registered here in
  :data:`~biowear.train.artifacts.MODEL_KINDS`): the float network the int8 graph came from (for QAT its
  fine-tuned float weights) plus the quantised graph's state as plain tensors (int8 weights, scales, zero
  points). Loading rebuilds the graph deterministically (float network -> prepare -> one calibration pass ->
  convert) and loads the quantised state into it, so predictions equal the measured int8 network's.

:func:`save_variant` records the variant's label, k-means bits, storage figure and test metrics in ``meta``.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biowear.compress.config import CompressionConfig
from biowear.compress.int8 import (
    Int8Config,
    Int8Network,
    _convert,
    _engine,
    _kernels,
    _prepare,
    _same_pads,
    qat_prepared,
)
from biowear.compress.points import CompressionPoint
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError
from biowear.train import TrainConfig
from biowear.train.artifacts import MODEL_KINDS, ModelKind, SavedModel, save_model
from biowear.train.target import ScaledOutput

_INT_REPR = {"qint8": torch.int8, "quint8": torch.uint8, "qint32": torch.int32}


def _encode(key: str, value: Any, tensors: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    """One state-dict entry as plain tensors in ``tensors`` and its JSON description (None: not stored)."""
    if isinstance(value, torch.Tensor) and value.is_quantized:
        dtype = str(value.dtype).removeprefix("torch.")
        tensors[key + "#int"] = value.int_repr().clone()
        scheme = str(value.qscheme()).removeprefix("torch.")
        if scheme.startswith("per_channel"):
            tensors[key + "#scale"] = value.q_per_channel_scales().to(torch.float64).clone()
            tensors[key + "#zero_point"] = value.q_per_channel_zero_points().clone()
            return {"type": "qtensor", "dtype": dtype, "qscheme": scheme, "axis": int(value.q_per_channel_axis())}
        return {"type": "qtensor", "dtype": dtype, "qscheme": scheme, "scale": float(value.q_scale()),
                "zero_point": int(value.q_zero_point())}  # fmt: skip
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach().clone()
        return {"type": "tensor"}
    if isinstance(value, torch.dtype):
        return {"type": "dtype", "value": str(value).removeprefix("torch.")}
    if isinstance(value, (tuple, list)):
        items = [_encode(f"{key}#{i}", v, tensors) for i, v in enumerate(value)]
        return {"type": "tuple", "items": items}
    if value is None:
        return {"type": "none"}
    return None  # packed parameters (script objects) of a dynamic LSTM: rebuilt from the float weights


def _decode(key: str, spec: Mapping[str, Any] | None, tensors: Mapping[str, torch.Tensor]) -> Any:
    if spec is None or spec["type"] == "none":
        return None
    if spec["type"] == "tensor":
        return tensors[key]
    if spec["type"] == "dtype":
        return getattr(torch, spec["value"])
    if spec["type"] == "tuple":
        return tuple(_decode(f"{key}#{i}", s, tensors) for i, s in enumerate(spec["items"]))
    ints = tensors[key + "#int"].to(_INT_REPR[spec["dtype"]])
    if spec["qscheme"].startswith("per_channel"):
        return torch._make_per_channel_quantized_tensor(
            ints, tensors[key + "#scale"], tensors[key + "#zero_point"], spec["axis"]
        )
    return torch._make_per_tensor_quantized_tensor(ints, spec["scale"], spec["zero_point"])


def _lstm_mode(net: Int8Network) -> str:
    from torch.ao.nn.quantized.dynamic import LSTM as DynamicLSTM

    return "dynamic" if any(isinstance(m, DynamicLSTM) for m in net.graph.modules()) else "float"


def rebuild_int8(
    float_model: nn.Module, input_shape: tuple[int, ...], config: Int8Config, method: str = "ptq"
) -> Int8Network:
    """The int8 graph of ``float_model`` with the module structure :func:`quantize_int8` gives, calibrated on one
    window of zeros (load the measured network's quantised state into it to get that network back)."""
    prepared = _prepare(float_model, input_shape, config, qat=False)
    with torch.no_grad(), _engine(config.engine):
        prepared(torch.zeros((1, *input_shape)))
    return _convert(prepared, config, method, _kernels(float_model))


class Int8Kind(ModelKind):
    """``int8`` model files: the float network plus the quantised graph's state as plain tensors."""

    name = "int8"

    def claims(self, model: nn.Module) -> bool:
        return isinstance(model, Int8Network)

    def float_network(self, model: nn.Module, float_model: nn.Module | None) -> nn.Module:
        if float_model is None:
            raise ConfigError("an int8 model is saved with the float network it was converted from (float_model=)")
        return float_model

    def pack(self, model: nn.Module, float_model: nn.Module | None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        assert isinstance(model, Int8Network)
        tensors: dict[str, torch.Tensor] = {}
        layout = {k: _encode(k, v, tensors) for k, v in model.graph.state_dict().items()}
        config = {"engine": model.engine, "lstm": _lstm_mode(model)}
        return tensors, {"method": model.method, "config": config, "kernels": model.kernels, "layout": layout}

    def unpack(
        self, net: nn.Module, tensors: Mapping[str, torch.Tensor], info: Mapping[str, Any], input_shape: tuple[int, int]
    ) -> tuple[nn.Module, nn.Module | None]:
        if "layout" not in info or "config" not in info:
            raise ConfigError("the int8 file has no quantised state (layout/config missing); save it again")
        config = Int8Config(**info["config"])
        qnet = rebuild_int8(net, input_shape, config, str(info.get("method", "ptq")))
        layout = info["layout"]
        current = qnet.graph.state_dict()
        if set(layout) != set(current):
            raise ConfigError(
                "the int8 graph rebuilt from the float network does not match the file (its entries "
                f"{sorted(set(layout) ^ set(current))[:3]} differ); was it saved by another PyTorch version?"
            )
        # packed parameters of a dynamic LSTM are not stored: they are rebuilt from the float LSTM weights
        state = OrderedDict((k, current[k] if s is None else _decode(k, s, tensors)) for k, s in layout.items())
        state._metadata = getattr(current, "_metadata", None)  # type: ignore[attr-defined]  # module versions
        with warnings.catch_warnings(), _engine(config.engine):
            warnings.simplefilter("ignore")
            qnet.graph.load_state_dict(state)
        qnet.kernels = {str(k): int(v) for k, v in dict(info.get("kernels") or {}).items()}
        return qnet.eval(), net


if "int8" not in MODEL_KINDS:
    MODEL_KINDS.register("int8", Int8Kind())


# ------------------------------------------------------------------------------------------- QAT float weights
def _conv_bn_pairs(inner: nn.Module) -> dict[str, str]:
    """Convolution -> batch-norm module paths that FX fusion joins (a BN whose input is a conv's output)."""
    import torch.fx

    graph = torch.fx.symbolic_trace(inner).graph
    modules = dict(inner.named_modules())
    pairs = {}
    for node in graph.nodes:
        if node.op == "call_module" and isinstance(modules.get(str(node.target)), nn.BatchNorm1d):
            src = node.args[0]
            if isinstance(src, torch.fx.Node) and src.op == "call_module":
                if isinstance(modules.get(str(src.target)), nn.Conv1d) and len(src.users) == 1:
                    pairs[str(src.target)] = str(node.target)
    return pairs


def float_from_qat(model: nn.Module, prepared: nn.Module, input_shape: tuple[int, ...]) -> nn.Module:
    """A copy of ``model`` (the network QAT started from) carrying the fine-tuned float weights of the
    QAT-prepared graph ``prepared``: fused conv-BN modules give back the conv and BN parameters, the zero taps
    :func:`~biowear.compress.int8.deployable` added to asymmetric 'same' convolutions are cut off again."""
    from biowear.compress.int8 import deployable

    out = copy.deepcopy(model).cpu().eval()
    scaled = isinstance(out, ScaledOutput)
    prefix = "net." if scaled else ""
    inner_prepared = prepared.net if scaled else prepared
    deployed = deployable(model, input_shape)
    pairs = _conv_bn_pairs(deployed.net if scaled else deployed)
    pads = _same_pads(copy.deepcopy(model).cpu(), input_shape)
    target = out.state_dict()
    new = {}
    for key, value in inner_prepared.state_dict().items():
        name, _, leaf = key.rpartition(".")
        if ".bn" in f".{name}" and name.endswith("bn") and name[: -len(".bn")] in pairs:
            full = prefix + pairs[name[: -len(".bn")]] + "." + leaf
        else:
            full = prefix + key
        if full not in target:
            continue  # observers and fake quantisers
        module_name = full.rpartition(".")[0]
        if leaf == "weight" and module_name in pads and value.shape != target[full].shape:
            left, right = pads[module_name]
            start = max(left, right) - left
            value = value[:, :, start : start + target[full].shape[2]]
        new[full] = value.detach().clone()
    missing = [k for k in target if k not in new and not k.endswith("num_batches_tracked")]
    if any(k.startswith(prefix) and not _is_fixed(out, k) for k in missing):
        raise ConfigError(f"cannot map the QAT graph back onto the float network: no value for {missing[:3]}")
    out.load_state_dict({**target, **new})
    return out.eval()


def _is_fixed(model: nn.Module, key: str) -> bool:
    """True for buffers that QAT does not train (input scaling statistics)."""
    return key.rsplit(".", 1)[-1] in {"mean", "std", "scale", "offset"}


def qat_with_float(
    model: nn.Module,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    train: TrainConfig,
    epochs: int,
    config: Int8Config,
) -> tuple[Int8Network, nn.Module]:
    """:func:`~biowear.compress.int8.qat_int8` (the same steps, so the same network) that also returns the
    fine-tuned float network (see :func:`float_from_qat`)."""
    prepared = qat_prepared(model, data, train, epochs, config)
    float_net = float_from_qat(model, prepared, data[0].shape[1:])
    return _convert(prepared, config, "qat", _kernels(model)), float_net


# ------------------------------------------------------------------------------------------- sweep variants
def variant_model(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    config: CompressionConfig,
    label: str,
    directory: Path | None = None,
) -> tuple[nn.Module, nn.Module | None]:
    """``(network, float_model)`` of the sweep variant ``label`` as :func:`~biowear.compress.sweep.sweep`
    measured it (pruned networks are read back from ``directory``); ``float_model`` is the float network of an
    int8 variant, else None.

    Raises:
        ConfigError: no variant of this configuration has that label (the message lists them).
    """
    from biowear.compress.sweep import _setup, plan

    m, _, context = _setup(model, data, split, train, config, directory)
    labels = []
    for variant, make in plan(m.base, config, context):
        if variant.label != label:
            labels.append(variant.label)
            continue
        if variant.method == "int8-qat" and config.int8 is not None:
            return qat_with_float(m.base, context.arrays, context.train, config.qat_epochs, config.int8)
        out = make()
        return (out.runs, out.network) if isinstance(out.runs, Int8Network) else (out.network, None)
    raise ConfigError(f"no compression variant {label!r}; valid options are: {', '.join(labels)}")


def safe_label(label: str) -> str:
    """A file name for a variant label: ``prune-global+kmeans s=0.9 q=4`` -> ``prune-global+kmeans_s0.9_q4``."""
    text = re.sub(r"\s+", "_", label.strip()).replace("=", "")
    return re.sub(r"[^A-Za-z0-9._+-]", "-", text) or "variant"


def variant_meta(point: CompressionPoint) -> dict[str, Any]:
    """What a variant file records of its point: ``variant`` (label), ``method``, ``sparsity``, ``kmeans_bits``
    (k-means variants only), ``storage_bytes``, ``compression``, ``quality``, ``quality_loss`` (+ unit) and the
    test ``metrics``."""
    metrics = point.to_dict()["metrics"]
    meta: dict[str, Any] = {
        "variant": point.label(),
        "method": point.method,
        "sparsity": point.sparsity,
        "storage_bytes": point.storage_bytes,
        "compression": point.compression,
        "quality": point.quality,
        "quality_loss": point.quality_loss,
        "loss_unit": point.loss_unit,
        "metrics": metrics,
    }
    if "kmeans" in point.method and point.bits:
        meta["kmeans_bits"] = int(point.bits)
    return meta


def save_variant(
    path: Path,
    base: SavedModel,
    network: nn.Module,
    point: CompressionPoint,
    float_model: nn.Module | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save the variant ``network`` of ``base`` (measured as ``point``) as a model file of its kind.

    Args:
        base: the model file the variant was made from (its task, data recipe and architecture).
        float_model: for an int8 network, the float network it was converted from.
        meta: further entries; ``base.meta`` is kept under ``source`` when it named a variant itself.
    """
    extra = dict(meta or {})
    if base.meta.get("variant"):
        extra.setdefault("source_variant", base.meta["variant"])
    return save_model(
        Path(path), network, base.arch, base.task, base.input_shape, fs_hz=base.fs_hz, recipe=base.recipe,
        data_key=base.data_key, synthetic=bool(base.synthetic), meta={**variant_meta(point), **extra},
        float_model=float_model,
    )  # fmt: skip


def check_compressible(saved: SavedModel, where: str = "") -> None:
    """Refuse to compress an int8 model (compression starts from float weights).

    Raises:
        ConfigError: naming the file's kind and what to give instead.
    """
    if saved.kind == "int8":
        raise ConfigError(
            f"{where or 'the model'} is an int8 model ({saved.meta.get('variant', 'int8')}); compression starts "
            "from a float network: give the float, pruned, k-means or structured model file instead"
        )


__all__ = [
    "Int8Kind",
    "check_compressible",
    "float_from_qat",
    "qat_with_float",
    "rebuild_int8",
    "safe_label",
    "save_variant",
    "variant_meta",
    "variant_model",
]
