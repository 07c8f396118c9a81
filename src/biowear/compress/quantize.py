"""k-means weight sharing (Han et al. 2016; BioNetExplorer Sec. III): 2**q shared values per layer.

Each prunable weight tensor's non-zero values are clustered into ``2**q`` centroids with k-means
(scikit-learn); codes are assigned in increasing order of centroid value (code 0 = smallest), the same q for
every layer. Pruned zeros stay exactly zero and need no code when stored sparsely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import nn

from biowear.compress.prune import prunable_parameters
from biowear.errors import ConfigError


@dataclass(frozen=True)
class LayerCodebook:
    """The shared values of one weight tensor and each non-zero weight's code."""

    name: str
    bits: int
    centroids: np.ndarray  # sorted ascending, length <= 2**bits
    codes: np.ndarray  # uint8 per non-zero weight, in flattened order
    numel: int

    @property
    def nonzero(self) -> int:
        return int(self.codes.size)


def kmeans_quantize(model: nn.Module, bits: int, seed: int = 0) -> list[LayerCodebook]:
    """Replace every prunable weight by its cluster centroid, in place.

    Args:
        model: the network (modified in place).
        bits: q, 1..8: 2**q clusters per layer.
        seed: k-means initialisation seed.

    Returns:
        One codebook per weight tensor.
    """
    if not isinstance(bits, int) or not 1 <= bits <= 8:
        raise ConfigError(f"k-means quantisation bits must be an integer within 1..8, got {bits}")
    books = []
    with torch.no_grad():
        for name, param in prunable_parameters(model).items():
            flat = param.detach().cpu().numpy().reshape(-1)
            nz = np.flatnonzero(flat)
            values = flat[nz].astype(np.float64)
            k = min(2**bits, len(np.unique(values))) if len(values) else 0
            if k == 0:
                books.append(LayerCodebook(name, bits, np.zeros(0), np.zeros(0, dtype=np.uint8), flat.size))
                continue
            km = KMeans(n_clusters=k, n_init=1, random_state=seed, init="k-means++").fit(values[:, None])
            centroids = km.cluster_centers_[:, 0]
            order = np.argsort(centroids)
            rank = np.empty_like(order)
            rank[order] = np.arange(k)
            codes = rank[km.labels_].astype(np.uint8)
            sorted_centroids = centroids[order]
            new = np.zeros_like(flat)
            new[nz] = sorted_centroids[codes]
            param.copy_(torch.from_numpy(new.reshape(param.shape)).to(param.dtype))
            books.append(LayerCodebook(name, bits, sorted_centroids, codes, flat.size))
    return books


def quantized_storage_bytes(model: nn.Module, books: list[LayerCodebook], sparse: bool, other_bits: int = 32) -> float:
    """Bytes to store a k-means-quantised (and possibly pruned) network.

    Quantised tensors: ``q`` bits per stored code plus a 32-bit codebook of ``2**q`` values; when ``sparse``,
    only non-zero weights have codes and a one-bit-per-weight mask is added (bitmask format), otherwise every
    weight has a code. Everything else (biases, batch-norm parameters and running statistics) is stored at
    ``other_bits``.
    """
    quantised = {b.name for b in books}
    bits = 0.0
    for b in books:
        n_codes = b.nonzero if sparse else b.numel
        bits += n_codes * b.bits + 32 * 2**b.bits + (b.numel if sparse else 0)
    for name, p in model.named_parameters():
        if name not in quantised:
            bits += p.numel() * other_bits
    for name, buf in model.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            bits += buf.numel() * other_bits
    return bits / 8
