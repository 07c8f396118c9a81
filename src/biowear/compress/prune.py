"""Unstructured pruning: an importance x scope method (:mod:`biowear.compress.importance`), applied by a
schedule (one-shot, iterative, multistage), each stage followed by fine-tuning with the one :func:`fit` loop.

A schedule decides *which* parameters reach *what* sparsity and when; the method decides which weights go.
Masks are enforced during fine-tuning by :class:`KeepMasks`, which re-zeroes pruned weights after every
optimiser step.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from biowear.compress.importance import PRUNE_METHODS, SCOPES, Masks, PruneMethod, lamp_scores, prune_method
from biowear.compress.rules import EPOCHS, SPARSITY, STEPS
from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.train import Callback, NullCallback, TrainConfig, fit
from biowear.validate import check, check_value

#: The named pruning methods (kept for callers of the first API; see :data:`PRUNE_METHODS`).
PRUNE_SCOPES: tuple[str, ...] = tuple(PRUNE_METHODS.names())
#: Parameter names that are weights (never biases or batch-norm affine terms).
_WEIGHT_SUFFIXES = ("weight", "weight_ih_l0", "weight_hh_l0")

__all__ = ["Masks", "PruneMethod", "lamp_scores", "prune_method"]


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


def magnitude_masks(params: dict[str, torch.Tensor], sparsity: float, method: str | PruneMethod = "layer") -> Masks:
    """Keep-masks (1 = keep) removing the ``sparsity`` fraction of lowest-scoring weights.

    Args:
        params: the weights to consider.
        sparsity: fraction to remove, in (0, 1).
        method: a pruning method name (``layer``: smallest |w| of every tensor, Han et al.; ``global``: smallest
            |w| over all tensors together, class-blind, Marchisio et al.; ``lamp``: global over LAMP scores,
            which rescale each layer so none is emptied; or ``<importance>-<scope>`` such as ``lamp-layer``).
    """
    return prune_method(method).masks(params, sparsity)


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
        sparsity: target sparsity of the selected weights after this stage, in (0, 1).
        layers: glob patterns of parameter names this stage prunes (default: all prunable weights).
        scope: ``layer`` or ``global`` within the selected weights (the first API's ``lamp`` is read as LAMP
            importance, global scope).
        epochs: fine-tuning epochs after the stage (0 = none).
        importance: ``magnitude`` or ``lamp`` (see :mod:`biowear.compress.importance`).
    """

    sparsity: float
    layers: tuple[str, ...] = ("*",)
    scope: str = "layer"
    epochs: int = 2
    importance: str = "magnitude"

    RULES = {"sparsity": SPARSITY, "epochs": EPOCHS}

    def __post_init__(self) -> None:
        check(self, self.RULES)
        if self.scope not in SCOPES and self.scope in PRUNE_METHODS:  # a method name given as the scope
            method = PRUNE_METHODS.get(self.scope)
            object.__setattr__(self, "scope", method.scope)
            object.__setattr__(self, "importance", method.importance)
        PruneMethod(self.importance, self.scope)

    @property
    def method(self) -> PruneMethod:
        return PruneMethod(self.importance, self.scope)


def _stages(sparsity: float, method: str | PruneMethod, epochs: int, layers: tuple[str, ...] = ("*",)) -> Stage:
    m = prune_method(method)
    return Stage(sparsity, layers=layers, scope=m.scope, epochs=epochs, importance=m.importance)


def one_shot(sparsity: float, scope: str | PruneMethod = "layer", epochs: int = 4) -> list[Stage]:
    """Prune once to ``sparsity`` with method ``scope`` (any pruning method name) then fine-tune."""
    return [_stages(sparsity, scope, epochs)]


def iterative(sparsity: float, steps: int, scope: str | PruneMethod = "layer", epochs_per_step: int = 1) -> list[Stage]:
    """Gradual pruning: sparsity grows linearly over ``steps`` stages, with fine-tuning after each."""
    check_value("iterative", "steps", steps, STEPS)
    return [_stages(sparsity * (i + 1) / steps, scope, epochs_per_step) for i in range(steps)]


def multistage(
    sparsity: float, groups: Sequence[Sequence[str]], epochs_per_stage: int = 2, scope: str | PruneMethod = "layer"
) -> list[Stage]:
    """Multistage pruning: each stage prunes one more group of layers to ``sparsity`` and fine-tunes, so the
    network adapts to each group's loss before the next is pruned (later stages keep earlier groups' masks)."""
    if not groups:
        raise ConfigError("multistage pruning needs at least one layer group")
    return [_stages(sparsity, scope, epochs_per_stage, tuple(g)) for g in groups]


def depth_groups(model: nn.Module, n_groups: int) -> list[tuple[str, ...]]:
    """Prunable weights split into ``n_groups`` contiguous groups in reverse definition order (deepest first),
    the default layer groups of a multistage schedule."""
    names = list(prunable_parameters(model))[::-1]
    n_groups = max(1, min(n_groups, len(names)))
    return [tuple(chunk.tolist()) for chunk in np.array_split(np.array(names, dtype=object), n_groups)]


#: ``schedule(sparsity, method, total_epochs, steps, model) -> stages``.
Schedule = Callable[[float, PruneMethod, int, int, "nn.Module | None"], list[Stage]]


def split_epochs(epochs: int, stages: int) -> list[int]:
    """``epochs`` fine-tuning epochs dealt over ``stages`` stages so that they add up exactly (the later stages
    get the remainder: ``split_epochs(6, 4) == [1, 1, 2, 2]``, ``split_epochs(2, 3) == [0, 1, 1]``), so every
    schedule runs on the same total budget."""
    base, extra = divmod(epochs, stages)
    return [base + (1 if i >= stages - extra else 0) for i in range(stages)]


def _with_budget(stages: list[Stage], epochs: int) -> list[Stage]:
    from dataclasses import replace

    return [replace(stage, epochs=e) for stage, e in zip(stages, split_epochs(epochs, len(stages)))]


def _one_shot(sparsity: float, method: PruneMethod, epochs: int, steps: int, model: nn.Module | None) -> list[Stage]:
    return one_shot(sparsity, method, epochs)


def _iterative(sparsity: float, method: PruneMethod, epochs: int, steps: int, model: nn.Module | None) -> list[Stage]:
    return _with_budget(iterative(sparsity, steps, method, 0), epochs)


def _multistage(sparsity: float, method: PruneMethod, epochs: int, steps: int, model: nn.Module | None) -> list[Stage]:
    if model is None:
        raise ConfigError("a multistage schedule needs the model to form its layer groups")
    return _with_budget(multistage(sparsity, depth_groups(model, steps), 0, method), epochs)


#: Pruning schedules by name (``biowear compress --schedule``).
SCHEDULES: Registry[Schedule] = Registry("pruning schedule")
SCHEDULES.register("one-shot", _one_shot)
SCHEDULES.register("iterative", _iterative)
SCHEDULES.register("multistage", _multistage)


def schedule(
    name: str, sparsity: float, scope: str | PruneMethod, epochs: int, steps: int, model: nn.Module | None = None
) -> list[Stage]:
    """A named schedule reaching ``sparsity`` with exactly ``epochs`` fine-tuning epochs in total (dealt over
    the stages by :func:`split_epochs`) so schedules compare at an equal fine-tuning budget.

    Args:
        name: ``one-shot``, ``iterative`` (``steps`` equal sparsity increments) or ``multistage`` (``steps``
            depth groups of ``model``, deepest first).
        scope: the pruning method (``layer``, ``global``, ``lamp``, ``lamp-layer``, ... or a :class:`PruneMethod`).
    """
    make = SCHEDULES.get(name)
    check_value("schedule", "steps", steps, STEPS)
    return make(sparsity, prune_method(scope), epochs, steps, model)


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
    callbacks: Sequence[Callback] = (),
) -> PruneResult:
    """Run a pruning schedule on ``model`` in place.

    Args:
        model: the network (pruned and fine-tuned in place).
        stages: the schedule (see :func:`one_shot`, :func:`iterative`, :func:`multistage`).
        train: fine-tuning settings (epochs come from each stage); required when a stage fine-tunes.
        data: ``(x_train, y_train, x_val, y_val)`` for fine-tuning.
        callbacks: training callbacks of every fine-tuning stage (e.g. progress bars).

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
        new = stage.method.masks({n: p * masks[n] for n, p in selected.items()}, stage.sparsity)
        for name, mask in new.items():
            masks[name] = masks[name] * mask
        apply_masks(model, masks)
        if stage.epochs:
            if train is None or data is None:
                raise ConfigError("a stage with fine-tuning epochs needs train settings and data")
            fit(
                model,
                *data,
                config=replace(train, epochs=stage.epochs),
                callbacks=(KeepMasks(model, masks), *callbacks),
            )
            apply_masks(model, masks)
        history.append(PruneResult(masks, ()).sparsity)
    return PruneResult({n: m.clone() for n, m in masks.items()}, tuple(history))
