"""The seizure-detection fully convolutional network of SeizureDetCNN (after Gomez et al. 2020) and its
layer-by-layer NumPy inference in floating point or emulated 16-bit fixed point.

Three blocks of 1-D convolution, batch normalisation, max pooling and ReLU, then two dense layers. For
inference batch normalisation is folded into the convolution. Fixed point uses one Q format per tensor
(weights: from their largest magnitude; activations: from ranges calibrated on training windows), 64-bit
accumulators and one rounded shift per output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import OpCounts, kernel


@dataclass(frozen=True)
class FCNSpec:
    """Architecture of the FCN.

    Attributes:
        in_channels: EEG channels (23 for CHB-MIT montages).
        length: samples per window (4 s at 256 Hz = 1024).
        filters: output channels of the three convolution blocks.
        kernel: convolution kernel length.
        pool: max-pooling factor of every block.
        hidden: units of the first dense layer.
        classes: output classes.
    """

    in_channels: int = 23
    length: int = 1024
    filters: tuple[int, int, int] = (16, 32, 32)
    kernel: int = 5
    pool: int = 4
    hidden: int = 32
    classes: int = 2

    def __post_init__(self) -> None:
        if self.length % (self.pool**3):
            raise ConfigError(f"FCN window length {self.length} must be divisible by pool^3 = {self.pool**3}")


def build_fcn(spec: FCNSpec) -> nn.Sequential:
    """The PyTorch module (trained with :func:`biowear.train.fit`-style loops or plain Adam)."""
    layers: list[nn.Module] = []
    cin = spec.in_channels
    for f in spec.filters:
        layers += [
            nn.Conv1d(cin, f, spec.kernel, padding=spec.kernel // 2),
            nn.BatchNorm1d(f),
            nn.MaxPool1d(spec.pool),
            nn.ReLU(),
        ]
        cin = f
    flat = spec.filters[-1] * spec.length // spec.pool**3
    layers += [nn.Flatten(), nn.Linear(flat, spec.hidden), nn.ReLU(), nn.Linear(spec.hidden, spec.classes)]
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class FoldedFCN:
    """Inference-time parameters: per conv block (weight, bias) with BN folded; dense (weight, bias)."""

    convs: tuple[tuple[np.ndarray, np.ndarray], ...]
    dense: tuple[tuple[np.ndarray, np.ndarray], ...]
    pool: int

    @classmethod
    def from_module(cls, module: nn.Sequential, pool: int) -> FoldedFCN:
        module = module.eval()
        convs, dense = [], []
        mods = list(module)
        for i, m in enumerate(mods):
            if isinstance(m, nn.Conv1d):
                bn = mods[i + 1]
                assert isinstance(bn, nn.BatchNorm1d)
                s = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().numpy().astype(np.float64)
                w = m.weight.detach().numpy().astype(np.float64) * s[:, None, None]
                b = (m.bias.detach().numpy() - bn.running_mean.detach().numpy()) * s + bn.bias.detach().numpy()
                convs.append((w, b.astype(np.float64)))
            elif isinstance(m, nn.Linear):
                dense.append((m.weight.detach().numpy().astype(np.float64), m.bias.detach().numpy().astype(np.float64)))
        return cls(tuple(convs), tuple(dense), pool)

    @property
    def n_params(self) -> int:
        return int(sum(w.size + b.size for w, b in self.convs + self.dense))


def _conv_ops(y: np.ndarray, x: np.ndarray, w: np.ndarray, *args: object, **kw: object) -> OpCounts:
    cout, cin, k = w.shape
    n = np.asarray(x).shape[-1]
    return OpCounts(macs=cout * cin * k * n, adds=cout * n, moves=cin * k * n)


@kernel("conv1d", _conv_ops)
def conv1d_same(x: np.ndarray, w: np.ndarray, b: np.ndarray, shift: int | None = None, q: QFormat | None = None):
    """'Same' 1-D convolution (cross-correlation) of ``x`` (cin, n) with ``w`` (cout, cin, k) plus ``b``.

    Fixed point: ``x``, ``w`` and ``b`` are integer codes; products accumulate in 64 bits (bias pre-shifted
    to the accumulator's scale) and one rounded right shift by ``shift`` bits maps to the output format.
    """
    cout, cin, k = w.shape
    pad = k // 2
    xp = np.pad(x, ((0, 0), (pad, k - 1 - pad)))
    cols = np.stack([xp[:, j : j + x.shape[1]] for j in range(k)], axis=1).reshape(cin * k, x.shape[1])
    if q is None:
        return w.reshape(cout, cin * k) @ cols + b[:, None]
    acc = np.asarray(w, np.int64).reshape(cout, cin * k) @ np.asarray(cols, np.int64) + np.asarray(b, np.int64)[:, None]
    return q.saturate(q.shift_round(acc, int(shift or 0)))


def _pool_ops(y: np.ndarray, x: np.ndarray, pool: int, **kw: object) -> OpCounts:
    return OpCounts(cmps=int(np.asarray(x).size) + int(y.size))  # pool comparisons + ReLU


@kernel("maxpool_relu", _pool_ops)
def maxpool_relu(x: np.ndarray, pool: int) -> np.ndarray:
    """Non-overlapping max pooling along the last axis, then ReLU (works on codes too)."""
    c, n = x.shape
    return np.maximum(x[:, : n - n % pool].reshape(c, n // pool, pool).max(axis=-1), 0)


def _dense_ops(y: np.ndarray, x: np.ndarray, w: np.ndarray, *args: object, **kw: object) -> OpCounts:
    return OpCounts(macs=int(w.size), adds=int(w.shape[0]))


@kernel("dense", _dense_ops)
def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray, shift: int | None = None, q: QFormat | None = None):
    """``w @ x + b``; fixed point as :func:`conv1d_same`."""
    if q is None:
        return w @ x + b
    acc = np.asarray(w, np.int64) @ np.asarray(x, np.int64) + np.asarray(b, np.int64)
    return q.saturate(q.shift_round(acc, int(shift or 0)))


def _frac_bits(max_abs: float, word_bits: int) -> int:
    """Fraction bits of the finest format whose range holds ``max_abs``."""
    int_bits = max(0, int(np.ceil(np.log2(max(max_abs, 1e-12) * 1.0001 + 1e-12))))
    return max(0, min(word_bits - 1, word_bits - 1 - int_bits))


@dataclass(frozen=True)
class FixedPlan:
    """Fraction bits of every tensor for a fixed-point run (input, each layer's weights and output)."""

    word_bits: int
    input_frac: int
    weight_frac: tuple[int, ...]
    output_frac: tuple[int, ...]


def calibrate(model: FoldedFCN, windows: np.ndarray, word_bits: int = 16) -> FixedPlan:
    """Choose per-tensor Q formats from weight magnitudes and activation ranges on ``windows``."""
    in_frac = _frac_bits(float(np.max(np.abs(windows))), word_bits)
    maxima = np.zeros(len(model.convs) + len(model.dense))
    for x in windows:
        for i, out in enumerate(_float_layers(model, x)):
            maxima[i] = max(maxima[i], float(np.max(np.abs(out))))
    w_frac = tuple(_frac_bits(float(np.max(np.abs(w))), word_bits) for w, _ in model.convs + model.dense)
    return FixedPlan(word_bits, in_frac, w_frac, tuple(_frac_bits(m, word_bits) for m in maxima))


def _float_layers(model: FoldedFCN, x: np.ndarray) -> list[np.ndarray]:
    outs = []
    h = np.asarray(x, dtype=np.float64)
    for w, b in model.convs:
        h = conv1d_same(h, w, b)
        outs.append(h)
        h = maxpool_relu(h, model.pool)
    h = h.reshape(-1)
    for i, (w, b) in enumerate(model.dense):
        h = dense(h, w, b)
        outs.append(h)
        if i < len(model.dense) - 1:
            h = np.maximum(h, 0.0)
    return outs


def fcn_logits(model: FoldedFCN, x: np.ndarray, plan: FixedPlan | None = None) -> np.ndarray:
    """Logits of one window ``x`` (channels, samples), in float or in the fixed-point ``plan``."""
    if plan is None:
        return _float_layers(model, x)[-1]
    q = QFormat(plan.word_bits, 0)  # only its word size matters: shifts are explicit
    h = QFormat(plan.word_bits, plan.input_frac).quantize(x)
    frac = plan.input_frac
    layers = list(model.convs) + list(model.dense)
    for i, (w, b) in enumerate(layers):
        wf, of = plan.weight_frac[i], plan.output_frac[i]
        wq = QFormat(plan.word_bits, wf).quantize(w)
        bq = np.rint(b * 2.0 ** (frac + wf)).astype(np.int64)  # bias at the accumulator's scale
        shift = frac + wf - of
        if i < len(model.convs):
            h = maxpool_relu(conv1d_same(h, wq, bq, shift=shift, q=q), model.pool)
        else:
            h = dense(h.reshape(-1), wq, bq, shift=shift, q=q)
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        frac = of
    return h / 2.0**frac
