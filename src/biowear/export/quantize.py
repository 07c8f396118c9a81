"""Calibration and integer parameters of a lowered graph (CMSIS-NN / TFLite Micro conventions).

* Activations: int8 with a zero point, ``real = scale * (q - zero_point)``; the range of each tensor is the
  min/max observed on the calibration windows (widened to include 0). Pooling, folds and flatten keep their
  input's parameters. The LSTM's output ``h`` has the fixed scale ``2**-7`` (``|h| < 1``).
* Weights: symmetric int8 per output channel (``[-127, 127]``, scale ``max|w| / 127``), a folded batch
  norm's factor included; biases int32 in units of ``input_scale * weight_scale``.
* **Packed k-means weights** (``weights="kmeans"``): a tensor with at most 128 distinct values (a k-means
  codebook) is stored as q-bit codes plus an int8 codebook at one per-tensor scale, densely or with a sparsity
  bitmask (:mod:`biowear.export.packing`); the batch norm factor then moves into the per-channel
  requantisation multiplier, so the codebook stays shared.
* Residual add: TFLite's scheme, both inputs shifted left by 20 bits and rescaled to twice the larger input
  scale, summed, requantised to the output.
* LSTM: gate pre-activations int16 Q3.12 (input and recurrent products requantised separately), sigmoid/tanh by
  table (:mod:`biowear.export.intmath`), cell state int16 with ``15 - cell_bits`` fractional bits, where
  ``cell_bits`` covers the calibrated ``max|c|`` with 25 % headroom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biowear.errors import ConfigError
from biowear.export.floatsim import run_float
from biowear.export.graph import Graph, Op
from biowear.export.intmath import (
    ACT_FRAC_BITS,
    GATE_FRAC_BITS,
    HIDDEN_FRAC_BITS,
    INT32_MAX,
    quantize_multipliers,
)
from biowear.export.packing import PackedWeights, pack, unpack
from biowear.registry import Registry
from biowear.train.inputs import check_windows

#: How weights are stored (``biowear export --weights``).
WEIGHT_LAYOUTS: Registry[str] = Registry("weight layout")
WEIGHT_LAYOUTS.register("int8", "dense int8, one byte a weight")
WEIGHT_LAYOUTS.register("kmeans", "k-means codes packed at q bits + an int8 codebook, decoded on the fly")
_SHARED = ("maxpool", "avgpool", "rows_to_batch", "rows_to_channels")


def weight_layout(requested: str, meta: Mapping[str, Any]) -> str:
    """The weight layout of an export: ``requested`` (checked against :data:`WEIGHT_LAYOUTS`), or for ``auto``
    the one a model file's ``meta`` asks for: ``kmeans`` for a k-means variant, else ``int8``."""
    if requested != "auto":
        WEIGHT_LAYOUTS.get(requested)
        return requested
    kmeans = meta.get("kmeans_bits") or "kmeans" in str(meta.get("variant", ""))
    return "kmeans" if kmeans else "int8"


@dataclass(frozen=True)
class QParams:
    """``real = scale * (q - zero_point)`` of an int8 tensor."""

    scale: float
    zero_point: int

    @staticmethod
    def from_range(low: float, high: float) -> QParams:
        low, high = min(float(low), 0.0), max(float(high), 0.0)
        scale = (high - low) / 255.0
        if not math.isfinite(scale):
            raise ConfigError(f"calibration saw a non-finite activation range [{low}, {high}]")
        if scale <= 0.0:
            return QParams(1.0, 0)  # a tensor that is always zero
        return QParams(scale, int(np.clip(round(-128 - low / scale), -128, 127)))


@dataclass
class QOp:
    """One integer operation: the float op it came from plus every integer it needs (see the module doc)."""

    op: Op
    inp: list[QParams]
    out: QParams
    ints: dict[str, np.ndarray | int] = field(default_factory=dict)
    packed: dict[str, PackedWeights] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.op.kind


@dataclass
class QGraph:
    """A quantised graph: integer operations in order, parameters of every tensor, input and output codes."""

    graph: Graph
    ops: list[QOp]
    qparams: dict[str, QParams]
    input_gain: np.ndarray  # float32 per input channel: code = round(x * gain + offset)
    input_offset: np.ndarray
    calibration_windows: int
    weights: str

    @property
    def output(self) -> QParams:
        return self.qparams[self.graph.output]

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Real outputs (target unit for regression) of int8 output codes ``(n, outputs)``."""
        q = self.output
        out = (np.asarray(codes, dtype=np.float64) - q.zero_point) * q.scale
        if self.graph.target_scale is not None:
            out = out * self.graph.target_scale[1] + self.graph.target_scale[0]
        return out


#: Largest |int32 bias|: a quarter of the int32 range stays free for the products (see :func:`_check_accumulator`).
BIAS_LIMIT = 2.0**30


def _weights(
    w: np.ndarray, out_scale: np.ndarray, layout: str, bias: np.ndarray, s_in: float
) -> tuple[np.ndarray, np.ndarray, PackedWeights | None]:
    """(int8 weights in deployed order, per-output-channel real scale, packing) of a conv/dense/LSTM weight.

    The deployed order of a conv weight is (out, kernel, in) (CMSIS-NN's OHWI with H = 1). A channel's weight
    scale is at least ``|bias| / (s_in * 2**30)``, so its int32 bias fits: a channel whose batch-norm factor is
    (nearly) zero is a constant, its weights then round to (nearly) nothing. Packed k-means weights keep one
    scale per tensor and put the factor into the multiplier; a tensor where that cannot hold the bias (a zero
    factor) is stored as dense int8 instead."""
    deployed = w.transpose(0, 2, 1) if w.ndim == 3 else w
    floor = np.abs(bias) / (s_in * BIAS_LIMIT)
    if layout == "kmeans":
        step = float(np.abs(deployed).max()) / 127.0 or 1.0
        scale = step * out_scale
        packed = pack(deployed, step) if np.all(np.abs(scale) >= np.maximum(floor, 1e-30)) else None
        if packed is not None:
            return unpack(packed, deployed.size).reshape(deployed.shape), scale, packed
    eff = deployed * out_scale.reshape((-1,) + (1,) * (deployed.ndim - 1))
    peak = np.abs(eff.reshape(len(eff), -1)).max(axis=1)
    scale = np.maximum(np.where(peak > 0, peak / 127.0, 1.0), floor)
    q = np.clip(np.round(eff / scale.reshape((-1,) + (1,) * (eff.ndim - 1))), -127, 127).astype(np.int8)
    return q, scale, None


def _bias(bias: np.ndarray, unit: np.ndarray) -> np.ndarray:
    return np.clip(np.round(bias / np.where(unit == 0, 1.0, unit)), -BIAS_LIMIT, BIAS_LIMIT).astype(np.int32)


def _check_accumulator(weights: np.ndarray, bias: np.ndarray, input_span: int, source: str) -> None:
    """Refuse a layer whose int32 accumulator could overflow for some input: ``sum|w| * input_span + |bias|``."""
    worst = np.abs(weights.astype(np.int64)).reshape(len(weights), -1).sum(axis=1) * input_span + np.abs(bias)
    if worst.max(initial=0) > INT32_MAX:
        raise ConfigError(
            f"layer {source!r} is too wide for an int32 accumulator ({int(worst.max()):,} > 2**31 - 1 in the worst "
            "case); split it or reduce its fan-in"
        )


def _matmul_op(qop: QOp, layout: str) -> None:
    p, s_in, s_out = qop.op.params, qop.inp[0].scale, qop.out.scale
    q, w_scale, packed = _weights(p["weight"], p["out_scale"], layout, p["bias"], s_in)
    unit = s_in * w_scale
    qop.ints.update(weight=q, bias=_bias(p["bias"], unit))
    _check_accumulator(q, qop.ints["bias"], 255, qop.op.source)
    qop.ints["multiplier"], qop.ints["shift"] = quantize_multipliers(unit / s_out)
    if packed is not None:
        qop.packed["weight"] = packed


def _affine_op(qop: QOp) -> None:
    p, s_in, s_out = qop.op.params, qop.inp[0].scale, qop.out.scale
    qop.ints["multiplier"], qop.ints["shift"] = quantize_multipliers(p["scale"] * s_in / s_out)
    qop.ints["bias"] = np.clip(np.round(p["shift"] / s_out), -(2**30), 2**30).astype(np.int32)  # output units


def _add_op(qop: QOp) -> None:
    a, b = qop.inp
    twice_max = 2.0 * max(a.scale, b.scale)
    qop.ints["left_shift"] = 20
    qop.ints["multiplier_a"], qop.ints["shift_a"] = (int(v[0]) for v in quantize_multipliers([a.scale / twice_max]))
    qop.ints["multiplier_b"], qop.ints["shift_b"] = (int(v[0]) for v in quantize_multipliers([b.scale / twice_max]))
    m, s = quantize_multipliers([twice_max / (2**20 * qop.out.scale)])
    qop.ints["multiplier"], qop.ints["shift"] = int(m[0]), int(s[0])


def _lstm_op(qop: QOp, cell_peak: float, layout: str) -> None:
    p, s_in = qop.op.params, qop.inp[0].scale
    gate_unit = 2.0**-GATE_FRAC_BITS
    ones = np.ones(p["w_ih"].shape[0])
    wx, sx, px = _weights(p["w_ih"], ones, layout, p["bias"], s_in)
    wh, sh, ph = _weights(p["w_hh"], ones, layout, np.zeros_like(ones), 2.0**-HIDDEN_FRAC_BITS)
    qop.ints.update(w_ih=wx, w_hh=wh, bias=_bias(p["bias"], s_in * sx))
    _check_accumulator(wx, qop.ints["bias"], 255, qop.op.source)
    _check_accumulator(wh, np.zeros(len(wh), dtype=np.int64), 128, qop.op.source)
    qop.ints["multiplier_x"], qop.ints["shift_x"] = quantize_multipliers(s_in * sx / gate_unit)
    qop.ints["multiplier_h"], qop.ints["shift_h"] = quantize_multipliers(2.0**-HIDDEN_FRAC_BITS * sh / gate_unit)
    qop.ints["cell_bits"] = int(min(max(0, math.ceil(math.log2(max(cell_peak * 1.25, 1e-9)))), 14))
    qop.packed.update({k: v for k, v in (("w_ih", px), ("w_hh", ph)) if v is not None})


#: How an activation's clipping range is chosen from the calibration windows (``biowear export --ranges``).
RANGE_METHODS: Registry[str] = Registry("activation range method")
RANGE_METHODS.register("minmax", "the observed minimum and maximum (TFLite's default)")
RANGE_METHODS.register("mse", "the observed range shrunk by the factor (1.0 .. 0.3) with the least quantisation error")
#: Values of each tensor kept (a seeded random sample) to choose its range.
RANGE_SAMPLE = 1 << 17


@dataclass
class Calibration:
    """What the calibration windows showed: each tensor's (min, max) and a sample of its values, and the
    largest ``|c|`` of each LSTM cell."""

    ranges: dict[str, tuple[float, float]]
    samples: dict[str, np.ndarray]
    cells: dict[str, float]

    def qparams(self, tensor: str, method: str) -> QParams:
        low, high = self.ranges[tensor]
        if method == "minmax":
            return QParams.from_range(low, high)
        values = self.samples[tensor]
        best, best_err = QParams.from_range(low, high), math.inf
        for factor in np.linspace(1.0, 0.3, 36):
            q = QParams.from_range(low * factor, high * factor)
            back = (np.clip(np.round(values / q.scale) + q.zero_point, -128, 127) - q.zero_point) * q.scale
            err = float(np.mean((back - values) ** 2))
            if err < best_err:
                best, best_err = q, err
        return best


def calibrate(graph: Graph, x: np.ndarray, batch: int = 64, seed: int = 0) -> Calibration:
    """Ranges and value samples of every tensor, and ``max|c|`` of every LSTM cell, over the windows ``x``."""
    ranges: dict[str, tuple[float, float]] = {}
    samples: dict[str, list[np.ndarray]] = {}
    cells: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    per_batch = -(-RANGE_SAMPLE // max(1, -(-len(x) // batch)))

    def record(name: str, v: np.ndarray) -> None:
        if name.endswith(":cell"):
            key = name[: -len(":cell")]
            cells[key] = max(cells.get(key, 0.0), float(np.abs(v).max()))
            return
        lo, hi = ranges.get(name, (math.inf, -math.inf))
        ranges[name] = (min(lo, float(v.min())), max(hi, float(v.max())))
        flat = v.ravel()
        samples.setdefault(name, []).append(flat[rng.integers(0, flat.size, min(per_batch, flat.size))])

    for start in range(0, len(x), batch):
        run_float(graph, x[start : start + batch], record)
    return Calibration(ranges, {k: np.concatenate(v) for k, v in samples.items()}, cells)


def quantize_graph(graph: Graph, calibration: np.ndarray, weights: str = "int8", ranges: str = "mse") -> QGraph:
    """Fix every integer of ``graph`` from calibration windows ``(n, channels, samples)`` (raw, as the model
    takes them).

    Raises:
        ConfigError: no or non-finite calibration windows of the wrong shape, or an unknown weight layout.
    """
    WEIGHT_LAYOUTS.get(weights)
    RANGE_METHODS.get(ranges)
    x = check_windows(calibration, graph.input_shape, "the calibration windows").astype(np.float64)
    if np.ptp(x) == 0:
        raise ConfigError(
            "every calibration window holds one constant value; activation ranges cannot be observed from it "
            "(give real training windows)"
        )
    cal = calibrate(graph, x)
    qparams: dict[str, QParams] = {graph.input: cal.qparams(graph.input, ranges)}
    qops: list[QOp] = []
    for op in graph.ops:
        inp = [qparams[t] for t in op.inputs]
        if op.kind in _SHARED:
            out = inp[0]
        elif op.kind == "lstm":
            out = QParams(2.0**-HIDDEN_FRAC_BITS, 0)
        else:
            out = cal.qparams(op.output, ranges)
        qparams[op.output] = out
        qop = QOp(op, inp, out)
        if op.kind in ("conv", "dense"):
            _matmul_op(qop, weights)
        elif op.kind == "affine":
            _affine_op(qop)
        elif op.kind == "add":
            _add_op(qop)
        elif op.kind == "lstm":
            _lstm_op(qop, cal.cells.get(op.output, 1.0), weights)
        qop.ints["act_min"] = out.zero_point if op.relu else -128
        qops.append(qop)
    gain, offset = _input_transform(graph, qparams[graph.input])
    return QGraph(graph, qops, qparams, gain, offset, len(x), weights)


def _input_transform(graph: Graph, q: QParams) -> tuple[np.ndarray, np.ndarray]:
    """float32 (gain, offset) per channel mapping raw samples to input codes (input standardisation folded)."""
    channels = graph.input_shape[0]
    mean, std = graph.input_scale or ([0.0] * channels, [1.0] * channels)
    mean_a, std_a = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    gain = 1.0 / (std_a * q.scale)
    offset = q.zero_point - mean_a * gain
    return gain.astype(np.float32), offset.astype(np.float32)


def weight_bytes(qgraph: QGraph) -> dict[str, int]:
    """Stored bytes of the weights: int8 or packed (codes + codebook), int32 biases, int32 multipliers/shifts."""
    total = {"weights": 0, "bias": 0, "requant": 0}
    for qop in qgraph.ops:
        for key in ("weight", "w_ih", "w_hh"):
            if key in qop.ints:
                packed = qop.packed.get(key)
                total["weights"] += packed.nbytes if packed is not None else int(np.asarray(qop.ints[key]).size)
        if "bias" in qop.ints:
            total["bias"] += 4 * int(np.asarray(qop.ints["bias"]).size)
        for key, v in qop.ints.items():
            if key.startswith(("multiplier", "shift")):
                total["requant"] += 4 * int(np.asarray(v).size)
    return total


def describe(qgraph: QGraph) -> list[dict[str, Any]]:
    """One JSON-ready line per operation: kind, source layer, shapes and tensor parameters."""
    shapes = qgraph.graph.shapes
    rows = []
    for qop in qgraph.ops:
        rows.append({"kind": qop.kind, "source": qop.op.source, "relu": qop.op.relu,
                     "inputs": [list(shapes[t]) for t in qop.op.inputs], "output": list(shapes[qop.op.output]),
                     "scale": qop.out.scale, "zero_point": qop.out.zero_point,
                     "packed_bits": {k: v.bits for k, v in qop.packed.items()},
                     "packed_layout": {k: v.layout for k, v in qop.packed.items()}})  # fmt: skip
    return rows


__all__ = ["ACT_FRAC_BITS", "QGraph", "QOp", "QParams", "WEIGHT_LAYOUTS", "quantize_graph", "unpack", "weight_bytes"]
