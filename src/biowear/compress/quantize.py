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

from biowear.compress.encode import check_format, encode_float_tensor, encode_tensor
from biowear.compress.prune import prunable_parameters
from biowear.compress.rules import BITS
from biowear.errors import ConfigError
from biowear.validate import check_value


@dataclass(frozen=True)
class LayerCodebook:
    """The shared values of one weight tensor and each non-zero weight's code."""

    name: str
    bits: int
    centroids: np.ndarray  # sorted ascending, length <= 2**bits
    codes: np.ndarray  # uint8 per non-zero weight, in flattened order
    numel: int
    positions: np.ndarray  # flat index of each coded weight (ascending)

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
    check_value("kmeans_quantize", "bits", bits, BITS)
    bits = int(bits)
    books = []
    with torch.no_grad():
        for name, param in prunable_parameters(model).items():
            flat = param.detach().cpu().numpy().reshape(-1)
            nz = np.flatnonzero(flat)
            values = flat[nz].astype(np.float64)
            k = min(2**bits, len(np.unique(values))) if len(values) else 0
            if k == 0:
                books.append(LayerCodebook(name, bits, np.zeros(0), np.zeros(0, dtype=np.uint8), flat.size, nz))
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
            books.append(LayerCodebook(name, bits, sorted_centroids, codes, flat.size, nz))
    return books


@dataclass(frozen=True)
class StorageFormat:
    """How compressed weights are laid out in flash (see :mod:`biowear.compress.encode`).

    Args:
        positions: ``dense``, ``bitmask``, ``relative`` or ``auto`` (smallest per tensor).
        index_bits: gap width of ``relative``.
        huffman: Huffman-code the code and gap streams.
        other_bits: bits of every value that is not a quantised weight (biases, batch-norm parameters and
            statistics): 32 (float32) or 16 (float16).
    """

    positions: str = "auto"
    index_bits: int = 4
    huffman: bool = True
    other_bits: int = 32

    def __post_init__(self) -> None:
        check_format(self.positions, self.index_bits)
        if self.other_bits not in (16, 32):
            raise ConfigError(f"other_bits must be 16 or 32, got {self.other_bits}")

    def for_tensor(self, numel: int, stored: int) -> str:
        """The position format for a tensor with ``stored`` of ``numel`` weights kept (dense when unpruned and
        the format is ``dense``/``auto``; a sparse format is needed once any weight is pruned)."""
        if self.positions == "dense" and stored < numel:
            return "bitmask"
        return self.positions


def _other_bits(model: nn.Module, encoded: set[str], bits: int) -> int:
    """Bits of parameters not in ``encoded`` plus batch-norm running statistics."""
    total = sum(p.numel() for name, p in model.named_parameters() if name not in encoded)
    total += sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return total * bits


def quantized_storage_bytes(model: nn.Module, books: list[LayerCodebook], fmt: StorageFormat | None = None) -> float:
    """Bytes to store a k-means-quantised (and possibly pruned) network: the exact length of every weight
    tensor as :func:`biowear.compress.encode.encode_tensor` writes it (header, positions, codes, float32
    codebook), plus everything else at ``fmt.other_bits``."""
    fmt = fmt or StorageFormat()
    bits = 0
    for b in books:
        enc = encode_tensor(
            b.positions,
            b.codes,
            b.numel,
            2**b.bits,
            fmt.for_tensor(b.numel, b.nonzero),
            fmt.index_bits,
            fmt.huffman,
            b.centroids,
        )
        bits += enc.bits
    return (bits + _other_bits(model, {b.name for b in books}, fmt.other_bits)) / 8


def pruned_storage_bytes(model: nn.Module, fmt: StorageFormat | None = None) -> float:
    """Bytes to store a pruned, unquantised network: float32 non-zero weights in ``fmt``'s position format
    (exact encoded length), everything else at ``fmt.other_bits``."""
    fmt = fmt or StorageFormat()
    params = prunable_parameters(model)
    bits = 0
    for p in params.values():
        values = p.detach().cpu().numpy()
        stored = int(np.count_nonzero(values))
        bits += encode_float_tensor(values, fmt.for_tensor(values.size, stored), fmt.index_bits).bits
    return (bits + _other_bits(model, set(params), fmt.other_bits)) / 8
