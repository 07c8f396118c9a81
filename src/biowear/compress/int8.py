"""int8 quantisation with a real integer inference path (PyTorch FX graph mode, fbgemm/x86 or qnnpack).

Post-training quantisation (PTQ) observes activations on calibration windows (histogram observers) and
quantises weights per output channel (symmetric int8), as in Jacob et al. (2018) and PyTorch's x86 defaults.
Quantisation-aware training (QAT) inserts fake quantisers and fine-tunes with the one :func:`fit` loop before
conversion. Conv-BN(-ReLU) chains are fused, convolutions, dense layers, residual adds and max-pools run as
int8 kernels. The LSTM is quantised dynamically (int8 weights, activations quantised per call) or kept in
float; PyTorch has no static int8 LSTM kernel.

A regression network's :class:`~biowear.train.target.ScaledOutput` stays in float around the int8 network: its
affine map to the target's unit would otherwise quantise the output on a grid spanning zero to the largest
target (about 0.8 BPM steps for heart rates up to 200 BPM).

biowear's 'same'-padded convolutions pad asymmetrically (Keras style), which PyTorch's quantised convolution
cannot express; :func:`deployable` rewrites each as a symmetric-padded convolution whose kernel carries zero
taps at the short side. The result is numerically the same network, and the zero taps are not counted as
stored weights.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models.layers import Dropout, LastStepLSTM, SamePadConv1d
from biowear.registry import Registry
from biowear.train import TrainConfig, fit
from biowear.train.target import ScaledOutput
from biowear.validate import Interval, check

#: int8 kernel libraries biowear knows (``biowear compress --int8-engine``); a build offers some of them.
INT8_ENGINES: Registry[str] = Registry("int8 engine")
INT8_ENGINES.register("x86", "PyTorch's x86 default (fbgemm with x86 tuning)")
INT8_ENGINES.register("fbgemm", "Facebook GEMM kernels (x86 with AVX2)")
INT8_ENGINES.register("qnnpack", "QNNPACK kernels (ARM, mobile)")

#: What int8 quantisation does with an LSTM (``biowear compress --int8-lstm``).
LSTM_MODE_REGISTRY: Registry[str] = Registry("LSTM mode")
LSTM_MODE_REGISTRY.register("dynamic", "int8 weights, activations quantised per call")
LSTM_MODE_REGISTRY.register("float", "the LSTM stays in float32")
LSTM_MODES: tuple[str, ...] = tuple(LSTM_MODE_REGISTRY.names())


def int8_engines() -> tuple[str, ...]:
    """Registered quantised CPU engines this PyTorch build offers (``x86``/``fbgemm`` on x86, ``qnnpack`` on ARM)."""
    return tuple(e for e in INT8_ENGINES if e in torch.backends.quantized.supported_engines)


@dataclass(frozen=True)
class Int8Config:
    """Settings of int8 quantisation.

    Args:
        engine: quantised kernel library (see :func:`int8_engines`).
        calibration_windows: training windows observed to fix activation ranges (PTQ).
        lstm: ``dynamic`` (int8 weights) or ``float`` (LSTM left in float32).
        seed: picks the calibration windows.
    """

    engine: str = "x86"
    calibration_windows: int = 512
    lstm: str = "dynamic"
    seed: int = 0

    RULES = {"calibration_windows": Interval(int, 1, None), "seed": Interval(int, 0, None)}

    def __post_init__(self) -> None:
        if self.engine not in int8_engines():
            raise ConfigError(
                f"int8 engine {self.engine!r} is not available; valid options are: {', '.join(int8_engines())}"
            )
        LSTM_MODE_REGISTRY.get(self.lstm)
        check(self, self.RULES)


@contextlib.contextmanager
def _engine(name: str) -> Iterator[None]:
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = name
    try:
        yield
    finally:
        torch.backends.quantized.engine = previous


class _TraceableLSTM(nn.Module):
    """:class:`LastStepLSTM` without its shape-only branch, so FX can trace it."""

    def __init__(self, lstm: nn.LSTM):
        super().__init__()
        self.lstm = lstm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x.transpose(1, 2))
        return out[:, -1, :]


def _same_pads(model: nn.Module, input_shape: Sequence[int]) -> dict[str, tuple[int, int]]:
    """(left, right) padding of every :class:`SamePadConv1d` for this input shape."""
    pads: dict[str, tuple[int, int]] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, SamePadConv1d):

            def hook(mod, inputs, output, _name=name):
                pads[_name] = mod.pads(inputs[0].shape[-1])

            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(torch.zeros((1, *input_shape)))
    finally:
        for h in hooks:
            h.remove()
    return pads


def _symmetric_conv(conv: SamePadConv1d, left: int, right: int) -> nn.Conv1d:
    """A Conv1d with padding ``max(left, right)`` on both sides and zero taps making up the difference."""
    pad = max(left, right)
    kernel = conv.kernel_size[0]
    out = nn.Conv1d(
        conv.in_channels,
        conv.out_channels,
        kernel + 2 * pad - left - right,
        stride=conv.stride[0],
        padding=pad,
        bias=conv.bias is not None,
    )
    with torch.no_grad():
        out.weight.zero_()
        out.weight[:, :, pad - left : pad - left + kernel] = conv.weight
        if conv.bias is not None:
            out.bias.copy_(conv.bias)
    return out


def deployable(model: nn.Module, input_shape: Sequence[int]) -> nn.Module:
    """A float copy of ``model`` that FX can trace and PyTorch's int8 kernels can run, with the same outputs.

    Raises:
        ConfigError: the model does not accept ``(1, *input_shape)`` inputs.
    """
    model = copy.deepcopy(model).cpu().eval()
    try:
        pads = _same_pads(model, input_shape)
    except RuntimeError as exc:
        raise ConfigError(
            f"{type(model).__name__} does not accept inputs of shape {tuple(input_shape)}: {exc}"
        ) from exc
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if isinstance(child, SamePadConv1d):
                setattr(parent, child_name, _symmetric_conv(child, *pads[full]))
            elif isinstance(child, LastStepLSTM):
                setattr(parent, child_name, _TraceableLSTM(child.lstm))
            elif isinstance(child, Dropout):  # torch's own: a module FX keeps whole, so eval() still turns it off
                setattr(parent, child_name, nn.Dropout(child.p, child.inplace))
    return model.eval()


class Int8Network(nn.Module):
    """An int8 network: the converted graph plus the engine its packed weights belong to."""

    def __init__(self, graph: nn.Module, engine: str, method: str, kernels: dict[str, int] | None = None):
        super().__init__()
        self.graph, self.engine, self.method = graph, engine, method
        #: true kernel width of every convolution :func:`deployable` widened with zero taps, by module path
        self.kernels = dict(kernels or {})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with _engine(self.engine):
            return self.graph(x.cpu())


def _qconfig_mapping(engine: str, qat: bool):
    from torch.ao.quantization import get_default_qat_qconfig_mapping, get_default_qconfig_mapping

    mapping = get_default_qat_qconfig_mapping(engine) if qat else get_default_qconfig_mapping(engine)
    return mapping.set_object_type(nn.LSTM, None)  # quantised dynamically after conversion, or left float


def _prepare(model: nn.Module, input_shape: Sequence[int], config: Int8Config, qat: bool) -> nn.Module:
    from torch.ao.quantization.quantize_fx import prepare_fx, prepare_qat_fx

    net = deployable(model, input_shape)
    scaled = net if isinstance(net, ScaledOutput) else None  # its float affine stays outside the int8 graph
    inner = scaled.net if scaled is not None else net
    example = (torch.zeros((1, *input_shape)),)
    try:
        with warnings.catch_warnings(), _engine(config.engine):
            warnings.simplefilter("ignore")
            if qat:
                prepared = prepare_qat_fx(inner.train(), _qconfig_mapping(config.engine, True), example)
            else:
                prepared = prepare_fx(inner, _qconfig_mapping(config.engine, False), example)
    except Exception as exc:  # FX tracing fails on data-dependent control flow, in many exception types
        raise ConfigError(
            f"int8 quantisation cannot trace {type(model).__name__} ({type(exc).__name__}: {exc}); it handles "
            "networks of Conv1d, BatchNorm1d, ReLU, MaxPool1d, residual adds, Linear and LSTM layers"
        ) from exc
    if scaled is None:
        return prepared
    scaled.net = prepared
    return scaled.train(qat)


def _kernels(model: nn.Module) -> dict[str, int]:
    return {name: m.kernel_size[0] for name, m in model.named_modules() if isinstance(m, SamePadConv1d)}


def _convert(prepared: nn.Module, config: Int8Config, method: str, kernels: dict[str, int]) -> Int8Network:
    from torch.ao.quantization import quantize_dynamic
    from torch.ao.quantization.quantize_fx import convert_fx

    with warnings.catch_warnings(), _engine(config.engine):
        warnings.simplefilter("ignore")
        prepared = prepared.cpu().eval()
        if isinstance(prepared, ScaledOutput):
            prepared.net = convert_fx(prepared.net)
            graph: nn.Module = prepared
        else:
            graph = convert_fx(prepared)
        if config.lstm == "dynamic":
            graph = quantize_dynamic(graph, {nn.LSTM}, dtype=torch.qint8)
    return Int8Network(graph, config.engine, method, kernels)


def quantize_int8(
    model: nn.Module, x_calibration: np.ndarray, config: Int8Config | None = None, batch_size: int = 128
) -> Int8Network:
    """Post-training int8 quantisation: per-channel weights, activations calibrated on ``x_calibration``.

    Args:
        model: a trained float network (not modified).
        x_calibration: training windows ``(N, C, L)``; ``config.calibration_windows`` of them are observed.
        config: engine, calibration size, LSTM mode.

    Raises:
        ConfigError: no calibration windows, non-finite inputs, or a network FX cannot trace.
    """
    config = config or Int8Config()
    x = np.asarray(x_calibration, dtype=np.float32)
    if x.ndim != 3 or len(x) == 0:
        raise ConfigError(f"calibration windows must be a non-empty (N, C, L) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ConfigError("calibration windows contain NaN or infinite values")
    pick = np.random.default_rng(config.seed).permutation(len(x))[: config.calibration_windows]
    prepared = _prepare(model, x.shape[1:], config, qat=False)
    with torch.no_grad(), _engine(config.engine):
        for start in range(0, len(pick), batch_size):
            prepared(torch.from_numpy(x[np.sort(pick[start : start + batch_size])]))
    return _convert(prepared, config, "ptq", _kernels(model))


def qat_int8(
    model: nn.Module,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    train: TrainConfig,
    epochs: int = 2,
    config: Int8Config | None = None,
) -> Int8Network:
    """Quantisation-aware training: fake-quantised fine-tuning for ``epochs``, then int8 conversion.

    Args:
        model: a trained float network (not modified).
        data: ``(x_train, y_train, x_val, y_val)``.
        train: fine-tuning settings (``epochs`` replaces its epoch count; CPU, since int8 kernels are CPU-only).
    """
    config = config or Int8Config()
    return _convert(qat_prepared(model, data, train, epochs, config), config, "qat", _kernels(model))


def qat_prepared(
    model: nn.Module,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    train: TrainConfig,
    epochs: int,
    config: Int8Config,
) -> nn.Module:
    """The fake-quantised network of :func:`qat_int8` after its fine-tuning, before int8 conversion."""
    if epochs < 1:
        raise ConfigError(f"QAT needs at least one epoch, got {epochs}")
    prepared = _prepare(model, data[0].shape[1:], config, qat=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(prepared, *data, config=replace(train, epochs=epochs, device="cpu"))
    return prepared


def _quantized_tensor_bytes(t: torch.Tensor, kernel: int | None = None) -> int:
    """Stored bytes of a tensor; a quantised conv weight counts ``kernel`` taps (not the zero taps added by
    :func:`deployable`) plus one float32 scale per output channel."""
    if not t.is_quantized:
        return t.numel() * t.element_size()
    per_channel = t.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric)
    scales = t.q_per_channel_scales().numel() if per_channel else 1
    elems = t.numel() if kernel is None else t.shape[0] * t.shape[1] * kernel
    return elems * t.element_size() + 4 * scales


def int8_storage_bytes(net: Int8Network) -> int:
    """Bytes of an int8 network: int8 weights with their float32 scales, biases and anything left in float
    (un-fused batch norms, a float LSTM) at its own width, plus the activation scales and zero points."""
    from torch.ao.nn.quantized.dynamic import LSTM as DynamicLSTM

    total = 0
    for name, module in net.graph.named_modules():
        if isinstance(module, DynamicLSTM):
            for group in module._weight_bias().values():
                total += sum(_quantized_tensor_bytes(t) for t in group.values() if t is not None)
            continue
        if callable(getattr(module, "weight", None)):  # quantised conv/dense: weight() unpacks the int8 tensor
            weight = module.weight()
            total += _quantized_tensor_bytes(weight, net.kernels.get(name)) + 5  # + output scale and zero point
            bias = module.bias() if callable(getattr(module, "bias", None)) else None
            total += 0 if bias is None else _quantized_tensor_bytes(bias)
            continue
        for key, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
            if key == "num_batches_tracked":  # training state, not stored
                continue
            total += 1 if "zero_point" in key else _quantized_tensor_bytes(tensor)
    return total
