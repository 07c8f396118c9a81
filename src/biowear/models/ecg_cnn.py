"""The residual CNN of Kachuee et al. (2018) for 187-sample heartbeats at 125 Hz (AAMI five classes).

As described there: an input convolution, five residual blocks (convolution - ReLU - convolution, identity
skip, ReLU, max-pooling of width 5 and stride 2), then two fully connected layers of 32 units and the
output layer. All convolutions have 32 filters of width 5. This is the baseline of the multistage-pruning
work (seed 002). Details the text does not fix (padding mode, ReLU after the first dense layer only) follow
common re-implementations and are stated here rather than hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models.family import Family, Gene, Prunable
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


class EcgCnnFamily(Family):
    """The ``ecg_cnn`` family; its search space: blocks 1..5, filters 8/16/32 and dense 16/32 (kernel 5)."""

    name = "ecg_cnn"
    arch_type = EcgCnnSpec

    def default(self) -> EcgCnnSpec:
        return EcgCnnSpec()  # Kachuee's published network

    def parse(self, text: str | None) -> EcgCnnSpec:
        return EcgCnnSpec.parse(text or "")

    def label(self, arch: EcgCnnSpec) -> str:
        return f"blocks={arch.blocks},filters={arch.filters},kernel={arch.kernel},dense={arch.dense}"

    def key(self, arch: EcgCnnSpec) -> str:
        return f"ecg_cnn-{arch.blocks}-{arch.filters}-{arch.kernel}-{arch.dense}"

    def make(self, arch: EcgCnnSpec, input_shape: tuple[int, int], n_outputs: int) -> nn.Module:
        return KachueeCNN(arch, input_shape[0], n_outputs, input_shape[1])

    def prunable(self, model: nn.Module) -> Prunable:
        """The output layer (the head's last dense layer); identity shortcuts let every other channel go."""
        last = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
        return Prunable(output=(last,))

    def genes(self) -> tuple[Gene, ...]:
        return (
            Gene("blocks", (1, 2, 3, 4, 5), "residual blocks (each halves the length)"),
            Gene("filters", (8, 16, 32), "filters of every convolution"),
            Gene("dense", (16, 32), "units of the two hidden dense layers"),
        )

    def from_genes(self, values: Mapping[str, int]) -> EcgCnnSpec:
        return EcgCnnSpec(blocks=int(values["blocks"]), filters=int(values["filters"]), dense=int(values["dense"]))

    def gene_values(self, arch: EcgCnnSpec) -> dict[str, int]:
        return {"blocks": arch.blocks, "filters": arch.filters, "dense": arch.dense}
