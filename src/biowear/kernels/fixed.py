"""Emulated fixed-point arithmetic (Qm.n) with saturation and 64-bit intermediates.

A :class:`QFormat` stores values as signed integers of ``word_bits`` bits with ``frac_bits`` fractional
bits (held in ``int64`` NumPy arrays). Products are formed in 64 bits and shifted back with rounding,
accumulations happen in 64 bits and saturate once when stored back to the word size, like the
``(int64_t)a * b >> n`` idiom of the BiomedBench C code. Kernels with a fixed-point path take an optional
``q: QFormat`` argument; ``None`` means floating point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError


@dataclass(frozen=True)
class QFormat:
    """A signed Qm.n format: ``word_bits`` = 1 sign bit + m integer bits + n (``frac_bits``) fraction bits."""

    word_bits: int
    frac_bits: int

    def __post_init__(self) -> None:
        if self.word_bits not in (8, 16, 32):
            raise ConfigError(f"fixed-point word size must be 8, 16 or 32 bits, got {self.word_bits}")
        if not 0 <= self.frac_bits < self.word_bits:
            raise ConfigError(f"fractional bits must be in [0, {self.word_bits - 1}], got {self.frac_bits}")

    @property
    def name(self) -> str:
        return f"Q{self.word_bits - 1 - self.frac_bits}.{self.frac_bits}"

    @property
    def scale(self) -> float:
        return float(1 << self.frac_bits)

    @property
    def max_int(self) -> int:
        return (1 << (self.word_bits - 1)) - 1

    @property
    def min_int(self) -> int:
        return -(1 << (self.word_bits - 1))

    @property
    def resolution(self) -> float:
        """Value of one least significant bit."""
        return 1.0 / self.scale

    def saturate(self, v: np.ndarray) -> np.ndarray:
        """Clip 64-bit integers to the word range."""
        return np.clip(v, self.min_int, self.max_int).astype(np.int64)

    def quantize(self, x: np.ndarray | float) -> np.ndarray:
        """Round real values to the nearest integer code (ties to even) and saturate to the word range."""
        arr = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ConfigError("cannot quantize NaN or infinite values to fixed point")
        return self.saturate(np.rint(arr * self.scale))

    def to_float(self, v: np.ndarray) -> np.ndarray:
        """Real values of integer codes."""
        return np.asarray(v, dtype=np.float64) / self.scale

    def roundtrip(self, x: np.ndarray) -> np.ndarray:
        """``to_float(quantize(x))``: the value a fixed-point store would keep."""
        return self.to_float(self.quantize(x))

    def shift_round(self, v: np.ndarray, shift: int) -> np.ndarray:
        """Arithmetic right shift by ``shift`` bits with round-half-up (a left shift when negative)."""
        v = np.asarray(v, dtype=np.int64)
        if shift <= 0:
            return v << (-shift)
        return (v + (1 << (shift - 1))) >> shift

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise product of two codes of this format (64-bit product, rounded shift, saturation)."""
        return self.saturate(self.shift_round(np.asarray(a, np.int64) * np.asarray(b, np.int64), self.frac_bits))

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Saturating element-wise sum."""
        return self.saturate(np.asarray(a, np.int64) + np.asarray(b, np.int64))

    def matmul(self, a: np.ndarray, b: np.ndarray, b_frac_bits: int | None = None) -> np.ndarray:
        """Matrix product with a 64-bit accumulator, one rounded shift and one saturation per output.

        Args:
            a: codes in this format.
            b: codes with ``b_frac_bits`` fractional bits (default: this format's).
        """
        frac = self.frac_bits if b_frac_bits is None else b_frac_bits
        acc = np.asarray(a, np.int64) @ np.asarray(b, np.int64)
        return self.saturate(self.shift_round(acc, frac))


def sos_filter_fixed(q: QFormat, sos: np.ndarray, x: np.ndarray, coeff_frac_bits: int | None = None) -> np.ndarray:
    """Direct-form-I cascade of biquads in fixed point, along axis 0.

    Coefficients are quantized with ``coeff_frac_bits`` fraction bits (default ``word_bits - 3``, room for
    |a1| < 4); each section accumulates its five products in 64 bits, shifts once and saturates.

    Args:
        q: format of the signal codes.
        sos: second-order sections, shape (n_sections, 6), ``a0 == 1``.
        x: signal codes (int64), shape (n,) or (n, channels).

    Returns:
        Output codes in format ``q``.
    """
    cbits = q.word_bits - 3 if coeff_frac_bits is None else coeff_frac_bits
    coeffs = np.rint(np.asarray(sos, dtype=np.float64) * (1 << cbits)).astype(np.int64)
    y = np.asarray(x, dtype=np.int64)
    for b0, b1, b2, _, a1, a2 in coeffs:
        out = np.empty_like(y)
        x1 = x2 = y1 = y2 = np.zeros(y.shape[1:], dtype=np.int64)
        for n in range(y.shape[0]):
            xn = y[n]
            acc = b0 * xn + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            yn = q.saturate(q.shift_round(acc, cbits))
            out[n] = yn
            x2, x1, y2, y1 = x1, xn, y1, yn
        y = out
    return y


def fft_fixed(q: QFormat, re: np.ndarray, im: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Radix-2 decimation-in-time FFT on fixed-point codes with a halving at every stage (block scaling).

    Twiddles are quantized to the same word size. Each butterfly scales its outputs by 1/2 so nothing
    overflows; the result equals ``FFT(x) / 2**stages``.

    Args:
        q: format of the input codes.
        re, im: real and imaginary codes along the last axis, length a power of two.

    Returns:
        ``(re, im, stages)``: output codes (format ``q``) and the number of halvings applied.
    """
    re = np.asarray(re, dtype=np.int64)
    n = re.shape[-1]
    if n & (n - 1) or n < 2:
        raise ConfigError(f"fixed-point FFT length must be a power of two >= 2, got {n}")
    im = np.zeros_like(re) if im is None else np.asarray(im, dtype=np.int64)
    stages = n.bit_length() - 1
    order = _bit_reverse(n)
    re, im = re[..., order].copy(), im[..., order].copy()
    tbits = q.word_bits - 2
    size = 2
    while size <= n:
        half = size // 2
        k = np.arange(half)
        wr = np.rint(np.cos(2 * np.pi * k / size) * (1 << tbits)).astype(np.int64)
        wi = np.rint(-np.sin(2 * np.pi * k / size) * (1 << tbits)).astype(np.int64)
        shape = re.shape[:-1] + (n // size, size)
        r, i = re.reshape(shape), im.reshape(shape)
        ar, ai = r[..., :half], i[..., :half]
        br, bi = r[..., half:], i[..., half:]
        tr = q.shift_round(br * wr - bi * wi, tbits)
        ti = q.shift_round(br * wi + bi * wr, tbits)
        new_r = np.concatenate([q.shift_round(ar + tr, 1), q.shift_round(ar - tr, 1)], axis=-1)
        new_i = np.concatenate([q.shift_round(ai + ti, 1), q.shift_round(ai - ti, 1)], axis=-1)
        re, im = q.saturate(new_r.reshape(re.shape)), q.saturate(new_i.reshape(im.shape))
        size *= 2
    return re, im, stages


def _bit_reverse(n: int) -> np.ndarray:
    bits = n.bit_length() - 1
    idx = np.arange(n)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev
