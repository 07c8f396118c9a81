"""Small layer modules that make every operation of a network visible to the cost profiler."""

from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


class SamePadConv1d(nn.Conv1d):
    """1-D convolution with TensorFlow-style 'same' padding for any stride: output length ceil(L / stride).

    The padding is asymmetric when the total is odd (extra sample on the right), as in Keras.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)

    def pads(self, length: int) -> tuple[int, int]:
        """(left, right) zero padding for an input of ``length`` samples."""
        stride, kernel = self.stride[0], self.kernel_size[0]
        total = max((math.ceil(length / stride) - 1) * stride + kernel - length, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = self.pads(x.shape[-1])
        if self.training and _channels_last_ok(x):
            return self._channels_last(x, left, right)
        return super().forward(F.pad(x, (left, right)))

    def _channels_last(self, x: torch.Tensor, left: int, right: int) -> torch.Tensor:
        """The same convolution run as a ``1 x k`` 2-D one in channels-last layout (CPU training only).

        oneDNN's backward pass in the plain ``(B, C, L)`` layout is 2-3x slower than in channels-last (NHWC), where
        input and weight gradients run near the machine's matmul rate; the forward costs the same. The result
        equals the plain path up to float rounding (another summation order), not bit for bit. Input, output and
        their gradients cross the layout boundary explicitly (see :class:`_PadToChannelsLast`), so the layers
        around it keep the plain layout (a whole trunk can stay channels-last instead: :func:`run_channels_last`).
        Its backward is not differentiable (``create_graph`` raises), unlike the plain path's.
        """
        return _FromChannelsLast.apply(self.conv2d_channels_last(_PadToChannelsLast.apply(x, left, right)))

    def conv2d_channels_last(self, padded: torch.Tensor) -> torch.Tensor:
        """This convolution, without padding, as a ``1 x k`` 2-D one on the channels-last ``(B, C, 1, L)``
        tensor ``padded`` (already padded 'same'); the output is channels-last ``(B, out, 1, L')``."""
        return F.conv2d(
            padded,
            self.weight.unsqueeze(2).contiguous(memory_format=torch.channels_last),
            self.bias,
            stride=(1, self.stride[0]),
            dilation=(1, self.dilation[0]),
            groups=self.groups,
        )


#: Whether CPU training may take the fast paths: channels-last convolutions (:class:`SamePadConv1d`) and numpy
#: dropout masks (:class:`Dropout`). Env ``BIOWEAR_FAST_CONV=0`` turns both off, e.g. to extend a tabular
#: benchmark whose networks were all trained on the plain path; see :func:`set_fast_conv`.
_FAST_CONV = [os.environ.get("BIOWEAR_FAST_CONV", "1") != "0"]


def set_fast_conv(enabled: bool) -> bool:
    """Allow (or forbid) the fast CPU training paths of :class:`SamePadConv1d` (channels-last convolutions) and
    :class:`Dropout` (numpy masks); returns the previous setting.

    The fast and plain paths train the same model in distribution (the convolutions agree up to float rounding;
    dropout draws its masks from another generator, seeded from torch's), so this is an execution setting like
    the thread count: it is not part of any training key. Turn it off to reproduce, bit for bit, runs made on the
    plain path.
    """
    previous, _FAST_CONV[0] = _FAST_CONV[0], bool(enabled)
    return previous


def _fast_training_ok(x: torch.Tensor) -> bool:
    """Whether a fast CPU training path applies: float CPU tensors with autograd on (a backward pass may follow),
    outside tracing and compiling, unless turned off (:func:`set_fast_conv`)."""
    return (
        _FAST_CONV[0]
        and isinstance(x, torch.Tensor)  # not an FX proxy
        and torch.is_grad_enabled()
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
    )


def _channels_last_ok(x: torch.Tensor) -> bool:
    """Whether :meth:`SamePadConv1d._channels_last` applies: a fast training path on a ``(B, C, L)`` tensor."""
    return _fast_training_ok(x) and x.dim() == 3


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` whose CPU training masks come from numpy's PCG64 generator.

    Torch's CPU ``bernoulli_`` draws one element at a time: 8 % of a mid-size network's training step went to it,
    and numpy's vectorised 16-bit draws make the mask 6-7x faster. Each call seeds its generator from torch's
    (one 63-bit draw), so ``torch.manual_seed`` still fixes every mask and a resumed fit state continues them.
    An element is zeroed with probability ``round(p * 2**16) / 2**16`` (within 8e-6 of ``p``) and the others are
    scaled by the exact inverse of the keep probability, so the expectation is unchanged. Evaluation, other
    devices, in-place dropout, a ``p`` within 2**-17 of 0 or 1 and :func:`set_fast_conv(False) <set_fast_conv>`
    take torch's own path.

    FX keeps only ``torch.nn`` modules whole: a tracer other than biowear's (which treat this class as a leaf)
    would freeze a training-mode trace's dropout on. Swap it for :class:`torch.nn.Dropout` before such a trace,
    as :func:`biowear.compress.int8.deployable` does.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drop = round(self.p * 65536)
        if not (self.training and 0 < drop < 65536 and not self.inplace and _fast_training_ok(x)):
            return super().forward(x)
        seed = int(torch.randint(0, 2**63 - 1, (1,), dtype=torch.int64))
        bits = np.random.Generator(np.random.PCG64(seed)).integers(0, 65536, x.numel(), dtype=np.uint16)
        dtype = _numpy_dtype(x.dtype)
        mask = (bits >= drop).astype(dtype)
        mask *= dtype.type(65536 / (65536 - drop))
        # in logical order whatever x's layout: a channels-last trunk draws the masks the plain path draws
        return x * torch.from_numpy(mask).view(x.shape)


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    """numpy's dtype for a torch float dtype."""
    return torch.empty((), dtype=dtype).numpy().dtype


def _to_channels_last(x: torch.Tensor, left: int = 0, right: int = 0) -> torch.Tensor:
    """``(B, C, L)`` in any layout -> channels-last ``(B, C, 1, left + L + right)``, zero-padded on the time axis.

    The transposing copy is numpy's: PyTorch's CPU copy into channels-last was 5-20x slower for these shapes
    (e.g. 25 ms against 1.3 ms for 128 x 32 x 256, padded).
    """
    b, c, length = x.shape
    out = np.empty((b, left + length + right, c), dtype=_numpy_dtype(x.dtype))
    out[:, :left] = 0
    out[:, left + length :] = 0
    out[:, left : left + length] = x.detach().numpy().transpose(0, 2, 1)
    return torch.from_numpy(out).transpose(1, 2).unsqueeze(2)


def _to_plain(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, L)`` in any layout -> contiguous (numpy's copy, see :func:`_to_channels_last`)."""
    return torch.from_numpy(np.ascontiguousarray(x.detach().numpy()))


class _PadToChannelsLast(torch.autograd.Function):
    """``(B, C, L)`` -> zero-padded channels-last ``(B, C, 1, left + L + right)``; the gradient comes back plain."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, left: int, right: int) -> torch.Tensor:  # type: ignore[override]
        ctx.span = (left, left + x.shape[-1])
        return _to_channels_last(x, left, right)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        start, stop = ctx.span
        return _to_plain(grad.squeeze(2)[:, :, start:stop]), None, None


class _FromChannelsLast(torch.autograd.Function):
    """Channels-last ``(B, C, 1, L)`` -> contiguous ``(B, C, L)``; the gradient goes back to channels-last."""

    @staticmethod
    def forward(ctx, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return _to_plain(y.squeeze(2))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return _to_channels_last(grad)


# ------------------------------------------------------------------ channels-last trunks (CPU training)
def _bn_channels_last(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """``bn`` (a :class:`~torch.nn.BatchNorm1d`) on ``(B, C, 1, L)``: the same statistics, running-stat updates
    and ``num_batches_tracked`` as its own forward on ``(B, C, L)``."""
    factor = 0.0 if bn.momentum is None else bn.momentum
    if bn.training and bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
    use_batch = bn.training or (bn.running_mean is None and bn.running_var is None)
    tracked = not bn.training or bn.track_running_stats
    return F.batch_norm(
        x,
        bn.running_mean if tracked else None,
        bn.running_var if tracked else None,
        bn.weight,
        bn.bias,
        use_batch,
        factor,
        bn.eps,
    )


class _PadTime(torch.autograd.Function):
    """Zero padding of the last axis of a channels-last tensor whose gradient comes back dense channels-last
    (a plain slice would hand the next backward kernels a strided view, several times slower for them)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, left: int, right: int) -> torch.Tensor:  # type: ignore[override]
        ctx.span = (left, left + x.shape[-1])
        return F.pad(x, (left, right))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        start, stop = ctx.span
        return grad[..., start:stop].contiguous(memory_format=torch.channels_last), None, None


def _conv_channels_last(conv: SamePadConv1d, x: torch.Tensor) -> torch.Tensor:
    left, right = conv.pads(x.shape[-1])
    return conv.conv2d_channels_last(_PadTime.apply(x, left, right) if left or right else x)


def _pool_channels_last(pool: nn.MaxPool1d, x: torch.Tensor) -> torch.Tensor:
    def one(v):
        return v if isinstance(v, int) else v[0]

    return F.max_pool2d(
        x,
        (1, one(pool.kernel_size)),
        (1, one(pool.stride)),
        (0, one(pool.padding)),
        (1, one(pool.dilation)),
        ceil_mode=pool.ceil_mode,
    )


def _channel_pad_channels_last(pad: ChannelPad, x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (0, 0, 0, 0, 0, pad.out_channels - x.shape[1]))


def _sequential_channels_last(seq: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    for m in seq:
        x = run_channels_last(m, x)
    return x


def _joined_by_parent(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    raise TypeError("Add joins two tensors: its parent's forward_channels_last adds them itself")


def _rule(m: nn.Module):
    rule = _RULES.get(type(m))
    if rule is None and hasattr(m, "forward_channels_last"):
        rule = type(m).forward_channels_last
    return rule


def channels_last_ready(module: nn.Module) -> bool:
    """Whether :func:`run_channels_last` can run ``module``: every submodule has a channels-last rule (exact
    types, or a ``forward_channels_last`` method) and none carries hooks, which that path would skip."""
    return all(
        _rule(m) is not None and not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks)
        for m in module.modules()
    )


def run_channels_last(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module`` (checked by :func:`channels_last_ready`) on a channels-last ``(B, C, 1, L)`` tensor: the same
    computation as its forward on ``(B, C, L)``, with every convolution, batch norm, ReLU, dropout and pooling
    in channels-last layout, where oneDNN's kernels (forward and backward) run 2-3x (convolutions) and 2x
    (batch norm + ReLU) faster on CPU than in ``(B, C, L)``, and with no layout copies between them."""
    return _rule(module)(module, x)


class ChannelPad(nn.Module):
    """Zero-pads the channel axis of ``(B, C, L)`` up to ``out_channels`` (parameter-free shortcut)."""

    def __init__(self, out_channels: int):
        super().__init__()
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0, 0, self.out_channels - x.shape[1]))


class Add(nn.Module):
    """Element-wise sum of two tensors (the residual join)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class LastStepLSTM(nn.Module):
    """A one-layer LSTM over ``(B, C, L)`` (time on the last axis) returning the final hidden state."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)

    @property
    def hidden_size(self) -> int:
        return self.lstm.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type == "meta":  # shape-only pass: skip the step-by-step meta decomposition
            return x.new_empty((x.shape[0], self.hidden_size))
        out, _ = self.lstm(x.transpose(1, 2))
        return out[:, -1, :]


class RowsToBatch(nn.Module):
    """``(B, R, T)`` -> ``(B*R, 1, T)``: every sensor row becomes its own one-channel sequence, so a following
    :class:`~torch.nn.Conv1d` applies the same temporal filters to each row (a 2-D convolution with a ``1 x k``
    kernel, kept 1-D for int8 and C export). Row ``r`` of sample ``b`` lands at batch index ``b*R + r``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # no shape reads: FX int8 then quantises the input before the fold and runs the first conv in int8
        return torch.flatten(x, 0, 1).unsqueeze(1)


class RowsToChannels(nn.Module):
    """``(B*R, C, T)`` -> ``(B, R*C, T)``, the inverse fold of :class:`RowsToBatch` with the rows stacked on the
    channel axis: channel ``r*C + c`` holds feature ``c`` of row ``r``.

    Args:
        rows: ``R``, the sensor rows folded into the batch axis.
    """

    def __init__(self, rows: int):
        super().__init__()
        self.rows = rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, self.rows * x.shape[1], x.shape[2])


class Transpose(nn.Module):
    """Swaps axes 1 and 2: ``(B, C, T)`` <-> ``(B, T, C)`` (channels-first convolution features to tokens)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


def parse_int_fields(text: str, allowed: tuple[str, ...], form: str) -> dict[str, int]:
    """Parse ``"a=1,b=2"`` into integers, accepting only ``allowed`` keys.

    Raises:
        ConfigError: an unknown key, a missing ``=`` or a non-integer value; ``form`` shows the expected text.
    """
    from biowear.errors import ConfigError

    fields: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = (x.strip() for x in part.partition("="))
        if not sep or key not in allowed:
            raise ConfigError(f"cannot parse architecture {text!r}: expected {form}")
        try:
            fields[key] = int(value)
        except ValueError:
            raise ConfigError(f"architecture field {key!r} needs an integer, got {value!r}") from None
    return fields


#: Channels-last rule per module type (:func:`run_channels_last`); here, once every layer class exists.
_RULES: dict[type, object] = {
    nn.Sequential: _sequential_channels_last,
    nn.Identity: lambda m, x: x,
    SamePadConv1d: _conv_channels_last,
    nn.BatchNorm1d: _bn_channels_last,
    nn.ReLU: lambda m, x: F.relu(x),
    Dropout: lambda m, x: m(x),
    nn.Dropout: lambda m, x: F.dropout(x, m.p, m.training),
    nn.MaxPool1d: _pool_channels_last,
    ChannelPad: _channel_pad_channels_last,
    Add: _joined_by_parent,
}
