"""The residual CNN of Kachuee et al. (2018) for 187-sample heartbeats at 125 Hz (AAMI five classes).

As described there: an input convolution, five residual blocks (convolution - ReLU - convolution, identity
skip, ReLU, max-pooling of width 5 and stride 2), then two fully connected layers of 32 units and the
output layer. All convolutions have 32 filters of width 5. This is the baseline of the multistage-pruning
work (seed 002). Details the text does not fix (padding mode, ReLU after the first dense layer only) follow
common re-implementations and are stated here rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models.layers import Add, SamePadConv1d, parse_int_fields


@dataclass(frozen=True)
class EcgCnnSpec:
    """Size of the Kachuee CNN (defaults: the published network)."""

    blocks: int = 5
    filters: int = 32
    kernel: int = 5
    dense: int = 32
    family: str = "ecg_cnn"

    def __post_init__(self) -> None:
        if not 1 <= self.blocks <= 8 or self.filters < 1 or self.kernel < 1 or self.dense < 1:
            raise ConfigError("ecg_cnn needs 1 <= blocks <= 8 and positive filters, kernel and dense sizes")

    def label(self) -> str:
        return f"ecg_cnn(blocks={self.blocks},filters={self.filters},kernel={self.kernel},dense={self.dense})"

    @staticmethod
    def parse(text: str) -> EcgCnnSpec:
        """``""`` (published sizes) or ``blocks=5,filters=32,kernel=5,dense=32`` (any subset)."""
        fields = parse_int_fields(text, ("blocks", "filters", "kernel", "dense"), "blocks=B,filters=F,kernel=K,dense=D")
        return EcgCnnSpec(**fields)


class _Block(nn.Module):
    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.conv1, self.relu1 = SamePadConv1d(channels, channels, kernel), nn.ReLU()
        self.conv2 = SamePadConv1d(channels, channels, kernel)
        self.add, self.relu2 = Add(), nn.ReLU()
        self.pool = nn.MaxPool1d(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.relu2(self.add(self.conv2(self.relu1(self.conv1(x))), x)))


class KachueeCNN(nn.Module):
    """The network for one :class:`EcgCnnSpec`; input ``(B, in_channels, input_length)``."""

    def __init__(self, spec: EcgCnnSpec, in_channels: int, n_classes: int, input_length: int):
        super().__init__()
        self.spec = spec
        self.stem = SamePadConv1d(in_channels, spec.filters, spec.kernel)
        self.blocks = nn.Sequential(*[_Block(spec.filters, spec.kernel) for _ in range(spec.blocks)])
        length = input_length
        for _ in range(spec.blocks):
            length = (length - 5) // 2 + 1
            if length < 1:
                raise ConfigError(f"input of {input_length} samples is too short for {spec.blocks} pooling blocks")
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(spec.filters * length, spec.dense),
            nn.ReLU(),
            nn.Linear(spec.dense, spec.dense),
            nn.Linear(spec.dense, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))
