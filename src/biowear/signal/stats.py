"""Time-domain statistics used as features: moments, Hjorth parameters, zero crossings, entropies."""

from __future__ import annotations

import numpy as np

from biowear.kernels.profiler import OpCounts, kernel


def _moment_ops(y: object, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=2 * n, macs=3 * n, muls=n, transcendental=4)


@kernel("moments", _moment_ops)
def moments(x: np.ndarray) -> np.ndarray:
    """Mean, standard deviation, skewness and (non-excess) kurtosis along the last axis.

    Returns:
        Array (..., 4); population moments as ``scipy.stats`` computes with ``bias=True``.
    """
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=-1)
    d = x - mean[..., None]
    m2 = np.mean(d**2, axis=-1)
    m3 = np.mean(d**3, axis=-1)
    m4 = np.mean(d**4, axis=-1)
    safe = np.where(m2 > 0, m2, 1.0)
    skew = np.where(m2 > 0, m3 / safe**1.5, 0.0)
    kurt = np.where(m2 > 0, m4 / safe**2, 0.0)
    return np.stack([mean, np.sqrt(m2), skew, kurt], axis=-1)


def _hjorth_ops(y: object, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=4 * n, macs=3 * n, transcendental=4)


@kernel("hjorth", _hjorth_ops)
def hjorth(x: np.ndarray) -> np.ndarray:
    """Hjorth activity, mobility and complexity along the last axis (Hjorth 1970).

    activity = var(x); mobility = sqrt(var(x') / var(x)); complexity = mobility(x') / mobility(x), with x'
    the first difference.
    """
    x = np.asarray(x, dtype=np.float64)
    d1 = np.diff(x, axis=-1)
    d2 = np.diff(d1, axis=-1)
    v0, v1, v2 = x.var(axis=-1), d1.var(axis=-1), d2.var(axis=-1)
    mob = np.sqrt(v1 / np.maximum(v0, 1e-30))
    mob1 = np.sqrt(v2 / np.maximum(v1, 1e-30))
    return np.stack([v0, mob, mob1 / np.maximum(mob, 1e-30)], axis=-1)


def _zcr_ops(y: object, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(adds=2 * n, cmps=2 * n, macs=n, transcendental=1)


@kernel("zcr_rms", _zcr_ops)
def zcr_rms(x: np.ndarray) -> np.ndarray:
    """Zero-crossing rate (of the mean-removed signal, crossings per sample) and RMS along the last axis."""
    x = np.asarray(x, dtype=np.float64)
    d = x - x.mean(axis=-1, keepdims=True)
    crossings = np.count_nonzero(np.diff(np.signbit(d), axis=-1), axis=-1) / max(x.shape[-1] - 1, 1)
    return np.stack([crossings, np.sqrt(np.mean(x**2, axis=-1))], axis=-1)


def _entropy_ops(y: object, p: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(p).size)
    return OpCounts(adds=n, macs=n, transcendental=n + 1)


@kernel("entropy", _entropy_ops)
def spectral_entropy(power: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy of a power spectrum along the last axis (0 = one line, 1 = flat)."""
    p = np.asarray(power, dtype=np.float64)
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-30)
    h = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    return h / np.log(p.shape[-1])
