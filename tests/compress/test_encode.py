from __future__ import annotations

import numpy as np
import pytest

from biowear.compress.encode import (
    HEADER_BITS,
    canonical_codes,
    decode_stream,
    decode_tensor,
    encode_float_tensor,
    encode_stream,
    encode_tensor,
    huffman_lengths,
    positions_from_gaps,
    relative_gaps,
)
from biowear.compress.quantize import StorageFormat
from biowear.errors import ConfigError


def test_huffman_lengths_match_the_textbook_example():
    # CLRS 16.3: frequencies a..f = 45, 13, 12, 16, 9, 5 -> code lengths 1, 3, 3, 3, 4, 4
    lengths = huffman_lengths(np.array([45, 13, 12, 16, 9, 5]))
    assert lengths.tolist() == [1, 3, 3, 3, 4, 4]
    assert huffman_lengths(np.array([0, 7, 0])).tolist() == [0, 1, 0]  # one symbol still needs a bit


def test_canonical_codes_are_prefix_free():
    lengths = huffman_lengths(np.array([40, 1, 1, 2, 3, 5, 8, 13, 0, 21]))
    codes = canonical_codes(lengths)
    words = [format(int(codes[s]), f"0{int(lengths[s])}b") for s in np.flatnonzero(lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    assert sum(2.0 ** -len(w) for w in words) == pytest.approx(1.0)  # a complete code (Kraft equality)


@pytest.mark.parametrize("huffman", [False, True])
def test_streams_round_trip(huffman):
    symbols = np.random.default_rng(0).geometric(0.3, size=500) - 1
    symbols = np.minimum(symbols, 15)
    stream = encode_stream(symbols, 16, huffman)
    assert np.array_equal(decode_stream(stream), symbols)
    if huffman:  # skewed symbols: shorter than 4 bits each, even with the 16 x 5-bit table
        assert stream.bits < 4 * symbols.size
    else:
        assert stream.payload_bits == 4 * symbols.size and stream.table_bits == 0


def test_relative_gaps_use_escapes_for_long_runs():
    # 2-bit gaps: escape value 3 skips three zeros without a weight
    positions = np.array([0, 2, 9, 10])
    gaps = relative_gaps(positions, 2)
    assert gaps.tolist() == [0, 1, 3, 3, 0, 0]  # 9 - 2 - 1 = 6 zeros -> two escapes, then 0
    assert np.array_equal(positions_from_gaps(gaps, 2), positions)


@pytest.mark.parametrize("fmt", ["bitmask", "relative", "auto"])
@pytest.mark.parametrize("huffman", [False, True])
def test_tensors_round_trip_exactly(fmt, huffman):
    rng = np.random.default_rng(1)
    numel = 3000
    positions = np.flatnonzero(rng.random(numel) < 0.08)
    codes = rng.choice(8, size=positions.size, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03])
    codebook = np.sort(rng.normal(size=8)).astype(np.float32)
    enc = encode_tensor(positions, codes, numel, 8, fmt, 3, huffman, codebook)
    expected = np.zeros(numel, dtype=np.float32)
    expected[positions] = codebook[codes]
    assert np.array_equal(decode_tensor(enc), expected)


def test_bitmask_storage_arithmetic():
    positions = np.array([1, 5, 6])
    enc = encode_tensor(positions, np.array([0, 1, 3]), 40, 4, "bitmask", huffman=False, codebook=np.arange(4.0))
    assert enc.position_bits == 40
    assert enc.symbols.bits == 3 * 2
    assert enc.bits == HEADER_BITS + 40 + 6 + 4 * 32


def test_auto_picks_the_smallest_format():
    rng = np.random.default_rng(2)
    positions = np.flatnonzero(rng.random(5000) < 0.05)
    codes = rng.integers(0, 4, positions.size)
    auto = encode_tensor(positions, codes, 5000, 4, "auto", codebook=np.arange(4.0))
    fixed = [
        encode_tensor(positions, codes, 5000, 4, f, b, h, np.arange(4.0))
        for f in ("bitmask", "relative")
        for b in (2, 4, 6, 8)
        for h in (False, True)
    ]
    assert auto.bits == min(e.bits for e in fixed) + auto.tag_bits
    assert auto.fmt == "relative"  # at 95% sparsity gaps beat a bitmask


def test_float_tensor_round_trip():
    values = np.random.default_rng(3).normal(size=(4, 50)).astype(np.float32)
    values[:, ::2] = 0.0
    enc = encode_float_tensor(values, "relative", 2)
    assert np.array_equal(decode_tensor(enc), values.reshape(-1))


def test_bad_formats_are_rejected():
    with pytest.raises(ConfigError, match="valid options are: dense, bitmask, relative, auto"):
        encode_tensor(np.array([0]), np.array([0]), 4, 2, "csc")
    with pytest.raises(ConfigError, match="are pruned"):
        encode_tensor(np.array([0, 2]), np.array([0, 1]), 4, 2, "dense")
    with pytest.raises(ConfigError, match="index bits"):
        StorageFormat("relative", index_bits=0)
    with pytest.raises(ConfigError, match="16 or 32"):
        StorageFormat(other_bits=8)
