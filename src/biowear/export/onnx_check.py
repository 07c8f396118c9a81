"""Checking an ONNX model: onnxruntime against PyTorch on the same windows, and the operators left in float."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.train.target import ScaledOutput

INPUT_NAME = "windows"
OUTPUT_NAME = "outputs"
_EXTRA_HINT = "install the onnx extra: pip install 'biowear[onnx]'"
_QDQ = {"QuantizeLinear", "DequantizeLinear"}
#: Operators that move or select values without arithmetic (left out of :func:`float_op_counts`).
_DATA_MOVEMENT = {
    "Cast", "Concat", "Expand", "Flatten", "Gather", "Identity", "Pad", "Reshape", "Slice", "Split", "Squeeze",
    "Transpose", "Unsqueeze",
}  # fmt: skip


def require_onnx() -> tuple[Any, Any]:
    """The ``(onnx, onnxruntime)`` modules.

    Raises:
        ConfigError: one of them is not installed.
    """
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(f"ONNX export needs onnx and onnxruntime ({exc}); {_EXTRA_HINT}") from None
    return onnx, onnxruntime


def onnx_windows(windows: np.ndarray, input_shape: tuple[int, int] | None = None, what: str = "windows") -> np.ndarray:
    x = np.asarray(windows, dtype=np.float32)
    if x.ndim != 3 or len(x) == 0:
        raise ConfigError(f"{what} must be a non-empty (n, channels, samples) array, got shape {x.shape}")
    if input_shape is not None and tuple(x.shape[1:]) != tuple(input_shape):
        raise ConfigError(f"{what} have shape (n, {x.shape[1]}, {x.shape[2]}); the model takes (n, *{input_shape})")
    if not np.isfinite(x).all():
        raise ConfigError(f"{what} hold NaN or infinite values")
    return np.ascontiguousarray(x)


def onnx_input_shape(path: Path) -> tuple[int, int] | None:
    """(channels, samples) of the model's ``windows`` input, None when not fixed."""
    onnx, _ = require_onnx()
    model = onnx.load(str(path), load_external_data=False)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    values = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    return (values[1], values[2]) if len(values) == 3 and None not in values[1:] else None  # type: ignore[return-value]


def float_op_counts(path: Path) -> dict[str, int]:
    """Arithmetic operator types computing in float in an ONNX model, with their counts.

    Only operators on values that depend on the input windows count (not the scalar arithmetic of shapes or
    constants), and data movement (reshape, transpose, slice, pad, ...) is left out: it moves values without
    computing. An operator counts as int8 when every float input comes from a ``DequantizeLinear`` and every
    consumer of its output is a ``QuantizeLinear`` (onnxruntime then runs it as one integer kernel). For an fp32
    model every arithmetic operator is listed.
    """
    onnx, _ = require_onnx()
    graph = onnx.shape_inference.infer_shapes(onnx.load(str(path))).graph
    types = {v.name: v.type.tensor_type.elem_type for v in (*graph.input, *graph.value_info, *graph.output)}
    types.update({t.name: t.data_type for t in graph.initializer})
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = {t.name for t in graph.initializer}
    dynamic = {v.name for v in graph.input}  # values that depend on the windows (nodes are topologically sorted)
    counts: Counter[str] = Counter()
    for node in graph.node:
        if node.op_type == "Shape" or not any(i in dynamic for i in node.input):
            continue
        dynamic.update(node.output)
        if node.op_type in _QDQ or node.op_type in _DATA_MOVEMENT:
            continue
        ins = [
            i for i in node.input if (i in dynamic or i in weights) and types.get(i, onnx.TensorProto.FLOAT) in floats
        ]
        outs = [o for o in node.output if o and types.get(o) in floats]
        if not ins or not outs:
            continue
        from_dq = all(i in producer and producer[i].op_type == "DequantizeLinear" for i in ins)
        users = [c for o in outs for c in consumers.get(o, [])]
        if not (from_dq and users and all(c.op_type == "QuantizeLinear" for c in users)):
            counts[node.op_type] += 1
    return dict(sorted(counts.items()))


def _is_quantized(path: Path) -> bool:
    onnx, _ = require_onnx()
    return any(n.op_type in _QDQ for n in onnx.load(str(path)).graph.node)


@dataclass(frozen=True)
class OnnxCheck:
    """onnxruntime (CPU) against PyTorch on the same windows.

    Attributes:
        path: the ONNX file checked.
        precision: ``fp32`` or ``int8`` (a model with QDQ pairs).
        task_kind: ``classification`` or ``regression``.
        n_windows: windows compared.
        max_abs_diff: largest absolute output difference (logits, or target units).
        mean_abs_diff: mean absolute output difference over all windows and outputs.
        max_rel_diff: ``max_abs_diff`` over the largest absolute PyTorch output.
        label_agreement: fraction of windows with the same predicted class (classifiers; else None).
        mae_vs_float: mean absolute difference of the first output, in the target's unit (regression; else None).
        float_ops: operator types still computing in float, with counts (int8 models; empty for fp32).
    """

    path: str
    precision: str
    task_kind: str
    n_windows: int
    max_abs_diff: float
    mean_abs_diff: float
    max_rel_diff: float
    label_agreement: float | None
    mae_vs_float: float | None
    float_ops: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def onnx_session(path: Path) -> Any:
    """A single-threaded onnxruntime CPU session of an ONNX file (its warnings go to logging, not stderr)."""
    _, ort = require_onnx()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def run_onnx(path: Path, windows: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Outputs ``(n, n_outputs)`` of an ONNX model for windows ``(n, channels, samples)``."""
    session = onnx_session(path)
    x = onnx_windows(windows)
    outs = [session.run([OUTPUT_NAME], {INPUT_NAME: x[i : i + batch_size]})[0] for i in range(0, len(x), batch_size)]
    return np.concatenate(outs).astype(np.float32)


def verify_onnx(path: Path, model: nn.Module, windows: np.ndarray, *, task: Task | None = None) -> OnnxCheck:
    """Compare an exported model (fp32 or int8) with the float PyTorch ``model`` on ``windows``.

    Args:
        path: the ONNX file.
        model: the PyTorch network it was exported from (not changed).
        windows: ``(n, channels, samples)`` windows in the model's raw input unit.
        task: the task; None: regression when ``model`` is a :class:`ScaledOutput` (as every biowear regression
            network is) or has one output, else classification.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"ONNX model {path} does not exist")
    x = onnx_windows(windows, onnx_input_shape(path))
    got = run_onnx(path, x)
    net = copy.deepcopy(model).cpu().eval()
    with torch.no_grad():
        ref = np.concatenate([net(torch.from_numpy(x[i : i + 256])).numpy() for i in range(0, len(x), 256)])
    if got.shape != ref.shape:
        raise ConfigError(f"the ONNX model gives outputs of shape {got.shape}, the PyTorch model {ref.shape}")
    regression = task.is_regression if task is not None else isinstance(model, ScaledOutput) or ref.shape[1] == 1
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    quantized = _is_quantized(path)
    return OnnxCheck(
        path=str(path),
        precision="int8" if quantized else "fp32",
        task_kind="regression" if regression else "classification",
        n_windows=len(x),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        max_rel_diff=float(diff.max() / max(float(np.abs(ref).max()), 1e-12)),
        label_agreement=None if regression else float(np.mean(got.argmax(1) == ref.argmax(1))),
        mae_vs_float=float(diff[:, 0].mean()) if regression else None,
        float_ops=float_op_counts(path) if quantized else {},
    )
