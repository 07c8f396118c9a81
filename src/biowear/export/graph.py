"""Lowering: a float PyTorch network as a short list of deployable operations.

:func:`lower` traces the network with ``torch.fx`` (biowear's own layers kept whole), reads every tensor's
shape from one forward pass and maps each call to an :class:`Op`. Batch norm after a convolution or dense
layer is folded into it; a standalone batch norm becomes a per-channel ``affine``; ReLU is fused into the
operation before it; dropout, identity and flatten vanish (flatten is a view: the dense layer that reads it has
its weight columns permuted to the deployed layout). Anything else is refused with the layer's name and type.

Deployed layout: every tensor is ``(b, length, channels)``, channels last per sequence (CMSIS-NN's NHWC with
H = 1), ``b`` sequences side by side (``b > 1`` only after the row fold of the PPG networks).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.fx
from torch import nn

from biowear.errors import ConfigError
from biowear.models.layers import Add, ChannelPad, LastStepLSTM, RowsToBatch, RowsToChannels, SamePadConv1d
from biowear.train.target import unwrap

#: Layers the lowering understands (the message of an unsupported layer lists them).
SUPPORTED_LAYERS = (
    "Conv1d", "SamePadConv1d", "BatchNorm1d", "ReLU", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d(1)",
    "Linear", "LSTM (one layer, last step)", "Flatten", "Dropout", "Identity", "residual Add", "ChannelPad",
    "RowsToBatch", "RowsToChannels",
)  # fmt: skip
_LEAVES = (SamePadConv1d, ChannelPad, LastStepLSTM, RowsToBatch, RowsToChannels, Add, nn.Dropout)
_KNOWN = (
    *_LEAVES, nn.Conv1d, nn.BatchNorm1d, nn.ReLU, nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.Linear,
    nn.LSTM, nn.Flatten, nn.Dropout, nn.Identity,
)  # fmt: skip


@dataclass
class Op:
    """One deployable operation.

    Attributes:
        kind: ``conv``, ``dense``, ``affine``, ``add``, ``maxpool``, ``avgpool``, ``lstm``, ``rows_to_batch``
            or ``rows_to_channels``.
        inputs: names of the input tensors; output: name of the output tensor.
        params: float weights and integer settings. conv: ``weight`` (out, in, kernel), ``bias``, ``out_scale``
            (a folded batch norm's per-channel factor: the layer computes ``(w * x) * out_scale + bias``),
            ``stride``, ``dilation``, ``pad_left``, ``pad_right``; dense: ``weight`` (out, in) with its columns
            in deployed order, ``bias``, ``out_scale``; affine: ``scale``, ``shift``; maxpool/avgpool:
            ``kernel``, ``stride``; lstm: ``w_ih`` (4H, in), ``w_hh`` (4H, H), ``bias`` (4H, gates i, f, g, o),
            ``hidden``; rows_to_channels: ``rows``.
        relu: a ReLU follows (fused into the requantisation's clamp).
        source: the module path it came from (for messages and reports).
    """

    kind: str
    inputs: tuple[str, ...]
    output: str
    params: dict[str, Any] = field(default_factory=dict)
    relu: bool = False
    source: str = ""


@dataclass
class Graph:
    """A lowered network: its operations in execution order and every tensor's ``(b, length, channels)``."""

    ops: list[Op]
    shapes: dict[str, tuple[int, int, int]]
    input: str
    output: str
    input_shape: tuple[int, int]  # (channels, samples) of the PyTorch input
    input_scale: tuple[list[float], list[float]] | None = None  # per-channel (mean, std) applied first
    target_scale: tuple[float, float] | None = None  # regression (mean, std) applied last

    def op_of(self, tensor: str) -> Op:
        return next(op for op in self.ops if op.output == tensor)


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _LEAVES) or super().is_leaf_module(m, qualname)


def _unsupported(name: str, what: str) -> ConfigError:
    return ConfigError(
        f"cannot export layer {name!r} ({what}) to int8 C; supported layers are: {', '.join(SUPPORTED_LAYERS)}"
    )


def _deployed_shape(shape: Sequence[int], folded: bool) -> tuple[int, int, int]:
    """``(b, length, channels)`` of a PyTorch tensor shape of one window (batch 1)."""
    if len(shape) == 3:
        return (int(shape[0]), int(shape[2]), int(shape[1]))
    if len(shape) == 2:
        return (int(shape[0]), 1, int(shape[1]))
    raise ConfigError(f"cannot export a tensor of shape {tuple(shape)} (expected (batch, channels[, samples]))")


def _conv_params(m: nn.Conv1d, length: int) -> dict[str, Any]:
    if m.groups != 1:
        raise _unsupported(type(m).__name__, f"grouped convolution, groups={m.groups}")
    if isinstance(m, SamePadConv1d):
        left, right = m.pads(length)
    else:
        if isinstance(m.padding, str) or m.padding_mode != "zeros":
            raise _unsupported(type(m).__name__, f"padding {m.padding!r}/{m.padding_mode}")
        left = right = int(m.padding[0])
    w = m.weight.detach().double().numpy()
    b = np.zeros(w.shape[0]) if m.bias is None else m.bias.detach().double().numpy()
    return {"weight": w, "bias": b, "out_scale": np.ones(w.shape[0]), "stride": int(m.stride[0]),
            "dilation": int(m.dilation[0]), "pad_left": int(left), "pad_right": int(right)}  # fmt: skip


def _bn_affine(m: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) per channel of an inference-mode batch norm."""
    if m.running_mean is None or m.running_var is None:
        raise _unsupported("BatchNorm1d", "batch norm without running statistics")
    scale = 1.0 / np.sqrt(m.running_var.detach().double().numpy() + m.eps)
    shift = -m.running_mean.detach().double().numpy() * scale
    if m.affine:
        gamma, beta = m.weight.detach().double().numpy(), m.bias.detach().double().numpy()
        scale, shift = scale * gamma, shift * gamma + beta
    return scale, shift


def _lstm_params(m: nn.LSTM) -> dict[str, Any]:
    if m.num_layers != 1 or m.bidirectional or not m.batch_first or m.proj_size:
        raise _unsupported("LSTM", "only a one-layer, unidirectional, batch-first LSTM without projection")
    p = {k: v.detach().double().numpy() for k, v in m.named_parameters()}
    bias = p.get("bias_ih_l0", 0.0) + p.get("bias_hh_l0", 0.0)
    bias = np.broadcast_to(bias, (4 * m.hidden_size,)).copy()
    return {"w_ih": p["weight_ih_l0"], "w_hh": p["weight_hh_l0"], "bias": bias, "hidden": int(m.hidden_size)}


def _pool_params(m: nn.Module, length: int) -> dict[str, Any]:
    if isinstance(m, nn.AdaptiveAvgPool1d):
        size = m.output_size if isinstance(m.output_size, int) else m.output_size[0]
        if size != 1:
            raise _unsupported("AdaptiveAvgPool1d", f"output size {size}; only 1 (global average)")
        return {"kernel": length, "stride": length}
    kernel = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
    stride = m.stride if isinstance(m.stride, int) else m.stride[0]
    padding = m.padding if isinstance(m.padding, int) else m.padding[0]
    dilation = getattr(m, "dilation", 1)
    if padding or (dilation if isinstance(dilation, int) else dilation[0]) != 1:
        raise _unsupported(type(m).__name__, "padded or dilated pooling")
    if isinstance(m, nn.AvgPool1d) and m.ceil_mode:
        raise _unsupported("AvgPool1d", "ceil_mode average pooling")
    return {"kernel": int(kernel), "stride": int(stride or kernel)}


class _Lowering:
    """State of one lowering: the ops so far and the tensor each FX node stands for."""

    def __init__(self, gm: torch.fx.GraphModule, shapes: dict[str, Sequence[int]]):
        self.gm, self.torch_shapes = gm, shapes
        self.modules = dict(gm.named_modules())
        self.ops: list[Op] = []
        self.alias: dict[str, str] = {}  # FX node -> tensor name (views and no-ops)
        self.shapes: dict[str, tuple[int, int, int]] = {}
        self.layout: dict[str, str] = {}  # tensor -> "flat" when a flatten viewed it as a vector

    def tensor(self, node: Any) -> str:
        if not isinstance(node, torch.fx.Node):
            raise ConfigError(f"cannot export an operation on a constant ({node!r})")
        return self.alias.get(node.name, node.name)

    def producer(self, tensor: str) -> Op | None:
        return next((op for op in self.ops if op.output == tensor), None)

    def readers(self, tensor: str) -> int:
        """FX nodes reading ``tensor`` (not counting the ones already folded into it)."""
        return sum(
            1
            for n in self.gm.graph.nodes
            if self.alias.get(n.name) != tensor and any(self.tensor(a) == tensor for a in _node_inputs(n))
        )

    def emit(self, node: torch.fx.Node, kind: str, inputs: tuple[str, ...], source: str, **params: Any) -> None:
        self.ops.append(Op(kind, inputs, node.name, params, source=source))
        self.shapes[node.name] = _deployed_shape(self.torch_shapes[node.name], False)

    def fuse_or_emit(self, node: torch.fx.Node, x: str, scale: np.ndarray, shift: np.ndarray, source: str) -> None:
        """Fold an affine (batch norm) into the conv/dense producing ``x`` when nothing else reads it."""
        op = self.producer(x)
        if op is not None and op.kind in ("conv", "dense") and not op.relu and self.readers(x) == 1:
            # kept apart from the weights (a k-means codebook stays a codebook); the quantiser folds it in
            op.params["out_scale"] = op.params["out_scale"] * scale
            op.params["bias"] = op.params["bias"] * scale + shift
            op.params.setdefault("folded", []).append(source)
            self.alias[node.name] = x
            return
        self.emit(node, "affine", (x,), source, scale=scale, shift=shift)

    def relu(self, node: torch.fx.Node, x: str, source: str) -> None:
        op = self.producer(x)
        if op is None or op.relu or self.readers(x) != 1 or op.kind not in ("conv", "dense", "affine", "add"):
            raise _unsupported(source, "ReLU not directly after a convolution, dense, batch norm or residual add")
        op.relu = True
        self.alias[node.name] = x


def _node_inputs(node: torch.fx.Node) -> list[Any]:
    return [a for a in node.args if isinstance(a, torch.fx.Node)]


def _module_op(low: _Lowering, node: torch.fx.Node) -> None:
    m = low.modules[node.target]
    name = str(node.target)
    args = _node_inputs(node)
    x = low.tensor(args[0]) if args else ""
    in_len = low.shapes[x][1] if x in low.shapes else 0
    if isinstance(m, (nn.Dropout, nn.Identity)):
        low.alias[node.name] = x
    elif isinstance(m, nn.Flatten):
        low.alias[node.name] = x
        low.layout[x] = "flat"
    elif isinstance(m, nn.Conv1d):
        low.emit(node, "conv", (x,), name, **_conv_params(m, in_len))
    elif isinstance(m, nn.BatchNorm1d):
        low.fuse_or_emit(node, x, *_bn_affine(m), name)
    elif isinstance(m, nn.ReLU):
        low.relu(node, x, name)
    elif isinstance(m, nn.Linear):
        _dense(low, node, m, x, name)
    elif isinstance(m, nn.MaxPool1d):
        params = _pool_params(m, in_len)
        low.emit(node, "maxpool", (x,), name, **params)
    elif isinstance(m, (nn.AvgPool1d, nn.AdaptiveAvgPool1d)):
        low.emit(node, "avgpool", (x,), name, **_pool_params(m, in_len))
    elif isinstance(m, Add):
        _add(low, node, args, name)
    elif isinstance(m, ChannelPad):
        low.alias[node.name] = x  # the add that reads it treats the missing channels as zeros
    elif isinstance(m, LastStepLSTM):
        low.emit(node, "lstm", (x,), name, **_lstm_params(m.lstm))
    elif isinstance(m, RowsToBatch):
        low.emit(node, "rows_to_batch", (x,), name)
    elif isinstance(m, RowsToChannels):
        low.emit(node, "rows_to_channels", (x,), name, rows=int(m.rows))
    else:
        raise _unsupported(name, type(m).__name__)


def _dense(low: _Lowering, node: torch.fx.Node, m: nn.Linear, x: str, name: str) -> None:
    w = m.weight.detach().double().numpy()
    b = np.zeros(w.shape[0]) if m.bias is None else m.bias.detach().double().numpy()
    bx, length, channels = low.shapes[x]
    if bx != 1:
        raise _unsupported(name, "dense layer over folded rows")
    if length > 1:
        if low.layout.get(x) != "flat":
            raise _unsupported(name, "dense layer over a sequence (no flatten before it)")
        # PyTorch flattens (C, L) channel-major; the deployed tensor is (L, C): permute the columns to match
        w = w.reshape(w.shape[0], channels, length).transpose(0, 2, 1).reshape(w.shape[0], -1)
    low.emit(node, "dense", (x,), name, weight=w, bias=b, out_scale=np.ones(w.shape[0]))


def _add(low: _Lowering, node: torch.fx.Node, args: list[Any], name: str) -> None:
    a, b = (low.tensor(n) for n in args)
    if low.shapes[a][2] < low.shapes[b][2]:
        a, b = b, a  # the wider operand first: the narrower one's missing channels are zero (ChannelPad)
    if low.shapes[a][:2] != low.shapes[b][:2]:
        raise _unsupported(name, f"residual add of shapes {low.shapes[a]} and {low.shapes[b]}")
    low.emit(node, "add", (a, b), name)


def _function_op(low: _Lowering, node: torch.fx.Node) -> None:
    args = _node_inputs(node)
    if node.target in (torch.flatten,) or (node.op == "call_method" and node.target in ("flatten", "view", "reshape")):
        x = low.tensor(args[0])
        if tuple(low.torch_shapes[node.name])[1:] != (int(np.prod(low.torch_shapes[args[0].name][1:])),):
            raise _unsupported(str(node.target), "a reshape other than flattening one window")
        low.alias[node.name] = x
        low.layout[x] = "flat"
    elif node.target in (operator.add, torch.add) or (node.op == "call_method" and node.target == "add"):
        _add(low, node, args, "add")
    elif node.target in (torch.relu, torch.nn.functional.relu) or (node.op == "call_method" and node.target == "relu"):
        low.relu(node, low.tensor(args[0]), "relu")
    else:
        raise _unsupported(str(node.target), f"a {node.op} the lowering does not know")


def lower(model: nn.Module, input_shape: Sequence[int]) -> Graph:
    """The deployable graph of a float network for windows of ``input_shape`` = (channels, samples).

    Raises:
        ConfigError: a layer or pattern the C export does not support, naming it and listing the supported
            layers; or a network that does not accept the input shape.
    """
    from torch.fx.passes.shape_prop import ShapeProp

    core, target_scale, input_scale = unwrap(model)
    core = core.cpu().eval()
    for name, m in core.named_modules():
        inner_of_leaf = any(name.startswith(f"{p}.") for p, lm in core.named_modules() if p and isinstance(lm, _LEAVES))
        container = isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) or list(m.children())
        if not isinstance(m, _KNOWN) and not container and not inner_of_leaf:
            raise _unsupported(name, type(m).__name__)
        if isinstance(m, (nn.MultiheadAttention, nn.LayerNorm, nn.GRU, nn.RNN, nn.Conv2d)):
            raise _unsupported(name, type(m).__name__)
    try:
        gm = torch.fx.GraphModule(core, _Tracer().trace(core))
    except Exception as exc:  # FX fails in many exception types on data-dependent control flow
        raise ConfigError(f"cannot trace {type(core).__name__} for export ({type(exc).__name__}: {exc})") from exc
    example = torch.zeros((1, *[int(s) for s in input_shape]))
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(example)
    except RuntimeError as exc:
        raise ConfigError(f"{type(core).__name__} does not accept inputs of shape {tuple(input_shape)}: {exc}") from exc
    shapes = {
        n.name: tuple(n.meta["tensor_meta"].shape)
        for n in gm.graph.nodes
        if hasattr(n.meta.get("tensor_meta"), "shape")
    }
    low = _Lowering(gm, shapes)
    inp = out = ""
    handlers: dict[str, Callable[[_Lowering, torch.fx.Node], None]] = {
        "call_module": _module_op, "call_function": _function_op, "call_method": _function_op,
    }  # fmt: skip
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            inp = node.name
            low.shapes[inp] = _deployed_shape(shapes[inp], False)
        elif node.op == "output":
            out = low.tensor(node.args[0])
        elif node.op in handlers:
            handlers[node.op](low, node)
        else:
            raise _unsupported(str(node.target), node.op)
    if not low.ops:
        raise ConfigError("the network has no operation to export")
    if out == inp:
        raise ConfigError("the network's output is its input; nothing to export")
    used = {t for op in low.ops for t in op.inputs} | {out}
    ops = [op for op in low.ops if op.output in used]
    shapes_out = {t: s for t, s in low.shapes.items() if t in used or t == inp}
    return Graph(ops, shapes_out, inp, out, (int(input_shape[0]), int(input_shape[1])), input_scale, target_scale)
