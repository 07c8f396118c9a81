"""The BioNetExplorer ResNet-LSTM family (Prabakaran et al. 2021, Fig. 3).

An input convolution, ``blocks`` residual blocks of Hannun et al. (2019), an LSTM with ``2**lstm_exp``
cells and a dense output layer. Every convolution has kernel 16; the filter count of residual block
``i`` (0-based) is ``32 * 2**(i // x)``, i.e. it doubles every ``x`` blocks. Each block is two
convolutions with batch norm, ReLU and dropout (pre-activation, except the first block, which follows the
input convolution's own BN-ReLU); every second block (odd index) sub-samples by 2, with a max-pool on the
shortcut, and the shortcut is zero-padded on the channel axis when the filter count grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models import layers
from biowear.models.family import Family, Gene, Prunable
from biowear.models.layers import (
    Add,
    ChannelPad,
    Dropout,
    LastStepLSTM,
    SamePadConv1d,
    channels_last_ready,
    parse_int_fields,
    run_channels_last,
)

BLOCKS_RANGE = range(0, 16)
X_RANGE = range(1, 5)
LSTM_EXP_RANGE = range(4, 9)


@dataclass(frozen=True, order=True)
class ResNetLSTMGenes:
    """One point of the architecture space.

    Args:
        blocks: number of residual blocks, 0..15.
        x: the filter count doubles every ``x`` blocks, 1..4.
        lstm_exp: the LSTM has ``2**lstm_exp`` cells, 4..8.
    """

    blocks: int
    x: int
    lstm_exp: int

    def __post_init__(self) -> None:
        for name, value, valid in (
            ("blocks", self.blocks, BLOCKS_RANGE),
            ("x", self.x, X_RANGE),
            ("lstm_exp", self.lstm_exp, LSTM_EXP_RANGE),
        ):
            if value not in valid:
                raise ConfigError(
                    f"{name}={value} is outside the space; valid values are {valid.start}..{valid.stop - 1}"
                )

    @property
    def lstm_cells(self) -> int:
        return 2**self.lstm_exp

    def filters(self, block: int) -> int:
        """Filter count of residual block ``block`` (0-based)."""
        return 32 * 2 ** (block // self.x)

    def canonical(self) -> ResNetLSTMGenes:
        """The point with the smallest ``x`` that builds the identical network.

        ``x`` only matters through the filter counts of the blocks present, so e.g. every ``x`` is the same
        network when ``blocks <= 1``; such duplicates need training only once.
        """
        filters = [self.filters(i) for i in range(self.blocks)]
        for x in X_RANGE:
            if [32 * 2 ** (i // x) for i in range(self.blocks)] == filters:
                return ResNetLSTMGenes(self.blocks, x, self.lstm_exp)
        return self

    def label(self) -> str:
        return f"blocks={self.blocks},x={self.x},lstm={self.lstm_cells}"

    @staticmethod
    def parse(text: str) -> ResNetLSTMGenes:
        """Parse ``"blocks=4,x=2,lstm=32"`` (``lstm`` in cells, a power of two 16..256)."""
        fields = parse_int_fields(text, ("blocks", "x", "lstm"), "blocks=B,x=X,lstm=CELLS")
        missing = {"blocks", "x", "lstm"} - set(fields)
        if missing:
            raise ConfigError(f"architecture {text!r} lacks {', '.join(sorted(missing))} (form: blocks=4,x=2,lstm=32)")
        cells = fields["lstm"]
        valid_cells = [2**z for z in LSTM_EXP_RANGE]
        if cells not in valid_cells:
            raise ConfigError(f"lstm={cells} cells is not in the space; valid values are {valid_cells}")
        return ResNetLSTMGenes(fields["blocks"], fields["x"], cells.bit_length() - 1)


def grid() -> list[ResNetLSTMGenes]:
    """All 16 x 4 x 5 = 320 points of the space."""
    return [ResNetLSTMGenes(b, x, z) for b, x, z in product(BLOCKS_RANGE, X_RANGE, LSTM_EXP_RANGE)]


class ResidualBlock(nn.Module):
    """Hannun et al. residual block: [BN-ReLU-Dropout]-Conv-BN-ReLU-Dropout-Conv + shortcut."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, dropout: float, preact: bool):
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm1d(in_ch), nn.ReLU(), Dropout(dropout)) if preact else nn.Identity()
        self.conv1 = SamePadConv1d(in_ch, out_ch, kernel, stride=stride)
        self.mid = nn.Sequential(nn.BatchNorm1d(out_ch), nn.ReLU(), Dropout(dropout))
        self.conv2 = SamePadConv1d(out_ch, out_ch, kernel)
        shortcut: list[nn.Module] = []
        if stride > 1:
            shortcut.append(nn.MaxPool1d(stride, stride, ceil_mode=True))
        if out_ch != in_ch:
            shortcut.append(ChannelPad(out_ch))
        self.shortcut = nn.Sequential(*shortcut)
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.conv2(self.mid(self.conv1(self.pre(x))))
        return self.add(main, self.shortcut(x))

    def forward_channels_last(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on a channels-last ``(B, C, 1, L)`` tensor (see :func:`run_channels_last`)."""
        main = run_channels_last(self.conv1, run_channels_last(self.pre, x))
        main = run_channels_last(self.conv2, run_channels_last(self.mid, main))
        return main + run_channels_last(self.shortcut, x)


class ResNetLSTM(nn.Module):
    """The network for one :class:`ResNetLSTMGenes` point.

    Args:
        genes: the architecture point.
        in_channels: number of input leads.
        n_classes: number of outputs (one logit per class, or 1 for regression).
        kernel_size: convolution kernel (16 in the paper).
        dropout: dropout probability in the residual blocks (Hannun et al.: 0.2).
    """

    def __init__(
        self, genes: ResNetLSTMGenes, in_channels: int, n_classes: int, kernel_size: int = 16, dropout: float = 0.2
    ):
        super().__init__()
        if in_channels < 1 or n_classes < 1:
            raise ConfigError(f"need in_channels >= 1 and n_classes >= 1, got {in_channels}, {n_classes}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.genes = genes
        self.stem = nn.Sequential(SamePadConv1d(in_channels, 32, kernel_size), nn.BatchNorm1d(32), nn.ReLU())
        blocks: list[nn.Module] = []
        channels = 32
        for i in range(genes.blocks):
            out = genes.filters(i)
            blocks.append(ResidualBlock(channels, out, kernel_size, 2 if i % 2 == 1 else 1, dropout, preact=i > 0))
            channels = out
        self.blocks = nn.Sequential(*blocks)
        self.post = nn.Sequential(nn.BatchNorm1d(channels), nn.ReLU()) if genes.blocks else nn.Identity()
        self.lstm = LastStepLSTM(channels, genes.lstm_cells)
        self.fc = nn.Linear(genes.lstm_cells, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` for input ``(B, in_channels, L)``.

        CPU training (see :func:`~biowear.models.layers.set_fast_conv`) runs the convolutional trunk in
        channels-last layout (:func:`~biowear.models.layers.run_channels_last`): the same network, agreeing with
        this path up to float rounding, about 1.3-1.5x faster to train; the LSTM then reads the trunk's output
        without a copy, since channels-last ``(B, C, 1, L)`` is ``(B, L, C)`` in memory.
        """
        if self.training and layers._channels_last_ok(x) and self._trunk_ready():
            h = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
            for part in (self.stem, self.blocks, self.post):
                h = run_channels_last(part, h)
            return self.fc(self.lstm(h.squeeze(2)))
        return self.fc(self.lstm(self.post(self.blocks(self.stem(x)))))

    def _trunk_ready(self) -> bool:
        return all(channels_last_ready(part) for part in (self.stem, self.blocks, self.post))


def build(
    genes: ResNetLSTMGenes,
    in_channels: int,
    n_classes: int,
    seed: int | None = None,
    device: str | torch.device | None = None,
    **options: float,
) -> ResNetLSTM:
    """Build a network; with ``seed`` its initial weights are reproducible (global RNG untouched)."""
    if device is not None and torch.device(device).type == "meta":
        with torch.device("meta"):
            return ResNetLSTM(genes, in_channels, n_classes, **options)  # type: ignore[arg-type]
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        model = ResNetLSTM(genes, in_channels, n_classes, **options)  # type: ignore[arg-type]
    return model.to(device) if device is not None else model


class ResNetLSTMFamily(Family):
    """The ``resnet_lstm`` family: genes blocks (0..15), x (1..4) and lstm_exp (4..8), the 4+2+3-bit chromosome of
    BioNetExplorer (LSTM codes 5..7 lie outside the grid)."""

    name = "resnet_lstm"
    arch_type = ResNetLSTMGenes

    def default(self) -> ResNetLSTMGenes:
        return ResNetLSTMGenes(4, 2, 5)  # the example point, blocks=4,x=2,lstm=32

    def parse(self, text: str | None) -> ResNetLSTMGenes:
        return self.default() if text is None else ResNetLSTMGenes.parse(text)

    def label(self, arch: ResNetLSTMGenes) -> str:
        return arch.label()

    def key(self, arch: ResNetLSTMGenes) -> str:
        return f"{arch.blocks}-{arch.x}-{arch.lstm_exp}"  # model folders of earlier studies keep their paths

    def canonical(self, arch: ResNetLSTMGenes) -> ResNetLSTMGenes:
        return arch.canonical()

    def make(self, arch: ResNetLSTMGenes, input_shape: tuple[int, int], n_outputs: int) -> nn.Module:
        return ResNetLSTM(arch, input_shape[0], n_outputs)

    def prunable(self, model: nn.Module) -> Prunable:
        """The output layer ``fc``; the LSTM (hidden units pruned apart, read by ``fc``); and, when a shortcut
        zero-pads channels, the residual-stream writers (stem convolution and every block's ``conv2``)."""
        padded = any(isinstance(m, ChannelPad) for m in model.modules())
        keep = ["stem.0", *(f"blocks.{i}.conv2" for i in range(len(model.blocks)))] if padded else []
        return Prunable(output=("fc",), keep_width=tuple(keep), recurrent=(("lstm", "fc"),))

    def genes(self) -> tuple[Gene, ...]:
        return (
            Gene("blocks", tuple(BLOCKS_RANGE), "residual blocks"),
            Gene("x", tuple(X_RANGE), "the filter count doubles every x blocks"),
            Gene("lstm_exp", tuple(LSTM_EXP_RANGE), "the LSTM has 2**lstm_exp cells"),
        )

    def from_genes(self, values: Mapping[str, int]) -> ResNetLSTMGenes:
        return ResNetLSTMGenes(int(values["blocks"]), int(values["x"]), int(values["lstm_exp"]))

    def gene_values(self, arch: ResNetLSTMGenes) -> dict[str, int]:
        return {"blocks": arch.blocks, "x": arch.x, "lstm_exp": arch.lstm_exp}
