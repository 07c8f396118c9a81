"""Packed weights of a k-means network: q-bit codes into an int8 codebook, dense or with a sparsity bitmask.

A tensor (in deployed order, one row per output channel or LSTM gate row) whose values are few is stored as
the smaller of two layouts, both decoded one row at a time by the C code (``bw_row`` in ``c/bw_kernels.inc``):

* ``dense``: one ``ceil(log2(values))``-bit code per weight (zeros of pruning are a codebook value);
* ``bitmask``: one bit per weight (1 = non-zero), the codes of the non-zero weights only (the codebook holds
  no zero), and the index of each row's first code (uint32), so a row decodes without the ones before it.

Codes are an LSB-first bit stream with one pad byte (the decoder reads two bytes at a time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Most distinct values a tensor may have to be packed (7-bit codes; 8 bits would save nothing).
MAX_PACKED_VALUES = 128


@dataclass(frozen=True)
class PackedWeights:
    """One packed tensor: ``bits``-bit codes into the int8 ``codebook``; for ``layout == "bitmask"`` also the
    ``mask`` bits and each row's first-code index ``row_start``."""

    layout: str
    bits: int
    codebook: np.ndarray  # int8
    stream: np.ndarray  # uint8 codes
    rows: int
    mask: np.ndarray | None = None  # uint8, one bit a weight
    row_start: np.ndarray | None = None  # uint32 per row

    @property
    def nbytes(self) -> int:
        extra = 0 if self.mask is None else self.mask.size + 4 * self.rows
        return int(self.codebook.size + self.stream.size + extra)


def _bit_stream(codes: np.ndarray, bits: int) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.int64)
    index = np.arange(codes.size)[:, None] * bits + np.arange(bits)[None, :]
    values = (codes[:, None] >> np.arange(bits)[None, :]) & 1
    stream = np.zeros(codes.size * bits // 8 + 2, dtype=np.uint8)
    np.add.at(stream, index.ravel() // 8, (values.ravel() << (index.ravel() % 8)).astype(np.uint8))
    return stream


def _read_codes(stream: np.ndarray, bits: int, count: int) -> np.ndarray:
    pos = np.arange(count) * bits
    pair = stream[pos // 8].astype(np.int64) | (stream[pos // 8 + 1].astype(np.int64) << 8)
    return (pair >> (pos % 8)) & ((1 << bits) - 1)


def _bits(n_values: int) -> int:
    return max(1, math.ceil(math.log2(max(n_values, 1))))


def pack(values: np.ndarray, step: float) -> PackedWeights | None:
    """Pack a ``(rows, ...)`` tensor of few distinct values quantised at ``step`` (int8 codebook = round(value /
    step)); None when it has more than :data:`MAX_PACKED_VALUES` values."""
    arr = np.asarray(values, dtype=np.float64)
    rows = arr.shape[0]
    flat = arr.ravel()
    book, codes = np.unique(flat, return_inverse=True)
    if len(book) > MAX_PACKED_VALUES:
        return None
    to_int8 = lambda v: np.clip(np.round(v / step), -127, 127).astype(np.int8)  # noqa: E731
    bits = _bits(len(book))
    dense = PackedWeights("dense", bits, to_int8(book), _bit_stream(codes, bits), rows)
    nonzero = flat != 0
    if nonzero.all() or not nonzero.any():
        return dense
    nz_book, nz_codes = np.unique(flat[nonzero], return_inverse=True)
    nz_bits = _bits(len(nz_book))
    mask = np.packbits(nonzero.astype(np.uint8), bitorder="little")
    per_row = nonzero.reshape(rows, -1).sum(axis=1)
    row_start = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.uint32)
    sparse = PackedWeights("bitmask", nz_bits, to_int8(nz_book), _bit_stream(nz_codes, nz_bits), rows, mask, row_start)
    return sparse if sparse.nbytes < dense.nbytes else dense


def unpack(packed: PackedWeights, count: int) -> np.ndarray:
    """The int8 weights of a packed tensor, flattened (what the C decoder computes)."""
    if packed.layout == "dense":
        return packed.codebook[_read_codes(packed.stream, packed.bits, count)]
    assert packed.mask is not None
    nonzero = np.unpackbits(packed.mask, bitorder="little")[:count].astype(bool)
    out = np.zeros(count, dtype=np.int8)
    out[nonzero] = packed.codebook[_read_codes(packed.stream, packed.bits, int(nonzero.sum()))]
    return out
