"""Target and input standardisation, kept inside the network so it travels with it.

A regression network learns in standard units (zero mean, unit variance of the training targets); its
outputs are mapped back to the target's unit by a fixed affine layer whose mean and standard deviation are
buffers of the state dict. Every metric, the saved model and any export therefore see the target's unit.

Input standardisation with statistics of the training split only (per channel, :class:`ScaledInput`) works
the same way: the network takes raw windows, so a test subject's own statistics are never used, and a model
applied to a new recording needs no statistics of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


class ScaledOutput(nn.Module):
    """``net(x) * std + mean``: the wrapped network's outputs in the target's unit.

    Args:
        net: the network (outputs in standard units).
        mean, std: training-target statistics (``std`` > 0).
    """

    def __init__(self, net: nn.Module, mean: float = 0.0, std: float = 1.0):
        super().__init__()
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(f"target scale needs a finite mean and a positive std, got {mean}, {std}")
        self.net = net
        self.register_buffer("target_mean", torch.tensor(float(mean)))
        self.register_buffer("target_std", torch.tensor(float(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.target_std + self.target_mean


class ScaledInput(nn.Module):
    """``net((x - mean) / std)`` with one mean and std per input channel (fixed buffers).

    Args:
        net: the network (inputs in standard units).
        mean, std: per-channel statistics of the training windows (``std`` > 0).
    """

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        m = np.asarray(mean, dtype=np.float64).ravel()
        s = np.asarray(std, dtype=np.float64).ravel()
        if m.shape != s.shape or not (np.isfinite(m).all() and np.isfinite(s).all() and (s > 0).all()):
            raise ValueError(f"input scale needs finite means and positive stds per channel, got {m}, {s}")
        self.net = net
        self.register_buffer("input_mean", torch.tensor(m, dtype=torch.float32).view(1, -1, 1))
        self.register_buffer("input_std", torch.tensor(s, dtype=torch.float32).view(1, -1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.input_mean) / self.input_std)

    def scale(self) -> tuple[list[float], list[float]]:
        """(means, stds) per channel."""
        return self.input_mean.flatten().tolist(), self.input_std.flatten().tolist()


def input_scale(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel (means, stds) of training windows ``(n, channels, samples)``; std 1 for a flat channel."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"windows must be (n, channels, samples), got shape {x.shape}")
    mean = x.mean(axis=(0, 2))
    std = x.std(axis=(0, 2))
    return mean.tolist(), np.where(std > 1e-12, std, 1.0).tolist()


def unwrap(model: nn.Module) -> tuple[nn.Module, tuple[float, float] | None, tuple[list[float], list[float]] | None]:
    """(core network, target scale or None, input scale or None) of a network built by ``build_model``."""
    target = None
    if isinstance(model, ScaledOutput):
        target = (float(model.target_mean), float(model.target_std))
        model = model.net
    inputs = None
    if isinstance(model, ScaledInput):
        inputs = model.scale()
        model = model.net
    return model, target, inputs


def target_scale(y: np.ndarray) -> tuple[float, float]:
    """(mean, std) of training targets; std 1 when the targets are constant."""
    y = np.asarray(y, dtype=np.float64)
    std = float(np.std(y))
    return float(np.mean(y)), std if std > 1e-12 else 1.0
