"""Magnitude pruning: layer-wise (Han et al. 2015), class-blind global (Marchisio et al.), one-shot,
iterative and multistage schedules, each followed by fine-tuning with the one :func:`fit` loop.

Importance (|w|) is kept apart from the schedule: a schedule decides *which* parameters reach *what*
sparsity and when; :func:`magnitude_masks` decides which weights go. Masks are enforced during fine-tuning
by :class:`KeepMasks`, which re-zeroes pruned weights after every optimiser step.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.train import NullCallback, TrainConfig, fit

PRUNE_SCOPES: tuple[str, ...] = ("layer", "global", "lamp")
#: Parameter names that are weights (never biases or batch-norm affine terms).
_WEIGHT_SUFFIXES = ("weight", "weight_ih_l0", "weight_hh_l0")

Masks = dict[str, torch.Tensor]


def prunable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """Weights of convolution, dense and LSTM layers, by qualified name (biases and norms excluded)."""
    out = {}
    for mod_name, module in model.named_modules():
        if isinstance(module, (nn.Conv1d, nn.Linear, nn.LSTM)):
            for p_name, param in module.named_parameters(recurse=False):
                if p_name in _WEIGHT_SUFFIXES:
                    out[f"{mod_name}.{p_name}" if mod_name else p_name] = param
    if not out:
        raise ConfigError(f"{type(model).__name__} has no prunable (Conv1d, Linear, LSTM) weights")
    return out


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity < 1.0:
        raise ConfigError(f"sparsity must be within [0, 1), got {sparsity}")


def lamp_scores(weight: torch.Tensor) -> torch.Tensor:
    """Layer-adaptive magnitude scores (Lee et al. 2021, LAMP): ``w_u^2 / sum of w_v^2 over the weights at least
    as large``, so the largest weight of every layer scores 1 and scores compare across layers."""
    sq = weight.detach().flatten().double() ** 2
    order = torch.argsort(sq, stable=True)
    ordered = sq[order]
    tail = torch.flip(torch.cumsum(torch.flip(ordered, [0]), 0), [0])
    scores = torch.empty_like(sq)
    scores[order] = ordered / tail.clamp_min(torch.finfo(torch.float64).tiny)
    return scores.view_as(weight)


def magnitude_masks(params: dict[str, torch.Tensor], sparsity: float, scope: str) -> Masks:
    """Keep-masks (1 = keep) removing the ``sparsity`` fraction of lowest-scoring weights.

    Args:
        params: the weights to consider.
        sparsity: fraction to remove, in [0, 1).
        scope: ``layer`` (the fraction of smallest |w| in every tensor, Han et al.), ``global`` (smallest |w|
            over all tensors together: class-blind, Marchisio et al., so layers lose different fractions) or
            ``lamp`` (global over LAMP scores, which rescale each layer so none is emptied).
    """
    _check_sparsity(sparsity)
    if scope not in PRUNE_SCOPES:
        raise ConfigError(f"unknown pruning scope {scope!r}; valid options are: {', '.join(PRUNE_SCOPES)}")
    if scope == "layer":
        return {name: _threshold_mask(p.detach().abs(), sparsity) for name, p in params.items()}
    scores = {n: (lamp_scores(p) if scope == "lamp" else p.detach().abs()) for n, p in params.items()}
    flat = torch.cat([v.flatten() for v in scores.values()])
    k = int(round(sparsity * flat.numel()))
    if k == 0:
        return {name: torch.ones_like(p) for name, p in params.items()}
    threshold = torch.kthvalue(flat, k).values
    masks = {name: (v > threshold).to(params[name].dtype) for name, v in scores.items()}
    return _fix_ties(masks, scores, k)


def _threshold_mask(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    k = int(round(sparsity * scores.numel()))
    mask = torch.ones_like(scores)
    if k:
        idx = torch.argsort(scores.flatten(), stable=True)[:k]
        mask.view(-1)[idx] = 0.0
    return mask


def _fix_ties(masks: Masks, scores: dict[str, torch.Tensor], k: int) -> Masks:
    """Equal scores at the threshold can remove more than ``k``; keep the excess (largest index first)."""
    removed = sum(int((m == 0).sum()) for m in masks.values())
    if removed <= k:
        return masks
    flat_masks = torch.cat([m.flatten() for m in masks.values()])
    flat_scores = torch.cat([v.flatten() for v in scores.values()])
    order = torch.argsort(flat_scores, stable=True)
    flat_masks = torch.ones_like(flat_masks)
    flat_masks[order[:k]] = 0.0
    out, pos = {}, 0
    for name, m in masks.items():
        out[name] = flat_masks[pos : pos + m.numel()].view_as(m)
        pos += m.numel()
    return out


def apply_masks(model: nn.Module, masks: Masks) -> None:
    """Zero the pruned weights in place."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            params[name].mul_(mask.to(params[name].device))


class KeepMasks(NullCallback):
    """Training callback re-applying masks after each optimiser step, so pruned weights stay zero."""

    def __init__(self, model: nn.Module, masks: Masks):
        self.model, self.masks = model, masks

    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
        apply_masks(self.model, self.masks)


@dataclass(frozen=True)
class Stage:
    """One step of a pruning schedule.

    Args:
        sparsity: target sparsity of the selected weights after this stage.
        layers: glob patterns of parameter names this stage prunes (default: all prunable weights).
        scope: ``layer`` or ``global`` within the selected weights.
        epochs: fine-tuning epochs after the stage (0 = none).
    """

    sparsity: float
    layers: tuple[str, ...] = ("*",)
    scope: str = "layer"
    epochs: int = 2

    def __post_init__(self) -> None:
        _check_sparsity(self.sparsity)
        if self.scope not in PRUNE_SCOPES:
            raise ConfigError(f"unknown pruning scope {self.scope!r}; valid options are: {', '.join(PRUNE_SCOPES)}")
        if self.epochs < 0:
            raise ConfigError("stage epochs must be >= 0")


def one_shot(sparsity: float, scope: str = "layer", epochs: int = 4) -> list[Stage]:
    """Prune once to ``sparsity`` then fine-tune."""
    return [Stage(sparsity, scope=scope, epochs=epochs)]


def iterative(sparsity: float, steps: int, scope: str = "layer", epochs_per_step: int = 1) -> list[Stage]:
    """Gradual pruning: sparsity grows linearly over ``steps`` stages, with fine-tuning after each."""
    if steps < 1:
        raise ConfigError("iterative pruning needs steps >= 1")
    return [Stage(sparsity * (i + 1) / steps, scope=scope, epochs=epochs_per_step) for i in range(steps)]


def multistage(
    sparsity: float, groups: Sequence[Sequence[str]], epochs_per_stage: int = 2, scope: str = "layer"
) -> list[Stage]:
    """Multistage pruning: each stage prunes one more group of layers to ``sparsity`` and fine-tunes, so the
    network adapts to each group's loss before the next is pruned (later stages keep earlier groups' masks)."""
    if not groups:
        raise ConfigError("multistage pruning needs at least one layer group")
    return [Stage(sparsity, layers=tuple(g), scope=scope, epochs=epochs_per_stage) for g in groups]


#: Pruning schedules by name (``biowear compress --schedule``).
SCHEDULES: tuple[str, ...] = ("one-shot", "iterative", "multistage")


def depth_groups(model: nn.Module, n_groups: int) -> list[tuple[str, ...]]:
    """Prunable weights split into ``n_groups`` contiguous groups in reverse definition order (deepest first),
    the default layer groups of a multistage schedule."""
    names = list(prunable_parameters(model))[::-1]
    n_groups = max(1, min(n_groups, len(names)))
    return [tuple(chunk.tolist()) for chunk in np.array_split(np.array(names, dtype=object), n_groups)]


def schedule(
    name: str, sparsity: float, scope: str, epochs: int, steps: int, model: nn.Module | None = None
) -> list[Stage]:
    """A named schedule reaching ``sparsity`` with ``epochs`` fine-tuning epochs in total (split evenly over
    the stages, at least one each) so schedules compare at an equal fine-tuning budget.

    Args:
        name: ``one-shot``, ``iterative`` (``steps`` equal sparsity increments) or ``multistage`` (``steps``
            depth groups of ``model``, deepest first).
    """
    if name not in SCHEDULES:
        raise ConfigError(f"unknown pruning schedule {name!r}; valid options are: {', '.join(SCHEDULES)}")
    if steps < 1:
        raise ConfigError(f"schedule steps must be >= 1, got {steps}")
    per_stage = max(1, epochs // steps) if epochs else 0
    if name == "one-shot":
        return one_shot(sparsity, scope=scope, epochs=epochs)
    if name == "iterative":
        return iterative(sparsity, steps, scope=scope, epochs_per_step=per_stage)
    if model is None:
        raise ConfigError("a multistage schedule needs the model to form its layer groups")
    return multistage(sparsity, depth_groups(model, steps), epochs_per_stage=per_stage, scope=scope)


@dataclass(frozen=True)
class PruneResult:
    """Masks and per-stage sparsity of a pruning run."""

    masks: Masks
    stage_sparsity: tuple[float, ...]

    @property
    def sparsity(self) -> float:
        total = sum(m.numel() for m in self.masks.values())
        return 1.0 - sum(float(m.sum()) for m in self.masks.values()) / total

    def layer_sparsity(self) -> dict[str, float]:
        return {name: 1.0 - float(m.mean()) for name, m in self.masks.items()}


def prune(
    model: nn.Module,
    stages: Sequence[Stage],
    train: TrainConfig | None = None,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> PruneResult:
    """Run a pruning schedule on ``model`` in place.

    Args:
        model: the network (pruned and fine-tuned in place).
        stages: the schedule (see :func:`one_shot`, :func:`iterative`, :func:`multistage`).
        train: fine-tuning settings (epochs come from each stage); required when a stage fine-tunes.
        data: ``(x_train, y_train, x_val, y_val)`` for fine-tuning.

    Returns:
        The final masks over all prunable weights.
    """
    params = prunable_parameters(model)
    masks: Masks = {name: torch.ones_like(p) for name, p in params.items()}
    history = []
    for stage in stages:
        selected = {n: p for n, p in params.items() if any(fnmatch.fnmatch(n, pat) for pat in stage.layers)}
        if not selected:
            raise ConfigError(
                f"stage layers {list(stage.layers)} match no prunable weight; valid names are: {', '.join(params)}"
            )
        new = magnitude_masks({n: p * masks[n] for n, p in selected.items()}, stage.sparsity, stage.scope)
        for name, mask in new.items():
            masks[name] = masks[name] * mask
        apply_masks(model, masks)
        if stage.epochs:
            if train is None or data is None:
                raise ConfigError("a stage with fine-tuning epochs needs train settings and data")
            fit(model, *data, config=_with_epochs(train, stage.epochs), callbacks=(KeepMasks(model, masks),))
            apply_masks(model, masks)
        history.append(PruneResult(masks, ()).sparsity)
    return PruneResult({n: m.clone() for n, m in masks.items()}, tuple(history))


def _with_epochs(config: TrainConfig, epochs: int) -> TrainConfig:
    from dataclasses import replace

    return replace(config, epochs=epochs)
