"""Compression: registered producers of compressed variants (pruning = importance x scope x schedule, k-means,
int8 PTQ/QAT, structured), exact encodings, distillation; every variant re-measured."""

from __future__ import annotations

from biowear.compress import variant_file as _variant_file  # noqa: F401  (registers the int8 model kind)
from biowear.compress.config import CompressionConfig, with_axes
from biowear.compress.distill import (
    DISTILLATION_LOSSES,
    DistillationLoss,
    RegressionDistillationLoss,
    distillation_loss,
    logit_kd_loss,
    relation_loss,
    rkd_angle_loss,
    rkd_distance_loss,
)
from biowear.compress.importance import IMPORTANCES, PRUNE_METHODS, SCOPES, PruneMethod, prune_method
from biowear.compress.points import CompressionPoint, best_within_loss
from biowear.compress.producers import PRODUCERS, ProduceContext, Produced, Producer, Variant, check_producer
from biowear.compress.prune import (
    SCHEDULES,
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
    "DISTILLATION_LOSSES",
    "IMPORTANCES",
    "PRODUCERS",
    "PRUNE_METHODS",
    "SCHEDULES",
    "SCOPES",
    "CompressionConfig",
    "CompressionPoint",
    "DistillationLoss",
    "KeepMasks",
    "LayerCodebook",
    "ProduceContext",
    "Produced",
    "Producer",
    "PruneMethod",
    "PruneResult",
    "RegressionDistillationLoss",
    "Stage",
    "StorageFormat",
    "Variant",
    "best_within_loss",
    "check_producer",
    "distillation_loss",
    "iterative",
    "kmeans_quantize",
    "logit_kd_loss",
    "magnitude_masks",
    "multistage",
    "one_shot",
    "prunable_parameters",
    "prune",
    "prune_method",
    "pruned_storage_bytes",
    "quantized_storage_bytes",
    "relation_loss",
    "rkd_angle_loss",
    "rkd_distance_loss",
    "with_axes",
]
