"""Seeded networks and windows for the export tests: registered families with non-trivial batch norms."""

from __future__ import annotations

import numpy as np
import torch

from biowear.models import build_spec
from biowear.models.ecg_cnn import EcgCnnSpec
from biowear.models.pulse import PulseStudentArch
from biowear.models.resnet_lstm import ResNetLSTMGenes

#: (id, architecture, (channels, samples)): >= 5 ResNet-LSTM grid points (blocks 0 and 8 among them), the
#: Kachuee CNN and the PPG student.
NETWORKS = [
    ("resnet-b0", ResNetLSTMGenes(0, 1, 4), (1, 64)),
    ("resnet-b1", ResNetLSTMGenes(1, 1, 5), (1, 64)),
    ("resnet-b2-grow", ResNetLSTMGenes(2, 1, 4), (1, 64)),
    ("resnet-b3", ResNetLSTMGenes(3, 2, 4), (1, 48)),
    ("resnet-b8", ResNetLSTMGenes(8, 4, 4), (1, 64)),
    ("ecg_cnn", EcgCnnSpec(), (1, 187)),
    ("pulse_student", PulseStudentArch(), (4, 256)),
]


def network(arch, shape, n_outputs: int = 3, seed: int = 0) -> torch.nn.Module:
    """The family's network with random batch-norm statistics (so folding and affines are exercised)."""
    net = build_spec(arch, shape[0], n_outputs, shape[1], seed=seed).eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))
                m.weight.copy_(3 * torch.rand(c, generator=gen) - 1.5)
                m.bias.copy_(0.6 * torch.rand(c, generator=gen) - 0.3)
    return net


def windows(shape, n: int, seed: int = 1) -> np.ndarray:
    """Sines of random frequency plus noise, ``(n, channels, samples)`` float32."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, shape[1])
    freq = rng.uniform(1, 8, (n, shape[0], 1))
    return (np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, *shape))).astype(np.float32)


def share_values(net: torch.nn.Module, levels: float, sparsity: float = 0.0, seed: int = 0) -> torch.nn.Module:
    """Weights as k-means leaves them: each weight tensor rounded to ``2 * levels`` shared values (in place), and
    a ``sparsity`` fraction of them zeroed as pruning would."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            if p.dim() > 1:
                peak = p.abs().max()
                p.copy_(torch.round(p / peak * levels - 0.5) / levels * peak + 1e-3)
                p.mul_(torch.rand(p.shape, generator=gen) >= sparsity)
    return net
