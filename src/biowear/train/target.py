"""Target standardisation for regression networks, kept inside the network so it travels with it.

A regression network learns in standard units (zero mean, unit variance of the training targets); its
outputs are mapped back to the target's unit by a fixed affine layer whose mean and standard deviation are
buffers of the state dict. Every metric, the saved model and any export therefore see the target's unit.
"""

from __future__ import annotations

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


def target_scale(y: np.ndarray) -> tuple[float, float]:
    """(mean, std) of training targets; std 1 when the targets are constant."""
    y = np.asarray(y, dtype=np.float64)
    std = float(np.std(y))
    return float(np.mean(y)), std if std > 1e-12 else 1.0
