"""Which weights a pruning removes: an importance (how much a weight matters) and a scope (where the fraction is
taken), two separate axes as in Torch-Pruning (Fang et al. 2023).

Importances score every weight of a tensor (higher = more important):

* ``magnitude``: ``|w|`` (Han et al. 2015).
* ``lamp``: layer-adaptive magnitude (Lee et al. 2021, LAMP), ``w_u^2 / sum of w_v^2 over the weights at least
  as large``, so the largest weight of every layer scores 1 and scores compare across layers.

Scopes turn scores into keep-masks removing a ``sparsity`` fraction:

* ``layer``: that fraction of every tensor (Han et al.).
* ``global``: that fraction of all tensors together, so layers lose different fractions (class-blind,
  Marchisio et al.).

A pruning *method* is one (importance, scope) pair. The names of the first methods stay: ``layer`` is
magnitude x layer, ``global`` magnitude x global and ``lamp`` LAMP x global; any other pair is named
``<importance>-<scope>`` (``lamp-layer``). Within one tensor LAMP orders weights as ``|w|`` does, so LAMP x layer
removes exactly the weights magnitude x layer removes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from biowear.compress.rules import SPARSITY
from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.validate import check_value

Masks = dict[str, torch.Tensor]
#: ``importance(weight) -> scores`` of the same shape (higher = more important).
Importance = Callable[[torch.Tensor], torch.Tensor]
#: ``scope(scores by tensor name, sparsity) -> keep-masks`` (1 = keep).
Scope = Callable[[dict[str, torch.Tensor], float], Masks]


def magnitude_scores(weight: torch.Tensor) -> torch.Tensor:
    """``|w|``."""
    return weight.detach().abs()


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


def _threshold_mask(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    k = int(round(sparsity * scores.numel()))
    mask = torch.ones_like(scores)
    if k:
        idx = torch.argsort(scores.flatten(), stable=True)[:k]
        mask.view(-1)[idx] = 0.0
    return mask


def layer_scope(scores: dict[str, torch.Tensor], sparsity: float) -> Masks:
    """Remove the ``sparsity`` fraction of lowest scores of every tensor (ties: lowest flat index first)."""
    return {name: _threshold_mask(v, sparsity) for name, v in scores.items()}


def global_scope(scores: dict[str, torch.Tensor], sparsity: float) -> Masks:
    """Remove the ``sparsity`` fraction of lowest scores over all tensors together."""
    flat = torch.cat([v.flatten() for v in scores.values()])
    k = int(round(sparsity * flat.numel()))
    if k == 0:
        return {name: torch.ones_like(v) for name, v in scores.items()}
    threshold = torch.kthvalue(flat, k).values
    masks = {name: (v > threshold).to(v.dtype) for name, v in scores.items()}
    return _fix_ties(masks, scores, k)


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


IMPORTANCES: Registry[Importance] = Registry("pruning importance")
IMPORTANCES.register("magnitude", magnitude_scores)
IMPORTANCES.register("lamp", lamp_scores)

SCOPES: Registry[Scope] = Registry("pruning scope")
SCOPES.register("layer", layer_scope)
SCOPES.register("global", global_scope)


@dataclass(frozen=True)
class PruneMethod:
    """One (importance, scope) pair.

    Raises:
        ConfigError: an unregistered importance or scope (the message lists the valid ones).
    """

    importance: str = "magnitude"
    scope: str = "layer"

    def __post_init__(self) -> None:
        IMPORTANCES.get(self.importance)
        SCOPES.get(self.scope)

    @property
    def name(self) -> str:
        """The registered alias of this pair (``layer``, ``global``, ``lamp``), else ``<importance>-<scope>``."""
        for alias in PRUNE_METHODS:
            if PRUNE_METHODS.get(alias) == self:
                return alias
        return f"{self.importance}-{self.scope}"

    def masks(self, params: dict[str, torch.Tensor], sparsity: float) -> Masks:
        """Keep-masks (1 = keep) removing the ``sparsity`` fraction of lowest-importance weights of ``params``."""
        check_value("prune", "sparsity", sparsity, SPARSITY)
        importance = IMPORTANCES.get(self.importance)
        scores = {n: importance(p) for n, p in params.items()}
        masks = SCOPES.get(self.scope)(scores, sparsity)
        return {n: m.to(params[n].dtype) for n, m in masks.items()}


#: Named pruning methods (``biowear compress --methods``); any other pair is ``<importance>-<scope>``.
PRUNE_METHODS: Registry[PruneMethod] = Registry("pruning method")
PRUNE_METHODS.register("layer", PruneMethod("magnitude", "layer"))
PRUNE_METHODS.register("global", PruneMethod("magnitude", "global"))
PRUNE_METHODS.register("lamp", PruneMethod("lamp", "global"))


def prune_method(name: str | PruneMethod) -> PruneMethod:
    """The method of a name: a registered alias or ``<importance>-<scope>``.

    Raises:
        ConfigError: neither; the message lists the aliases, importances and scopes.
    """
    if isinstance(name, PruneMethod):
        return name
    if name in PRUNE_METHODS:
        return PRUNE_METHODS.get(name)
    for scope in SCOPES:
        importance = name[: -len(scope) - 1]
        if name.endswith("-" + scope) and importance in IMPORTANCES:
            return PruneMethod(importance, scope)
    raise ConfigError(
        f"unknown pruning method {name!r}; valid options are: {', '.join(PRUNE_METHODS.names())}, or "
        f"<importance>-<scope> with importance one of {', '.join(IMPORTANCES.names())} and scope one of "
        f"{', '.join(SCOPES.names())}"
    )


def method_names(importances: tuple[str, ...], scopes: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the cross product importance x scope (``biowear compress --importance ... --scope ...``)."""
    return tuple(PruneMethod(i, s).name for i in importances for s in scopes)
