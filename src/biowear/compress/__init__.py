"""Compression: pruning schedules, k-means weight sharing, distillation; each step re-measured."""

from __future__ import annotations

from biowear.compress.distill import DistillationLoss, logit_kd_loss, rkd_angle_loss, rkd_distance_loss
from biowear.compress.prune import (
    KeepMasks,
    PruneResult,
    Stage,
    iterative,
    magnitude_masks,
    multistage,
    one_shot,
    prunable_parameters,
    prune,
)
from biowear.compress.quantize import (
    LayerCodebook,
    StorageFormat,
    kmeans_quantize,
    pruned_storage_bytes,
    quantized_storage_bytes,
)

__all__ = [
    "DistillationLoss",
    "KeepMasks",
    "LayerCodebook",
    "PruneResult",
    "Stage",
    "StorageFormat",
    "iterative",
    "kmeans_quantize",
    "logit_kd_loss",
    "magnitude_masks",
    "multistage",
    "one_shot",
    "prunable_parameters",
    "prune",
    "pruned_storage_bytes",
    "quantized_storage_bytes",
    "rkd_angle_loss",
    "rkd_distance_loss",
]
