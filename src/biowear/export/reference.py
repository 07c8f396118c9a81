"""The numpy reference of the exact integer arithmetic of the generated C: same operations, same rounding.

Every intermediate is an int64 numpy array. The C code uses int32 accumulators; the quantiser refuses any
layer whose accumulator could leave the int32 range for some input (``_check_accumulator`` in
:mod:`biowear.export.quantize`), so the two agree. Windows are run side by side, ``(n, b, length,
channels)``.
"""

from __future__ import annotations

import numpy as np

from biowear.errors import ConfigError
from biowear.export.floatsim import conv_windows, pool_slices
from biowear.export.intmath import (
    ACT_FRAC_BITS,
    GATE_FRAC_BITS,
    HIDDEN_FRAC_BITS,
    INT8_MAX,
    INT16_MAX,
    INT16_MIN,
    LUTS,
    lut_lookup,
    quantize_input,
    requantize,
    round_div,
    rshift_round,
)
from biowear.export.quantize import QGraph, QOp
from biowear.train.inputs import check_windows


def _out(qop: QOp, acc: np.ndarray) -> np.ndarray:
    """Requantised per-channel accumulators + output zero point, clamped to the activation range."""
    y = requantize(acc, qop.ints["multiplier"], qop.ints["shift"]) + qop.out.zero_point
    return np.clip(y, qop.ints["act_min"], INT8_MAX)


def _conv(qop: QOp, x: np.ndarray, out_len: int) -> np.ndarray:
    zx = qop.inp[0].zero_point
    win = conv_windows(x - zx, qop.op, out_len, 0)  # padded taps read the real value 0
    acc = np.einsum("nbtkc,okc->nbto", win, qop.ints["weight"].astype(np.int64)) + qop.ints["bias"]
    return _out(qop, acc)


def _dense(qop: QOp, x: np.ndarray) -> np.ndarray:
    flat = (x - qop.inp[0].zero_point).reshape(len(x), 1, 1, -1)
    acc = flat @ qop.ints["weight"].astype(np.int64).T + qop.ints["bias"]
    return _out(qop, acc)


def _affine(qop: QOp, x: np.ndarray) -> np.ndarray:
    y = requantize(x - qop.inp[0].zero_point, qop.ints["multiplier"], qop.ints["shift"])
    y = y + qop.ints["bias"] + qop.out.zero_point
    return np.clip(y, qop.ints["act_min"], INT8_MAX)


def _add(qop: QOp, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    i = qop.ints
    sa = requantize((a - qop.inp[0].zero_point) << i["left_shift"], i["multiplier_a"], i["shift_a"])
    sb = requantize((b - qop.inp[1].zero_point) << i["left_shift"], i["multiplier_b"], i["shift_b"])
    total = sa.copy()
    total[..., : b.shape[3]] += sb  # channels the narrower input lacks are zeros (the padded shortcut)
    y = requantize(total, i["multiplier"], i["shift"]) + qop.out.zero_point
    return np.clip(y, i["act_min"], INT8_MAX)


def _pool(qop: QOp, x: np.ndarray, out_len: int) -> np.ndarray:
    p = qop.op.params
    spans = pool_slices(x.shape[2], out_len, p["kernel"], p["stride"])
    if qop.kind == "maxpool":
        return np.stack([x[:, :, a:b, :].max(axis=2) for a, b in spans], axis=2)
    z = qop.inp[0].zero_point
    return np.stack([round_div((x[:, :, a:b, :] - z).sum(axis=2), b - a) + z for a, b in spans], axis=2)


def lstm_step(qop: QOp, x_t: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step: int8 input ``x_t`` (n, in), int8 ``h`` and int16 ``c`` (n, H) -> new (h, c)."""
    i = qop.ints
    acc_x = (x_t - qop.inp[0].zero_point) @ i["w_ih"].astype(np.int64).T + i["bias"]
    acc_h = h @ i["w_hh"].astype(np.int64).T
    gates = requantize(acc_x, i["multiplier_x"], i["shift_x"]) + requantize(acc_h, i["multiplier_h"], i["shift_h"])
    gates = np.clip(gates, INT16_MIN, INT16_MAX)
    hidden = h.shape[1]
    g_i, g_f, g_g, g_o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    sig, tanh = LUTS["sigmoid"], LUTS["tanh"]
    i_t, f_t, o_t, g_t = lut_lookup(sig, g_i), lut_lookup(sig, g_f), lut_lookup(sig, g_o), lut_lookup(tanh, g_g)
    cell_bits = int(i["cell_bits"])
    c_frac = ACT_FRAC_BITS - cell_bits
    c_new = rshift_round(f_t * c, ACT_FRAC_BITS) + rshift_round(i_t * g_t, 2 * ACT_FRAC_BITS - c_frac)
    c_new = np.clip(c_new, INT16_MIN, INT16_MAX)
    shift = c_frac - GATE_FRAC_BITS  # cell -> Q3.12 for tanh
    c_gate = rshift_round(c_new, shift) if shift >= 0 else np.clip(c_new << -shift, INT16_MIN, INT16_MAX)
    h_new = rshift_round(o_t * lut_lookup(tanh, c_gate), 2 * ACT_FRAC_BITS - HIDDEN_FRAC_BITS)
    return np.clip(h_new, -128, INT8_MAX), c_new


def _lstm(qop: QOp, x: np.ndarray) -> np.ndarray:
    n, hidden = len(x), qop.op.params["hidden"]
    h = np.zeros((n, hidden), dtype=np.int64)
    c = np.zeros((n, hidden), dtype=np.int64)
    for t in range(x.shape[2]):
        h, c = lstm_step(qop, x[:, 0, t, :], h, c)
    return h[:, None, None, :]


def run_op(qop: QOp, xs: list[np.ndarray], out_shape: tuple[int, int, int]) -> np.ndarray:
    """One integer operation on int64 ``(n, b, length, channels)`` inputs."""
    x, kind = xs[0], qop.kind
    if kind == "conv":
        return _conv(qop, x, out_shape[1])
    if kind == "dense":
        return _dense(qop, x)
    if kind == "affine":
        return _affine(qop, x)
    if kind == "add":
        return _add(qop, x, xs[1])
    if kind in ("maxpool", "avgpool"):
        return _pool(qop, x, out_shape[1])
    if kind == "lstm":
        return _lstm(qop, x)
    if kind == "rows_to_batch":
        return x.transpose(0, 3, 2, 1)
    if kind == "rows_to_channels":
        return x.transpose(0, 2, 1, 3).reshape(x.shape[0], 1, x.shape[2], -1)
    raise ConfigError(f"unknown operation kind {kind!r}")


def input_codes(qgraph: QGraph, x: np.ndarray) -> np.ndarray:
    """int8 input codes ``(n, channels, samples)`` of raw windows, as ``model_quantize_input`` computes them."""
    return quantize_input(check_windows(x, qgraph.graph.input_shape), qgraph.input_gain, qgraph.input_offset)


def run_int(qgraph: QGraph, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """int8 output codes ``(n, outputs)`` of raw windows ``x`` (``(n, channels, samples)``)."""
    codes = input_codes(qgraph, x)
    outs = []
    for start in range(0, len(codes), batch):
        part = codes[start : start + batch].astype(np.int64).transpose(0, 2, 1)[:, None]
        values = {qgraph.graph.input: part}
        for qop in qgraph.ops:
            values[qop.op.output] = run_op(qop, [values[t] for t in qop.op.inputs], qgraph.graph.shapes[qop.op.output])
        outs.append(values[qgraph.graph.output].reshape(len(part), -1))
    return np.concatenate(outs).astype(np.int8) if outs else np.zeros((0, 0), dtype=np.int8)


def classes(codes: np.ndarray) -> np.ndarray:
    """Class index of each output row: the first maximum, as ``model_class`` in C."""
    return np.argmax(np.asarray(codes), axis=1)
