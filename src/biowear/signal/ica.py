"""FastICA: independent component analysis by fixed-point iteration (Hyvarinen & Oja 2000).

Symmetric (parallel) FastICA with the log-cosh contrast (g = tanh) on PCA-whitened data; the unmixing rows
are decorrelated after each step with ``W <- (W W^T)^(-1/2) W``. An initial unmixing matrix warm-starts the
iteration (how GestureClass refines, per window, the separation learnt at calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError
from biowear.kernels.profiler import OpCounts, kernel


@dataclass(frozen=True)
class ICAResult:
    """FastICA output: ``sources = unmixing @ (x - mean)``.

    Attributes:
        unmixing: (components, channels) matrix (whitening included).
        mean: per-channel mean removed first.
        rotation: the orthogonal (components, components) matrix found on whitened data.
        whitening: (components, channels) PCA whitening matrix.
        iterations: fixed-point iterations run.
        converged: whether the change fell below ``tol``.
    """

    unmixing: np.ndarray
    mean: np.ndarray
    rotation: np.ndarray
    whitening: np.ndarray
    iterations: int
    converged: bool

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self.unmixing @ (np.asarray(x, dtype=np.float64) - self.mean[:, None])


def _ica_ops(res: ICAResult, x: np.ndarray, n_components: int, *args: object, **kwargs: object) -> OpCounts:
    c, n = np.asarray(x).shape
    k = n_components
    it = res.iterations
    per_iter = OpCounts(macs=2 * k * k * n + k * k * k * 3, transcendental=k * n, muls=k * n, adds=k * n)
    whiten = OpCounts(macs=c * c * n + k * c * n + 10 * c * c * c, adds=c * n)
    return whiten + per_iter.scaled(it)


def _sym_decorrelate(w: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(w @ w.T)
    return (vecs * (1.0 / np.sqrt(np.maximum(vals, 1e-12)))) @ vecs.T @ w


@kernel("fastica", _ica_ops)
def fastica(
    x: np.ndarray,
    n_components: int,
    max_iter: int = 200,
    tol: float = 1e-4,
    rotation_init: np.ndarray | None = None,
    whitening: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
) -> ICAResult:
    """Separate ``x`` (channels, samples) into ``n_components`` independent sources.

    Args:
        x: mixed signals.
        n_components: number of sources (<= channels).
        max_iter: iteration cap.
        tol: stop when ``max |1 - |diag(W_new W_old^T)|| < tol``.
        rotation_init: warm start of the orthogonal rotation (e.g. from a calibration run).
        whitening: ``(mean, whitening matrix)`` to reuse instead of estimating them from ``x``.
        seed: seed of the random initial rotation when no warm start is given.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not 1 <= n_components <= x.shape[0]:
        raise ConfigError(
            f"FastICA needs (channels, samples) input and 1 <= components <= channels; got "
            f"shape {x.shape} and {n_components} components"
        )
    if not np.all(np.isfinite(x)):
        raise ConfigError("FastICA input contains NaN or infinite values")
    if whitening is None:
        mean = x.mean(axis=1)
        xc = x - mean[:, None]
        vals, vecs = np.linalg.eigh(xc @ xc.T / xc.shape[1])
        order = np.argsort(vals)[::-1][:n_components]
        k_mat = (vecs[:, order] / np.sqrt(np.maximum(vals[order], 1e-12))).T
    else:
        mean, k_mat = whitening
        xc = x - mean[:, None]
    z = k_mat @ xc
    rng = np.random.default_rng(seed)
    w = rotation_init if rotation_init is not None else rng.standard_normal((n_components, n_components))
    w = _sym_decorrelate(np.asarray(w, dtype=np.float64))
    converged, iterations = False, 0
    while iterations < max_iter:
        iterations += 1
        wx = w @ z
        g = np.tanh(wx)
        g_prime = 1.0 - g**2
        w_new = _sym_decorrelate(g @ z.T / z.shape[1] - g_prime.mean(axis=1)[:, None] * w)
        change = np.max(np.abs(np.abs(np.einsum("ij,ij->i", w_new, w)) - 1))
        w = w_new
        if change < tol:
            converged = True
            break
    return ICAResult(w @ k_mat, mean, w, k_mat, iterations, converged)
