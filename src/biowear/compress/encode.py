"""Bit-exact storage of pruned, weight-shared tensors: position formats and canonical Huffman coding.

A compressed weight tensor is stored as a header, the positions of its non-zero weights, one symbol per
non-zero weight (its k-means code, or its raw value) and, when quantised, the codebook. Storage figures in
biowear are the length of what :func:`encode_tensor` really writes, and :func:`decode_tensor` reads it back,
so the numbers cannot drift from a format that works.

Position formats (Han et al. 2016, "Deep compression", Sec. 2-4):

* ``dense``: no positions; every weight has a symbol (only for tensors without pruned zeros).
* ``bitmask``: one bit per weight.
* ``relative``: the gap to the previous non-zero weight in ``index_bits`` bits; a gap that does not fit is
  bridged with escape symbols (the all-ones value: advance that far, no weight follows), so no filler
  weights are stored.
* ``auto``: per tensor, the smallest of the above over ``index_bits`` 2..8, each with and without Huffman
  coding of its streams; a 4-bit format tag per tensor is counted.

Huffman coding (canonical, one table per stream) may be applied to the symbol stream and to the gap stream;
its table costs 5 bits per alphabet entry (the code lengths).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError
from biowear.registry import Registry

#: Storage layouts of a weight tensor's positions (``biowear compress --storage-format``), with their help text.
STORAGE_LAYOUTS: Registry[str] = Registry("storage format")
STORAGE_LAYOUTS.register("dense", "no positions, every weight stored (tensors without pruned zeros)")
STORAGE_LAYOUTS.register("bitmask", "one bit per weight")
STORAGE_LAYOUTS.register("relative", "gap to the previous stored weight in index_bits bits, with escapes")
STORAGE_LAYOUTS.register("auto", "the smallest of the above per tensor, with and without Huffman coding")
POSITION_FORMATS: tuple[str, ...] = tuple(STORAGE_LAYOUTS.names())
#: Bits of the per-tensor header: non-zero count (32), format tag (4), index bits (4), symbol bits (4).
HEADER_BITS = 44
_LENGTH_FIELD_BITS = 5  # a Huffman table stores each symbol's code length in 5 bits (lengths <= 31)


# ---------------------------------------------------------------------------------------------- Huffman
def huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """Code length of every symbol of a Huffman code for ``counts`` (0 for absent symbols).

    A stream with a single distinct symbol gets a 1-bit code. Lengths are not limited; the table field of
    5 bits is checked by :func:`canonical_codes`.
    """
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.zeros(counts.size, dtype=np.int64)
    present = np.flatnonzero(counts)
    if present.size == 1:
        lengths[present] = 1
        return lengths
    heap = [(int(counts[s]), int(s), (int(s),)) for s in present]
    heapq.heapify(heap)
    while len(heap) > 1:
        c1, t1, s1 = heapq.heappop(heap)
        c2, t2, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (c1 + c2, min(t1, t2), s1 + s2))
    return lengths


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical code values for code ``lengths`` (symbols ordered by length, then value)."""
    if lengths.max(initial=0) >= 2**_LENGTH_FIELD_BITS:
        raise ConfigError(f"Huffman code length {int(lengths.max())} does not fit the {_LENGTH_FIELD_BITS}-bit table")
    codes = np.zeros(lengths.size, dtype=np.int64)
    code, prev = 0, 0
    for sym in sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[sym]) - prev
        codes[sym], prev = code, int(lengths[sym])
        code += 1
    return codes


def _pack(values: np.ndarray, widths: np.ndarray) -> tuple[bytes, int]:
    """Write ``values[i]`` in ``widths[i]`` bits, most significant bit first; returns (bytes, bit count)."""
    values, widths = np.asarray(values, dtype=np.int64), np.asarray(widths, dtype=np.int64)
    total = int(widths.sum())
    if total == 0:
        return b"", 0
    max_w = int(widths.max())
    shifts = np.arange(max_w - 1, -1, -1)
    bits = (values[:, None] >> shifts[None, :]) & 1  # each row right-aligned in max_w columns
    keep = shifts[None, :] < widths[:, None]
    return np.packbits(bits[keep].astype(np.uint8)).tobytes(), total


def _bits(data: bytes, n_bits: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:n_bits]


@dataclass(frozen=True)
class Stream:
    """One encoded stream of non-negative integer symbols below ``alphabet``."""

    data: bytes
    payload_bits: int
    count: int
    alphabet: int
    width: int  # fixed width when not Huffman coded
    lengths: np.ndarray | None  # Huffman code lengths, or None

    @property
    def table_bits(self) -> int:
        return 0 if self.lengths is None else self.alphabet * _LENGTH_FIELD_BITS

    @property
    def bits(self) -> int:
        return self.payload_bits + self.table_bits


def encode_stream(symbols: np.ndarray, alphabet: int, huffman: bool) -> Stream:
    """Fixed-width (``ceil(log2(alphabet))`` bits) or Huffman-coded stream of ``symbols``."""
    symbols = np.asarray(symbols, dtype=np.int64)
    width = max(1, int(np.ceil(np.log2(max(alphabet, 2)))))
    if symbols.size and (symbols.min() < 0 or symbols.max() >= alphabet):
        raise ConfigError(f"stream symbols must lie in 0..{alphabet - 1}")
    if not huffman:
        data, n = _pack(symbols, np.full(symbols.size, width))
        return Stream(data, n, int(symbols.size), alphabet, width, None)
    lengths = huffman_lengths(np.bincount(symbols, minlength=alphabet))
    codes = canonical_codes(lengths)
    data, n = _pack(codes[symbols], lengths[symbols])
    return Stream(data, n, int(symbols.size), alphabet, width, lengths)


def decode_stream(stream: Stream) -> np.ndarray:
    """The symbols of an encoded stream."""
    bits = _bits(stream.data, stream.payload_bits)
    if stream.lengths is None:
        if stream.count == 0:
            return np.zeros(0, dtype=np.int64)
        weights = 1 << np.arange(stream.width - 1, -1, -1)
        return bits.reshape(stream.count, stream.width).astype(np.int64) @ weights
    codes = canonical_codes(stream.lengths)
    lookup = {(int(stream.lengths[s]), int(codes[s])): s for s in np.flatnonzero(stream.lengths)}
    out = np.empty(stream.count, dtype=np.int64)
    pos = 0
    for i in range(stream.count):
        code, length = 0, 0
        while (length, code) not in lookup:
            code, length = (code << 1) | int(bits[pos]), length + 1
            pos += 1
        out[i] = lookup[(length, code)]
    return out


# ---------------------------------------------------------------------------------------------- positions
def relative_gaps(positions: np.ndarray, index_bits: int) -> np.ndarray:
    """Gaps between successive non-zero positions (first from -1), with escapes for gaps too long.

    With ``b = index_bits`` and ``E = 2**b - 1``, a run of ``g`` zeros before a weight is written as ``g // E``
    escapes (value ``E``: skip ``E`` zeros, no weight follows) and then ``g % E``.
    """
    escape = 2**index_bits - 1
    zeros = np.diff(np.concatenate(([-1], np.asarray(positions, dtype=np.int64)))) - 1
    n_escapes = zeros // escape
    out = np.full(zeros.size + int(n_escapes.sum()), escape, dtype=np.int64)
    out[np.cumsum(n_escapes + 1) - 1] = zeros % escape
    return out


def positions_from_gaps(gaps: np.ndarray, index_bits: int) -> np.ndarray:
    """Inverse of :func:`relative_gaps`."""
    escape = 2**index_bits - 1
    positions, cursor = [], -1
    for g in np.asarray(gaps, dtype=np.int64):
        if g == escape:
            cursor += escape
        else:
            cursor += int(g) + 1
            positions.append(cursor)
    return np.asarray(positions, dtype=np.int64)


# ---------------------------------------------------------------------------------------------- tensors
@dataclass(frozen=True)
class EncodedTensor:
    """One stored weight tensor: positions, one symbol per non-zero weight, optional codebook."""

    numel: int
    fmt: str
    index_bits: int
    positions: Stream | bytes  # Stream for relative, packed bitmask bytes for bitmask, b"" for dense
    symbols: Stream
    codebook: np.ndarray | None  # float32 shared values; None: symbols are raw 32-bit words
    tag_bits: int = 0

    @property
    def position_bits(self) -> int:
        if self.fmt == "dense":
            return 0
        if self.fmt == "bitmask":
            return self.numel
        assert isinstance(self.positions, Stream)
        return self.positions.bits

    @property
    def codebook_bits(self) -> int:
        return 0 if self.codebook is None else 32 * self.codebook.size

    @property
    def bits(self) -> int:
        return HEADER_BITS + self.tag_bits + self.position_bits + self.symbols.bits + self.codebook_bits


def check_format(fmt: str, index_bits: int) -> None:
    """Raise :class:`ConfigError` for an unknown position format or index bits outside 1..16."""
    STORAGE_LAYOUTS.get(fmt)
    if not 1 <= index_bits <= 16:
        raise ConfigError(f"relative index bits must be within 1..16, got {index_bits}")


def encode_tensor(
    positions: np.ndarray,
    symbols: np.ndarray,
    numel: int,
    alphabet: int,
    fmt: str = "bitmask",
    index_bits: int = 4,
    huffman: bool = False,
    codebook: np.ndarray | None = None,
) -> EncodedTensor:
    """Encode a tensor's non-zero weights.

    Args:
        positions: flat indices of the stored weights, strictly increasing.
        symbols: one per position: codes below ``alphabet`` (with ``codebook``) or raw 32-bit words.
        numel: elements of the tensor.
        alphabet: number of distinct symbols (``2**q`` codes, or ``2**32`` for raw words).
        fmt: one of :data:`POSITION_FORMATS`.
        index_bits: gap width of ``relative``.
        huffman: entropy-code the symbol and gap streams.
        codebook: shared values (stored as float32) when symbols are codes.

    Raises:
        ConfigError: unknown format, index bits outside 1..16, or ``dense`` for a tensor with zeros.
    """
    check_format(fmt, index_bits)
    positions = np.asarray(positions, dtype=np.int64)
    if fmt == "auto":
        candidates = [
            encode_tensor(positions, symbols, numel, alphabet, f, b, h, codebook)
            for f, bs in (("dense", (index_bits,)), ("bitmask", (index_bits,)), ("relative", range(2, 9)))
            if f != "dense" or positions.size == numel
            for b in bs
            for h in ((False, True) if alphabet <= 2**16 else (False,))
        ]
        best = min(candidates, key=lambda e: e.bits)
        return EncodedTensor(best.numel, best.fmt, best.index_bits, best.positions, best.symbols, best.codebook, 4)
    if fmt == "dense" and positions.size != numel:
        raise ConfigError(
            f"the dense format stores every weight but {numel - positions.size} of {numel} are pruned; "
            "use bitmask, relative or auto"
        )
    sym = encode_stream(symbols, alphabet, huffman and alphabet <= 2**16)
    if fmt == "dense":
        pos: Stream | bytes = b""
    elif fmt == "bitmask":
        mask = np.zeros(numel, dtype=np.uint8)
        mask[positions] = 1
        pos = np.packbits(mask).tobytes()
    else:
        pos = encode_stream(relative_gaps(positions, index_bits), 2**index_bits, huffman)
    cb = None if codebook is None else np.asarray(codebook, dtype=np.float32)
    return EncodedTensor(numel, fmt, index_bits, pos, sym, cb)


def decode_tensor(enc: EncodedTensor) -> np.ndarray:
    """The flat float tensor an :class:`EncodedTensor` stores (codes mapped through the codebook)."""
    symbols = decode_stream(enc.symbols)
    if enc.fmt == "dense":
        positions = np.arange(enc.numel)
    elif enc.fmt == "bitmask":
        assert isinstance(enc.positions, bytes)
        positions = np.flatnonzero(_bits(enc.positions, enc.numel))
    else:
        assert isinstance(enc.positions, Stream)
        positions = positions_from_gaps(decode_stream(enc.positions), enc.index_bits)
    out = np.zeros(enc.numel, dtype=np.float32)
    if enc.codebook is not None:
        out[positions] = enc.codebook[symbols]
    else:
        out[positions] = symbols.astype(np.uint32).view(np.float32)
    return out


def encode_float_tensor(values: np.ndarray, fmt: str = "bitmask", index_bits: int = 4) -> EncodedTensor:
    """A pruned but unquantised tensor: raw float32 words at its non-zero positions."""
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    positions = np.flatnonzero(flat)
    words = flat[positions].view(np.uint32).astype(np.int64)
    return encode_tensor(positions, words, flat.size, 2**32, fmt, index_bits)
