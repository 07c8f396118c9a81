"""Layer-wise, backpropagation-free training of one convolutional block (Bio-BPfree; Baghersalimi et al. 2023).

The block is convolution -> batch normalisation (frozen statistics and affine) -> ReLU -> max pooling. Its
own loss pulls the outputs of same-class samples together and pushes different-class outputs apart:

    L = mean_{same pairs} d_ij + mean_{different pairs} max(0, margin - d_ij),  d_ij = |h_i - h_j|^2 / D

with ``h`` the flattened block output and ``D`` its size. The gradient with respect to the convolution's
weights and bias is written out with the chain rule through pooling, ReLU and batch normalisation
(CONV-GRAD), so no autograd graph and no downstream layers are needed; tests check it against
PyTorch autograd.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from biowear.bench.classifiers.eeg_fcn import conv1d_same
from biowear.errors import ConfigError
from biowear.kernels.profiler import OpCounts, kernel


@dataclass(frozen=True)
class ConvBlock:
    """Parameters of the block: conv ``weight`` (filters, channels, k) and ``bias``; BN folded to a per-filter
    ``bn_scale`` and ``bn_shift``; max-pooling factor ``pool``."""

    weight: np.ndarray
    bias: np.ndarray
    bn_scale: np.ndarray
    bn_shift: np.ndarray
    pool: int = 2

    @classmethod
    def init(cls, channels: int = 32, filters: int = 64, kernel: int = 3, pool: int = 2, seed: int = 0) -> ConvBlock:
        """He-initialised block (the reduced Bio-BPfree size: 32 channels in, 64 filters)."""
        rng = np.random.default_rng(seed)
        w = rng.normal(0, np.sqrt(2.0 / (channels * kernel)), size=(filters, channels, kernel))
        scale = rng.uniform(0.8, 1.2, filters)
        return cls(w, np.zeros(filters), scale, rng.normal(0, 0.05, filters), pool)

    @property
    def n_params(self) -> int:
        return int(self.weight.size + self.bias.size)


@dataclass(frozen=True)
class _Cache:
    x: np.ndarray
    pre_relu: np.ndarray
    argmax: np.ndarray


def _block_forward(block: ConvBlock, x: np.ndarray) -> tuple[np.ndarray, _Cache]:
    z = conv1d_same(x, block.weight, block.bias)
    a = z * block.bn_scale[:, None] + block.bn_shift[:, None]
    r = np.maximum(a, 0.0)
    f, n = r.shape
    m = n // block.pool
    windows = r[:, : m * block.pool].reshape(f, m, block.pool)
    idx = windows.argmax(axis=-1)
    return np.take_along_axis(windows, idx[..., None], axis=-1)[..., 0], _Cache(x, a, idx)


def pair_loss(h: np.ndarray, labels: np.ndarray, margin: float = 1.0) -> tuple[float, np.ndarray]:
    """Layer-wise loss and its gradient with respect to the flattened outputs ``h`` (samples, D)."""
    h = np.asarray(h, dtype=np.float64)
    labels = np.asarray(labels)
    b, dim = h.shape
    i, j = np.triu_indices(b, k=1)
    same = labels[i] == labels[j]
    if not same.any() or same.all():
        raise ConfigError("the layer-wise loss needs at least one same-class and one different-class pair")
    diff = h[i] - h[j]
    d = np.sum(diff**2, axis=1) / dim
    loss = d[same].mean() + np.maximum(0.0, margin - d[~same]).mean()
    coef = np.where(same, 1.0 / same.sum(), -(margin - d > 0).astype(float) / (~same).sum())  # dL/dd per pair
    g_pair = (2.0 / dim) * coef[:, None] * diff
    grad = np.zeros_like(h)
    np.add.at(grad, i, g_pair)
    np.add.at(grad, j, -g_pair)
    return float(loss), grad


def _grad_ops(y: tuple, block: ConvBlock, x: np.ndarray, *args: object, **kw: object) -> OpCounts:
    b, c, n = np.asarray(x).shape
    f, _, k = block.weight.shape
    m = n // block.pool
    d = f * m
    pairs = b * (b - 1) // 2
    return OpCounts(
        macs=pairs * 2 * d + b * f * c * k * n,
        adds=pairs * d + b * (f * n + f * m),
        cmps=b * (f * n + f * n),
        muls=b * f * n,
        moves=b * f * m,
    )


@kernel("conv_grad", _grad_ops)
def block_gradients(block: ConvBlock, x: np.ndarray, labels: np.ndarray, margin: float = 1.0):
    """Loss and gradients of the layer-wise loss for a batch ``x`` (samples, channels, n).

    Returns:
        ``(loss, grad_weight, grad_bias)``.
    """
    outs, caches = zip(*(_block_forward(block, xi) for xi in np.asarray(x, dtype=np.float64)))
    h = np.stack([o.reshape(-1) for o in outs])
    loss, g_h = pair_loss(h, labels, margin)
    gw = np.zeros_like(block.weight)
    gb = np.zeros_like(block.bias)
    f, c, k = block.weight.shape
    pad = k // 2
    for g, cache in zip(g_h, caches):
        g_pool = g.reshape(outs[0].shape)
        g_r = np.zeros_like(cache.pre_relu)
        m = g_pool.shape[1]
        rows = np.repeat(np.arange(f), m)
        cols = (np.arange(m)[None, :] * block.pool + cache.argmax).reshape(-1)
        g_r[rows, cols] = g_pool.reshape(-1)  # max pooling routes the gradient to the winner
        g_z = g_r * (cache.pre_relu > 0) * block.bn_scale[:, None]  # ReLU mask, then BN scale
        gb += g_z.sum(axis=1)
        xp = np.pad(cache.x, ((0, 0), (pad, k - 1 - pad)))
        n = cache.x.shape[1]
        for j in range(k):
            gw[:, :, j] += g_z @ xp[:, j : j + n].T
    return loss, gw, gb


def _fwd_ops(y: np.ndarray, block: ConvBlock, x: np.ndarray, **kw: object) -> OpCounts:
    b, c, n = np.asarray(x).shape
    f = block.weight.shape[0]
    return OpCounts(muls=b * f * n, adds=b * f * n, cmps=2 * b * f * n)


@kernel("bn_relu_pool", _fwd_ops)
def block_outputs(block: ConvBlock, x: np.ndarray) -> np.ndarray:
    """Flattened block outputs for a batch (samples, filters * n / pool)."""
    return np.stack([_block_forward(block, xi)[0].reshape(-1) for xi in np.asarray(x, dtype=np.float64)])


def train_epoch(
    block: ConvBlock, x: np.ndarray, labels: np.ndarray, lr: float = 0.05, batch_size: int = 4, margin: float = 1.0
) -> tuple[ConvBlock, float]:
    """One epoch of layer-wise SGD over ``x`` in mini-batches; returns the updated block and mean loss."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[1] != block.weight.shape[1]:
        raise ConfigError(f"Bio-BPfree input must be (samples, {block.weight.shape[1]}, length); got {x.shape}")
    losses = []
    for start in range(0, x.shape[0], batch_size):
        loss, gw, gb = block_gradients(block, x[start : start + batch_size], labels[start : start + batch_size], margin)
        block = replace(block, weight=block.weight - lr * gw, bias=block.bias - lr * gb)
        losses.append(loss)
    return block, float(np.mean(losses))
