"""Rebuilding a channel-pruned network: resize the layers an architecture builds to the shapes of stored
weights (family-agnostic: Conv1d, BatchNorm1d, Linear and LSTM layers)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def _param(like: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(torch.empty_like(like, dtype=torch.float32))


def _resize(module: nn.Module, state: Mapping[str, torch.Tensor], prefix: str) -> nn.Module | None:
    """Resize one layer to the stored shapes (in place; an LSTM is returned rebuilt)."""
    weight = state.get(prefix + "weight")
    if isinstance(module, nn.LSTM):
        w_ih = state.get(prefix + "weight_ih_l0")
        if w_ih is None or tuple(w_ih.shape) == tuple(module.weight_ih_l0.shape):
            return None
        return nn.LSTM(
            int(w_ih.shape[1]),
            int(w_ih.shape[0]) // 4,
            num_layers=module.num_layers,
            bias=module.bias,
            batch_first=module.batch_first,
            dropout=module.dropout,
            bidirectional=module.bidirectional,
        )
    if weight is None and not isinstance(module, nn.modules.batchnorm._BatchNorm):
        return None
    if isinstance(module, nn.Conv1d) and weight is not None and weight.shape != module.weight.shape:
        module.out_channels, module.in_channels = int(weight.shape[0]), int(weight.shape[1]) * module.groups
        module.weight = _param(weight)
        if module.bias is not None:
            module.bias = _param(state[prefix + "bias"])
    elif isinstance(module, nn.Linear) and weight is not None and weight.shape != module.weight.shape:
        module.out_features, module.in_features = int(weight.shape[0]), int(weight.shape[1])
        module.weight = _param(weight)
        if module.bias is not None:
            module.bias = _param(state[prefix + "bias"])
    elif isinstance(module, nn.modules.batchnorm._BatchNorm):
        ref = state.get(prefix + "running_mean", weight)
        if ref is None or ref.shape[0] == module.num_features:
            return None
        module.num_features = int(ref.shape[0])
        if module.affine:
            module.weight, module.bias = _param(state[prefix + "weight"]), _param(state[prefix + "bias"])
        if module.track_running_stats:
            module.running_mean = torch.zeros(module.num_features)
            module.running_var = torch.ones(module.num_features)
    return None


def resize_to_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> nn.Module:
    """Shrink (or grow) every Conv1d, BatchNorm1d, Linear and LSTM of ``model`` to the shapes in ``state``, in
    place, so that ``model.load_state_dict(state)`` succeeds: how a channel-pruned network is rebuilt from its
    architecture. Family-agnostic; layers whose shapes already match are left alone.

    Returns:
        ``model`` (also when it is the root and unchanged).
    """
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            rebuilt = _resize(child, state, full + ".")
            if rebuilt is not None:
                setattr(parent, child_name, rebuilt)
    return model


__all__ = ["resize_to_state_dict"]
