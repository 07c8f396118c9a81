"""Spectral kernels: FFT power spectra, Welch PSD, band powers, Lomb-Scargle periodogram, MFCC.

Floating-point values come from NumPy/SciPy; the operation counts model a radix-2 FFT
(``(n/2) log2 n`` butterflies of one complex multiply and two complex adds). With a fixed-point format
the FFT runs in emulated fixed point (:func:`biowear.kernels.fixed.fft_fixed`).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat, fft_fixed
from biowear.kernels.profiler import OpCounts, kernel


def _fft_counts(n: int, transforms: int) -> OpCounts:
    stages = max(1, int(np.ceil(np.log2(max(n, 2)))))
    butterflies = transforms * (n // 2) * stages
    return OpCounts(macs=4 * butterflies, adds=4 * butterflies, moves=2 * transforms * n)


def _ps_ops(y: np.ndarray, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    x = np.asarray(x)
    n = x.shape[-1]
    transforms = int(x.size // n)
    return _fft_counts(n, transforms) + OpCounts(macs=2 * int(y.size))


@kernel("fft_power", _ps_ops)
def power_spectrum(x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """One-sided power ``|FFT(x)|^2`` along the last axis (length a power of two), bins 0..n/2.

    With ``q``, ``x`` holds fixed-point codes; the FFT runs with per-stage halving and the power is
    returned as real values rescaled for those halvings, so float and fixed outputs compare directly.
    """
    x = np.asarray(x)
    n = x.shape[-1]
    if q is None:
        spec = np.fft.rfft(np.asarray(x, dtype=np.float64), axis=-1)
        return spec.real**2 + spec.imag**2
    re, im, stages = fft_fixed(q, x)
    half = n // 2 + 1
    re_f, im_f = q.to_float(re[..., :half]), q.to_float(im[..., :half])
    return (re_f**2 + im_f**2) * float(4**stages)


def band_powers(power: np.ndarray, freqs_hz: np.ndarray, bands_hz: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Sum of ``power`` over each [low, high) band along the last axis: shape (..., len(bands))."""
    freqs_hz = np.asarray(freqs_hz)
    out = []
    for lo, hi in bands_hz:
        sel = (freqs_hz >= lo) & (freqs_hz < hi)
        out.append(np.asarray(power)[..., sel].sum(axis=-1))
    return np.stack(out, axis=-1)


def welch_psd(
    x: np.ndarray, fs_hz: float, segment: int = 256, q: QFormat | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density (Hann window, 50% overlap, density scaling) along the last axis.

    Matches ``scipy.signal.welch(x, fs, nperseg=segment, detrend=False)`` in floating point.

    Returns:
        ``(freqs_hz, psd)``.
    """
    x = np.asarray(x, dtype=np.float64) if q is None else np.asarray(x)
    n = x.shape[-1]
    if segment & (segment - 1) or segment > n:
        raise ConfigError(f"Welch segment must be a power of two no longer than the signal ({n}), got {segment}")
    step = segment // 2
    starts = range(0, n - segment + 1, step)
    win = np.hanning(segment + 1)[:-1]  # periodic Hann, as scipy's get_window("hann")
    if q is None:
        segs = np.stack([x[..., s : s + segment] * win for s in starts], axis=-2)
    else:
        wq = q.quantize(win)
        segs = np.stack([q.mul(x[..., s : s + segment], wq) for s in starts], axis=-2)
    power = power_spectrum(segs, q=q)  # real values in both modes
    scale = 1.0 / (fs_hz * np.sum(win**2))
    psd = power.mean(axis=-2) * scale
    psd[..., 1:-1] *= 2
    return np.fft.rfftfreq(segment, 1 / fs_hz), psd


def _lomb_ops(y: np.ndarray, t: np.ndarray, x: np.ndarray, freqs_hz: np.ndarray, **kw: object) -> OpCounts:
    n, f = int(np.asarray(t).size), int(np.asarray(freqs_hz).size)
    return OpCounts(macs=6 * n * f, muls=2 * n * f, adds=n * f, transcendental=2 * n * f + 4 * f)


@kernel("lomb_scargle", _lomb_ops)
def lomb_scargle(t: np.ndarray, x: np.ndarray, freqs_hz: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Lomb-Scargle periodogram of unevenly sampled ``x(t)`` (Lomb 1976; Scargle 1982).

    Uses the time offset tau that makes sine and cosine terms orthogonal; the mean of ``x`` is removed.
    Equals ``scipy.signal.lombscargle(t, x - mean, 2*pi*f)`` (unnormalised) in floating point. With ``q``
    the sums of products run in emulated fixed point (64-bit accumulators) on quantized samples and
    quantized sine/cosine tables; ``x`` then holds codes.

    Args:
        t: sample times in seconds (increasing).
        x: values at those times.
        freqs_hz: analysis frequencies (> 0).
    """
    t = np.asarray(t, dtype=np.float64)
    xf = q.to_float(x) if q is not None else np.asarray(x, dtype=np.float64)
    if t.size != xf.size or t.size < 3:
        raise ConfigError(f"Lomb-Scargle needs matching t and x with >= 3 samples, got {t.size} and {xf.size}")
    w = 2 * np.pi * np.asarray(freqs_hz, dtype=np.float64)
    if np.any(w <= 0):
        raise ConfigError("Lomb-Scargle frequencies must be positive")
    xc = xf - xf.mean()
    tau = np.arctan2(np.sin(2 * np.outer(w, t)).sum(axis=1), np.cos(2 * np.outer(w, t)).sum(axis=1)) / (2 * w)
    arg = w[:, None] * (t[None, :] - tau[:, None])
    c, s = np.cos(arg), np.sin(arg)
    if q is None:
        xc_c, xc_s = c @ xc, s @ xc
        cc, ss = np.sum(c * c, axis=1), np.sum(s * s, axis=1)
    else:
        xq, cq, sq = q.quantize(xc), q.quantize(c), q.quantize(s)
        xc_c = q.to_float(q.matmul(cq, xq))
        xc_s = q.to_float(q.matmul(sq, xq))
        cc = q.to_float(np.sum(q.mul(cq, cq), axis=1))
        ss = q.to_float(np.sum(q.mul(sq, sq), axis=1))
    return 0.5 * (xc_c**2 / np.maximum(cc, 1e-12) + xc_s**2 / np.maximum(ss, 1e-12))


def mel_filterbank(n_filters: int, n_fft: int, fs_hz: float, fmin_hz: float = 0.0, fmax_hz: float | None = None):
    """Triangular filters equally spaced on the mel scale (mel = 2595 log10(1 + f/700)), unit peak.

    Returns:
        Array (n_filters, n_fft // 2 + 1).
    """
    fmax_hz = fs_hz / 2 if fmax_hz is None else fmax_hz
    if not 0 <= fmin_hz < fmax_hz <= fs_hz / 2:
        raise ConfigError(f"mel band must satisfy 0 <= fmin < fmax <= fs/2, got {fmin_hz}-{fmax_hz} Hz")
    mel = lambda f: 2595.0 * np.log10(1 + f / 700.0)  # noqa: E731
    inv = lambda m: 700.0 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    edges = inv(np.linspace(mel(fmin_hz), mel(fmax_hz), n_filters + 2))
    freqs = np.fft.rfftfreq(n_fft, 1 / fs_hz)
    bank = np.zeros((n_filters, freqs.size))
    for m in range(n_filters):
        lo, centre, hi = edges[m : m + 3]
        rise = (freqs - lo) / max(centre - lo, 1e-12)
        fall = (hi - freqs) / max(hi - centre, 1e-12)
        bank[m] = np.clip(np.minimum(rise, fall), 0, None)
    return bank


def _mfcc_ops(
    y: np.ndarray,
    x: np.ndarray,
    fs_hz: float,
    n_fft: int = 512,
    hop: int = 256,
    n_mels: int = 26,
    n_coeffs: int = 13,
    **kw: object,
) -> OpCounts:
    frames = int(np.asarray(y).shape[0])
    bins = n_fft // 2 + 1
    return _fft_counts(n_fft, frames) + OpCounts(
        muls=frames * n_fft,
        macs=frames * (2 * bins + n_mels * bins + n_mels * n_coeffs),
        transcendental=frames * n_mels,
    )


@kernel("mfcc", _mfcc_ops)
def mfcc(x: np.ndarray, fs_hz: float, n_fft: int = 512, hop: int = 256, n_mels: int = 26, n_coeffs: int = 13):
    """Mel-frequency cepstral coefficients of a mono signal.

    Hamming-windowed frames of ``n_fft`` samples every ``hop`` samples, power spectrum, triangular mel
    filterbank, natural log (floored at 1e-10), orthonormal DCT-II; the first ``n_coeffs`` coefficients.

    Returns:
        Array (frames, n_coeffs).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size < n_fft:
        raise ConfigError(f"MFCC needs at least n_fft={n_fft} samples, got {x.size}")
    starts = np.arange(0, x.size - n_fft + 1, hop)
    frames = np.stack([x[s : s + n_fft] for s in starts]) * np.hamming(n_fft)
    spec = np.fft.rfft(frames, axis=-1)
    power = spec.real**2 + spec.imag**2
    energies = power @ mel_filterbank(n_mels, n_fft, fs_hz).T
    return scipy.fft.dct(np.log(np.maximum(energies, 1e-10)), type=2, norm="ortho", axis=-1)[:, :n_coeffs]


def _stats_ops(y: np.ndarray, power: np.ndarray, freqs_hz: np.ndarray, **kw: object) -> OpCounts:
    n = int(np.asarray(power).size)
    return OpCounts(macs=3 * n, adds=n, cmps=n, transcendental=3)


@kernel("spectral_stats", _stats_ops)
def spectral_stats(power: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """Spectral centroid, spread (standard deviation around it) and dominant frequency, in Hz."""
    p = np.asarray(power, dtype=np.float64)
    f = np.asarray(freqs_hz, dtype=np.float64)
    total = max(float(p.sum()), 1e-30)
    centroid = float(p @ f) / total
    spread = np.sqrt(max(float(p @ (f - centroid) ** 2) / total, 0.0))
    return np.array([centroid, spread, f[int(np.argmax(p))]])
