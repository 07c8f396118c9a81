"""Heart-rate variability, Lorenz-plot and ECG-derived-respiration features (SeizureDetSVM).

Time-domain HRV follows the Task Force of the ESC/NASPE (1996); the Lorenz (Poincare) plot descriptors
SD1/SD2 and the cardiac sympathetic index CSI = SD2/SD1 and modified CSI = SD2^2/SD1 follow Jeppesen et al.
(2014); the ECG-derived respiration is the R-peak amplitude series (de Chazal et al. 2003); linear prediction
coefficients come from the Levinson-Durbin recursion.
"""

from __future__ import annotations

import numpy as np

from biowear.errors import ConfigError
from biowear.kernels.profiler import OpCounts, kernel


def _hrv_ops(y: np.ndarray, rr_s: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n = int(np.asarray(rr_s).size)
    return OpCounts(adds=6 * n, macs=4 * n, cmps=n, transcendental=6)


@kernel("hrv_lorenz", _hrv_ops)
def hrv_features(rr_s: np.ndarray) -> np.ndarray:
    """HRV and Lorenz-plot features of an RR series in seconds.

    Returns:
        ``[mean_rr, sdnn, rmssd, pnn50, sd1, sd2, csi, modified_csi]`` (seconds, or ratios).
    """
    rr = np.asarray(rr_s, dtype=np.float64)
    if rr.size < 3:
        raise ConfigError(f"HRV features need at least 3 RR intervals, got {rr.size}")
    d = np.diff(rr)
    sdnn = rr.std(ddof=1)
    rmssd = np.sqrt(np.mean(d**2))
    pnn50 = np.mean(np.abs(d) > 0.05)
    sd1 = np.sqrt(0.5) * d.std(ddof=1)
    sd2 = np.sqrt(max(2 * sdnn**2 - sd1**2, 0.0))
    csi = sd2 / max(sd1, 1e-9)
    return np.array([rr.mean(), sdnn, rmssd, pnn50, sd1, sd2, csi, sd2**2 / max(sd1, 1e-9)])


def _lpc_ops(y: np.ndarray, x: np.ndarray, order: int, **kw: object) -> OpCounts:
    n = int(np.asarray(x).size)
    return OpCounts(macs=n * (order + 1) + order * order, transcendental=order)


@kernel("lpc", _lpc_ops)
def lpc(x: np.ndarray, order: int) -> np.ndarray:
    """Linear-prediction coefficients ``a[1..order]`` of ``x`` (autocorrelation method, Levinson-Durbin),
    such that ``x[n] ~ -sum_k a[k] x[n-k]``."""
    x = np.asarray(x, dtype=np.float64)
    if x.size <= order:
        raise ConfigError(f"LPC of order {order} needs more than {order} samples, got {x.size}")
    x = x - x.mean()
    r = np.array([np.dot(x[: x.size - k], x[k:]) for k in range(order + 1)])
    a = np.zeros(order + 1)
    a[0] = 1.0
    err = r[0] if r[0] > 0 else 1e-12
    for i in range(1, order + 1):
        k = -(r[i] + np.dot(a[1:i], r[i - 1 : 0 : -1])) / err
        a[1:i] = a[1:i] + k * a[i - 1 : 0 : -1]
        a[i] = k
        err *= 1 - k * k
        err = max(err, 1e-12)
    return a[1:]


def _edr_ops(y: np.ndarray, x: np.ndarray, r_peaks: np.ndarray, **kw: object) -> OpCounts:
    return OpCounts(moves=int(np.asarray(r_peaks).size), adds=int(np.asarray(r_peaks).size))


@kernel("edr", _edr_ops)
def edr_series(x: np.ndarray, r_peaks: np.ndarray) -> np.ndarray:
    """ECG-derived respiration: R-wave amplitude at each R peak, relative to its mean."""
    amp = np.asarray(x, dtype=np.float64)[np.asarray(r_peaks, dtype=np.int64)]
    return amp - amp.mean() if amp.size else amp
