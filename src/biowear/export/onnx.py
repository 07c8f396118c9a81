"""ONNX export of any biowear network: fp32, static int8 (QDQ), and a check of both against PyTorch.

The whole network is exported, with its :class:`~biowear.train.target.ScaledInput` /
:class:`~biowear.train.target.ScaledOutput` wrappers when present, so the graph takes raw windows
``windows: (batch, channels, samples)`` (float32, dynamic batch) and gives ``outputs: (batch, n_outputs)``,
exactly what ``SavedModel.model`` computes (class logits, or regression values in the target's unit).

The int8 model is onnxruntime's static post-training quantisation in the QDQ format
(``QuantizeLinear``/``DequantizeLinear`` pairs around the operators it quantises): weights symmetric int8 per
output channel (7-bit by default, see :func:`quantize_onnx_int8`), activations uint8 (onnxruntime's advice for
x86 CPUs) or int8, with min/max ranges calibrated on the windows given. Operators left outside QDQ pairs compute
in float in any runtime; :func:`float_op_counts` lists them (``OnnxCheck.float_ops``). Measured with onnxruntime
1.32: the ``LSTM`` of ``resnet_lstm`` and the ``Sub``/``Div`` of an input standardisation
(:class:`~biowear.train.target.ScaledInput`) stay float; convolutions, ``Gemm``/``MatMul`` (also the attention's
projections and products, and its ``Softmax``), pooling, residual ``Add``, the output scale and the
normalisations are inside QDQ pairs. An operator inside a pair runs as an integer kernel where the execution
provider has one (the CPU provider: convolutions, matrix products, additions, pooling) and as
dequantise-compute-quantise otherwise (``BatchNormalization`` after a residual join, ``LayerNormalization``),
which still rounds its inputs and output to int8.

Needs the ``onnx`` extra (``pip install 'biowear[onnx]'``: onnx, onnxruntime, onnxscript); everything is imported
lazily, so this module imports without it. The TorchScript-based exporter of ``torch.onnx`` is used by default
(well under a second per network; deprecated by torch 2.9+ but present in 2.13); ``dynamo=True`` selects the
``torch.export``-based one, which needs onnxscript and took 3-20 s per network here (the same outputs to 1e-7).
"""

from __future__ import annotations

import copy
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.export.onnx_check import (
    INPUT_NAME,
    OUTPUT_NAME,
    OnnxCheck,
    float_op_counts,
    onnx_input_shape,
    onnx_session,
    onnx_windows,
    require_onnx,
    run_onnx,
    verify_onnx,
)
from biowear.paths import atomic_write
from biowear.train.target import unwrap

log = logging.getLogger(__name__)

#: Activation types of :func:`quantize_onnx_int8`.
ACTIVATION_TYPES = ("uint8", "int8")


def _check_shape(input_shape: tuple[int, int]) -> tuple[int, int]:
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ConfigError(f"input_shape must be (channels, samples) with positive sizes, got {tuple(input_shape)}")
    return shape  # type: ignore[return-value]


@contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence torch.onnx's deprecation notes about its own exporters (they are not the caller's concern)."""
    printed = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(printed):  # the TorchScript exporter prints its graph on errors
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # fixed window length: constant pads
        try:
            yield
        finally:
            if printed.getvalue():
                log.debug("torch.onnx printed: %s", printed.getvalue())


def _torch_export(model: nn.Module, example: torch.Tensor, target: Any, opset: int, dynamo: bool) -> None:
    kwargs: dict[str, Any] = {"input_names": [INPUT_NAME], "output_names": [OUTPUT_NAME], "opset_version": opset}
    if dynamo:
        kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
    else:
        kwargs["dynamic_axes"] = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    with _quiet_exporter():
        torch.onnx.export(model, (example,), target, dynamo=dynamo, **kwargs)


def failing_layer(model: nn.Module, example: torch.Tensor, opset: int = 17) -> nn.Module | None:
    """The innermost sub-module of ``model`` that does not export on its own (None: each one does).

    Every module's inputs are recorded in one forward pass; modules are then exported one by one, leaves first.
    """
    inputs: dict[int, tuple[Any, ...]] = {}
    hooks = [m.register_forward_pre_hook(lambda mod, args: inputs.setdefault(id(mod), args)) for m in model.modules()]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    for module in sorted(model.modules(), key=lambda m: sum(1 for _ in m.modules())):  # innermost first
        args = inputs.get(id(module))
        if args is None or not args or not all(isinstance(a, torch.Tensor) for a in args):
            continue
        try:
            with _quiet_exporter():
                torch.onnx.export(module, args, _Discard(), opset_version=opset, dynamo=False)
        except Exception:
            return module
    return None


class _Discard:
    """A writable file object that keeps nothing (for trial exports)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def export_onnx(
    model: nn.Module, input_shape: tuple[int, int], path: Path, *, opset: int = 17, dynamo: bool = False
) -> Path:
    """Export a network as fp32 ONNX (input ``windows``, output ``outputs``, dynamic batch axis), atomically.

    Args:
        model: any biowear network (with its ScaledInput/ScaledOutput wrappers); it is copied, not changed.
        input_shape: ``(channels, samples)`` per window.
        path: the ``.onnx`` file to write (its folder is created).
        opset: ONNX opset version (17 by default; LayerNormalization needs >= 17).
        dynamo: use the ``torch.export``-based exporter (needs onnxscript) instead of the TorchScript one.

    Returns:
        ``path``.

    Raises:
        ConfigError: onnx/onnxruntime (or, with ``dynamo``, onnxscript) missing, a bad shape, or a layer that
            does not export (its type is named).
    """
    onnx, _ = require_onnx()
    if dynamo:
        try:
            import onnxscript  # noqa: F401
        except ImportError:
            raise ConfigError("the dynamo ONNX exporter needs onnxscript: pip install onnxscript") from None
    shape = _check_shape(input_shape)
    if not 7 <= int(opset) <= 23:
        raise ConfigError(f"opset must be 7..23, got {opset}")
    net = copy.deepcopy(model).cpu().eval()
    example = torch.zeros((2, *shape), dtype=torch.float32)
    path = Path(path)
    try:
        if dynamo:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent, prefix=".onnx-export-") as tmp:
                _torch_export(net, example, os.path.join(tmp, "model.onnx"), int(opset), dynamo=True)
                proto = onnx.load(os.path.join(tmp, "model.onnx"))
            atomic_write(path, lambda fh: fh.write(proto.SerializeToString()))
        else:
            atomic_write(path, lambda fh: _torch_export(net, example, fh, int(opset), dynamo=False))
    except ConfigError:
        raise
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        layer = failing_layer(net, example, int(opset))
        where = f"layer {type(layer).__name__} does not export" if layer is not None else "the network does not export"
        raise ConfigError(f"ONNX export failed: {where} to opset {opset} ({reason})") from exc
    onnx.checker.check_model(str(path))
    log.info("exported %s (opset %d) to %s", type(unwrap(net)[0]).__name__, opset, path)
    return path


class _WindowReader:
    """onnxruntime calibration data reader over windows, in batches."""

    def __init__(self, windows: np.ndarray, batch_size: int):
        self._batches: Iterator[dict[str, np.ndarray]] = iter(
            [{INPUT_NAME: windows[i : i + batch_size]} for i in range(0, len(windows), batch_size)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize_onnx_int8(
    fp32_path: Path,
    out_path: Path,
    calibration_windows: np.ndarray,
    *,
    per_channel: bool = True,
    activations: str = "uint8",
    reduce_range: bool = True,
    batch_size: int = 32,
) -> Path:
    """Static int8 quantisation (QDQ format) of an fp32 model written by :func:`export_onnx`, atomically.

    Weights are symmetric int8 (per output channel with ``per_channel``); activation ranges are the min/max
    over ``calibration_windows`` (a few hundred representative training windows suffice). ``uint8`` activations
    are onnxruntime's recommendation for x86 CPUs; ``int8`` is symmetric-friendly hardware's choice.

    ``reduce_range`` keeps the weights to 7 bits (-64..63): x86 CPUs without VNNI multiply uint8 x int8 pairs
    into saturating int16 sums (``vpmaddubsw``), which full-range weights overflow. Measured on an AVX2 CPU
    without VNNI (a small trained ecg_cnn, 150 windows, mean |logit difference| against float, logits averaging
    16 in magnitude): 2.95 with full-range per-channel weights, 0.125 with ``reduce_range``; machines with VNNI
    lose about one bit of weight precision with it.

    Raises:
        ConfigError: onnx/onnxruntime missing, an unknown activation type, or unusable windows.
    """
    require_onnx()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if activations not in ACTIVATION_TYPES:
        raise ConfigError(f"unknown activation type {activations!r}; valid options are {', '.join(ACTIVATION_TYPES)}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    if not fp32_path.is_file():
        raise ConfigError(f"ONNX model {fp32_path} does not exist")
    shape = onnx_input_shape(fp32_path)
    x = onnx_windows(calibration_windows, shape, "calibration windows")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".onnx-int8-") as tmp:
        staged, source = Path(tmp) / "model_int8.onnx", Path(tmp) / "model_pre.onnx"
        try:  # onnxruntime's graph optimisation and shape inference before quantising, as it advises
            quant_pre_process(str(fp32_path), str(source), skip_symbolic_shape=True)
        except Exception as exc:  # a graph it cannot optimise is quantised as exported
            log.info("quantisation pre-processing skipped (%s: %s)", type(exc).__name__, exc)
            source = fp32_path
        quantize_static(
            str(source),
            str(staged),
            _WindowReader(x, batch_size),
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8 if activations == "uint8" else QuantType.QInt8,
            weight_type=QuantType.QInt8,
            reduce_range=reduce_range,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )
        data = staged.read_bytes()
    atomic_write(out_path, lambda fh: fh.write(data))
    log.info("int8 QDQ model of %s written to %s (%d calibration windows)", fp32_path, out_path, len(x))
    return out_path


def _default_windows(saved: Any, n: int = 64, seed: int = 0) -> np.ndarray:
    """Seeded normal windows in the model's input unit (its input scale when known, else unit variance)."""
    _, _, inputs = unwrap(saved.model)
    channels, samples = saved.input_shape
    mean, std = (np.asarray(inputs[0]), np.asarray(inputs[1])) if inputs else (np.zeros(channels), np.ones(channels))
    z = np.random.default_rng(seed).standard_normal((n, channels, samples))
    return (z * std[None, :, None] + mean[None, :, None]).astype(np.float32)


def export_onnx_bundle(
    saved: Any,
    out_dir: Path,
    calibration_windows: np.ndarray | None = None,
    *,
    verify_windows: np.ndarray | None = None,
    opset: int = 17,
    per_channel: bool = True,
    activations: str = "uint8",
    reduce_range: bool = True,
) -> dict[str, Any]:
    """Write ``model.onnx``, with calibration windows ``model_int8.onnx``, and ``onnx_check.json`` to ``out_dir``.

    Args:
        saved: a :class:`~biowear.train.artifacts.SavedModel`.
        out_dir: the folder to write into (created).
        calibration_windows: representative windows (e.g. training windows) for the int8 model; None: fp32 only.
        verify_windows: windows to compare on; None: the calibration windows, else 64 seeded normal windows in
            the model's input scale.
        opset, per_channel, activations, reduce_range: see :func:`export_onnx` and :func:`quantize_onnx_int8`.

    Returns:
        ``{"model": path, "model_int8": path or None, "check": path, "fp32": OnnxCheck dict,
        "int8": OnnxCheck dict or None}`` (paths as strings).
    """
    from biowear.train.artifacts import write_json

    out_dir = Path(out_dir)
    shape = tuple(saved.input_shape)
    fp32 = export_onnx(saved.model, shape, out_dir / "model.onnx", opset=opset)  # type: ignore[arg-type]
    if verify_windows is not None:
        check_x = onnx_windows(verify_windows, shape, "verification windows")
    elif calibration_windows is not None:
        check_x = onnx_windows(calibration_windows, shape, "calibration windows")
    else:
        check_x = _default_windows(saved)
    fp32_check = verify_onnx(fp32, saved.model, check_x, task=saved.task)
    int8 = int8_check = None
    if calibration_windows is not None:
        int8 = quantize_onnx_int8(
            fp32,
            out_dir / "model_int8.onnx",
            calibration_windows,
            per_channel=per_channel,
            activations=activations,
            reduce_range=reduce_range,
        )
        int8_check = verify_onnx(int8, saved.model, check_x, task=saved.task)
    doc = {
        "family": saved.family,
        "input": {"name": INPUT_NAME, "shape": ["batch", *shape], "dtype": "float32"},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", saved.task.n_outputs]},
        "opset": opset,
        "int8_settings": None
        if int8 is None
        else {"per_channel": per_channel, "activations": activations, "reduce_range": reduce_range},
        "fp32": fp32_check.to_dict(),
        "int8": int8_check.to_dict() if int8_check else None,
    }
    check_path = out_dir / "onnx_check.json"
    write_json(check_path, doc)
    return {
        "model": str(fp32),
        "model_int8": str(int8) if int8 else None,
        "check": str(check_path),
        "fp32": doc["fp32"],
        "int8": doc["int8"],
    }


__all__ = [
    "INPUT_NAME", "OUTPUT_NAME", "OnnxCheck", "export_onnx", "export_onnx_bundle", "failing_layer", "float_op_counts",
    "onnx_session", "quantize_onnx_int8", "require_onnx", "run_onnx", "verify_onnx",
]  # fmt: skip
