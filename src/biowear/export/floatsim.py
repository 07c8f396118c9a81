"""The lowered graph run in float64 numpy: the oracle of the lowering and the source of calibration ranges.

Tensors are ``(n, b, length, channels)`` (``n`` windows). :func:`run_float` equals the PyTorch network up to
float rounding (tested), so ranges observed here are the ranges the network has.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from biowear.export.graph import Graph, Op


def window_index(out_len: int, kernel: int, stride: int, dilation: int) -> np.ndarray:
    """``(out_len, kernel)`` input positions (in the padded sequence) each output step reads."""
    return np.arange(out_len)[:, None] * stride + np.arange(kernel)[None, :] * dilation


def conv_windows(x: np.ndarray, op: Op, out_len: int, pad_value: float | int) -> np.ndarray:
    """``(n, b, out_len, kernel, channels)`` input windows of a convolution, padded with ``pad_value``."""
    p = op.params
    xp = np.pad(x, ((0, 0), (0, 0), (p["pad_left"], p["pad_right"]), (0, 0)), constant_values=pad_value)
    kernel = p["weight"].shape[2]
    return xp[:, :, window_index(out_len, kernel, p["stride"], p["dilation"]), :]


def pool_slices(in_len: int, out_len: int, kernel: int, stride: int) -> list[tuple[int, int]]:
    """[start, stop) of every pooling window; a window running past the end (ceil mode) is cut short."""
    return [(t * stride, min(t * stride + kernel, in_len)) for t in range(out_len)]


def input_codes_scale(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Raw windows ``(n, channels, samples)`` after the network's input standardisation, deployed layout."""
    x = np.asarray(x, dtype=np.float64)
    if graph.input_scale is not None:
        mean, std = (np.asarray(v, dtype=np.float64).reshape(1, -1, 1) for v in graph.input_scale)
        x = (x - mean) / std
    return x.transpose(0, 2, 1)[:, None]  # (n, 1, samples, channels)


def _lstm(x: np.ndarray, p: dict, record: Callable[[str, np.ndarray], None] | None, name: str) -> np.ndarray:
    n, _, steps, _ = x.shape
    hidden = p["hidden"]
    h = np.zeros((n, hidden))
    c = np.zeros((n, hidden))
    for t in range(steps):
        gates = x[:, 0, t, :] @ p["w_ih"].T + h @ p["w_hh"].T + p["bias"]
        i, f, g, o = np.split(gates, 4, axis=1)
        sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        if record is not None:
            record(f"{name}:cell", c)
    return h[:, None, None, :]


def run_op(op: Op, xs: list[np.ndarray], out_shape: tuple[int, int, int], record=None) -> np.ndarray:
    """One float operation on ``(n, b, length, channels)`` inputs."""
    p, x = op.params, xs[0]
    out_len = out_shape[1]
    if op.kind == "conv":
        w = p["weight"] * p["out_scale"][:, None, None]
        y = np.einsum("nbtkc,ock->nbto", conv_windows(x, op, out_len, 0.0), w, optimize=True) + p["bias"]
    elif op.kind == "dense":
        flat = x.reshape(x.shape[0], 1, 1, -1)
        y = flat @ (p["weight"] * p["out_scale"][:, None]).T + p["bias"]
    elif op.kind == "affine":
        y = x * p["scale"] + p["shift"]
    elif op.kind == "add":
        b = xs[1]
        y = x.copy()
        y[..., : b.shape[3]] += b
    elif op.kind in ("maxpool", "avgpool"):
        reduce = np.max if op.kind == "maxpool" else np.mean
        spans = pool_slices(x.shape[2], out_len, p["kernel"], p["stride"])
        y = np.stack([reduce(x[:, :, a:b, :], axis=2) for a, b in spans], axis=2)
    elif op.kind == "lstm":
        y = _lstm(x, p, record, op.output)
    elif op.kind == "rows_to_batch":
        y = x.transpose(0, 3, 2, 1)  # (n, 1, T, R) -> (n, R, T, 1)
    elif op.kind == "rows_to_channels":
        y = x.transpose(0, 2, 1, 3).reshape(x.shape[0], 1, x.shape[2], -1)  # (n, R, T, C) -> (n, 1, T, R*C)
    else:
        raise ValueError(f"unknown operation kind {op.kind!r}")
    return np.maximum(y, 0.0) if op.relu else y


def run_float(graph: Graph, x: np.ndarray, record: Callable[[str, np.ndarray], None] | None = None) -> np.ndarray:
    """Outputs ``(n, outputs)`` of the lowered graph for raw windows ``x`` (``(n, channels, samples)``), in the
    target's unit for regression; ``record(tensor, values)`` sees every tensor (and each LSTM's cell state)."""
    values = {graph.input: input_codes_scale(graph, x)}
    if record is not None:
        record(graph.input, values[graph.input])
    for op in graph.ops:
        values[op.output] = run_op(op, [values[t] for t in op.inputs], graph.shapes[op.output], record)
        if record is not None:
            record(op.output, values[op.output])
    out = values[graph.output].reshape(len(x), -1)
    if graph.target_scale is not None:
        out = out * graph.target_scale[1] + graph.target_scale[0]
    return out
