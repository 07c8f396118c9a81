"""PULSE heart-rate networks from PPG and accelerometer: a cross-attention teacher and a modality-wise student.

Following "Replacing Attention with Modality-wise Convolution for Energy-Efficient PPG-based Heart Rate
Estimation using Knowledge Distillation" (PULSE). Input ``(B, R, T)``: row 0 is the PPG, rows 1.. the
accelerometer axes (x, y, z), e.g. ``R = 4`` rows of 8 s at 32 Hz (``T = 256``); the length is whatever the
model rate makes it. Output: one value per window (BPM through :class:`~biowear.train.target.ScaledOutput`).

Both networks start with the same kind of **temporal extractor**: every sensor row is filtered by the same
1-D convolutions (the rows are folded into the batch axis by :class:`RowsToBatch`, which equals a 2-D
convolution with a ``1 x k`` kernel but keeps every layer 1-D for int8 and C export). Three blocks, each three
'same'-padded convolutions with dilations 1, 2 and 4 (BN + ReLU after each) and average pooling by ``pool``;
block ``i`` has ``width * (2, 3, 4)[i]`` channels (the paper's 32/48/64 at ``width=16``). The dilations make
one block see ``1 + (k - 1) * 7`` samples (29 at ``k=5``: about one beat at 32 Hz), and with pooling by 2
the three blocks together see about 200 samples, some 6 s of an 8 s window.

* **Teacher** (``pulse_teacher``): multi-head cross-attention with the PPG row's features as queries (one token
  per time step, dimension = last block's channels) and the accelerometer rows' features as keys and values:
  tokens ``(r - 1) * T' + t`` for rows ``r = 1..R-1`` and steps ``t`` (row 1's steps, then row 2's, ...), no
  positional encoding (the convolution features carry local time). Residual join and layer norm, mean over
  time, a dense head.
* **Student** (``pulse_student``): the modality-wise convolution replaces the attention: a kernel spanning
  all ``R`` rows, i.e. a Conv2d with an ``(R, 1)`` kernel on ``(B, C, R, T')``, computed as a
  ``Conv1d(R*C, fusion, 1)`` on the features stacked as ``(B, R*C, T')`` (:class:`RowsToChannels`); BN +
  ReLU, mean over time, a dense head.

Both name their penultimate embedding ``embedding`` (an ``nn.Identity`` before the output layer ``out``), the
hook of relation-based distillation (:class:`biowear.compress.distill.RegressionDistillationLoss`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models.family import Family, Gene, Prunable
from biowear.models.layers import Add, RowsToBatch, RowsToChannels, Transpose, parse_int_fields

#: Dilations of the three convolutions of every extractor block.
DILATIONS = (1, 2, 4)
#: Channel multiples of the three blocks: block ``i`` has ``width * CHANNEL_STEPS[i]`` channels.
CHANNEL_STEPS = (2, 3, 4)


def _check_common(name: str, width: int, kernel: int, pool: int, dense: int) -> None:
    if not 1 <= width <= 256 or not (1 <= kernel <= 31 and kernel % 2 == 1) or not 1 <= pool <= 8 or dense < 0:
        raise ConfigError(
            f"{name} needs 1 <= width <= 256, an odd kernel 1..31, 1 <= pool <= 8 and dense >= 0, "
            f"got width={width}, kernel={kernel}, pool={pool}, dense={dense}"
        )


@dataclass(frozen=True)
class PulseTeacherArch:
    """Size of the PULSE teacher (defaults: 32/48/64 channels, kernel 5, pooling by 2, 4 heads, 32 dense units).

    Args:
        width: block ``i`` has ``width * (2, 3, 4)[i]`` channels; the attention dimension is ``4 * width``.
        kernel: odd convolution kernel (samples).
        pool: average-pooling factor after every block (the tokens are ``T // pool**3`` steps per row).
        heads: attention heads; must divide ``4 * width``.
        dense: hidden units of the head (0: the output layer reads the pooled features directly).
    """

    width: int = 16
    kernel: int = 5
    pool: int = 2
    heads: int = 4
    dense: int = 32

    def __post_init__(self) -> None:
        _check_common("pulse_teacher", self.width, self.kernel, self.pool, self.dense)
        if self.heads < 1 or (4 * self.width) % self.heads:
            raise ConfigError(f"pulse_teacher heads={self.heads} must divide the attention width {4 * self.width}")


@dataclass(frozen=True)
class PulseStudentArch:
    """Size of the PULSE student (defaults: 14/21/28 channels, kernel 5, pooling by 2, 32 fused channels, 16 dense:
    23,482 parameters for 4 x 256 inputs, 5.0x fewer than the default teacher's 117,617, with the same receptive
    field).

    Args:
        width: block ``i`` has ``width * (2, 3, 4)[i]`` channels.
        kernel: odd convolution kernel (samples).
        pool: average-pooling factor after every block.
        fusion: output channels of the modality-wise convolution.
        dense: hidden units of the head (0: the output layer reads the pooled features directly).
    """

    width: int = 7
    kernel: int = 5
    pool: int = 2
    fusion: int = 32
    dense: int = 16

    def __post_init__(self) -> None:
        _check_common("pulse_student", self.width, self.kernel, self.pool, self.dense)
        if self.fusion < 1:
            raise ConfigError(f"pulse_student needs fusion >= 1 channels, got {self.fusion}")


class DilatedBlock(nn.Sequential):
    """Three 'same'-padded dilated convolutions (``conv0..2``, each with BN + ReLU), then ``pool``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, pool: int):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = in_channels
        for i, d in enumerate(DILATIONS):
            layers[f"conv{i}"] = nn.Conv1d(channels, out_channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            layers[f"bn{i}"] = nn.BatchNorm1d(out_channels)
            layers[f"relu{i}"] = nn.ReLU()
            channels = out_channels
        layers["pool"] = nn.AvgPool1d(pool) if pool > 1 else nn.Identity()
        super().__init__(layers)


class TemporalExtractor(nn.Sequential):
    """Shared per-row temporal features: ``(B, R, T)`` -> ``(B*R, 4*width, T // pool**3)``."""

    def __init__(self, width: int, kernel: int, pool: int, length: int):
        if length // pool ** len(CHANNEL_STEPS) < 1:
            raise ConfigError(f"input of {length} samples is too short for 3 poolings by {pool}")
        layers: OrderedDict[str, nn.Module] = OrderedDict(fold=RowsToBatch())
        channels = 1
        for i, step in enumerate(CHANNEL_STEPS):
            layers[f"block{i}"] = DilatedBlock(channels, width * step, kernel, pool)
            channels = width * step
        super().__init__(layers)
        self.out_channels = channels


def _head(features: int, dense: int, n_outputs: int) -> tuple[nn.Module, nn.Module]:
    """(hidden dense layer + ReLU or identity, output layer)."""
    if dense == 0:
        return nn.Identity(), nn.Linear(features, n_outputs)
    return nn.Sequential(nn.Linear(features, dense), nn.ReLU()), nn.Linear(dense, n_outputs)


class CrossModalAttention(nn.Module):
    """PPG queries attend to accelerometer keys/values: ``(B*R, E, T')`` -> ``(B, T', E)`` after residual + norm."""

    def __init__(self, dim: int, heads: int, rows: int):
        super().__init__()
        self.rows = rows
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.add = Add()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, self.rows, x.shape[1], x.shape[2]).transpose(2, 3)  # (B, R, T', E)
        query = tokens[:, 0]
        context = tokens[:, 1:].reshape(tokens.shape[0], -1, tokens.shape[3])  # (B, (R-1)*T', E), row-major
        attended = self.attn(query, context, context, need_weights=False)[0]
        return self.norm(self.add(query, attended))


class PulseTeacher(nn.Module):
    """The cross-attention teacher for one :class:`PulseTeacherArch`; input ``(B, rows, length)``."""

    def __init__(self, arch: PulseTeacherArch, rows: int, length: int, n_outputs: int):
        super().__init__()
        if rows < 2:
            raise ConfigError(f"pulse_teacher needs the PPG row and at least one accelerometer row, got {rows} row(s)")
        self.arch = arch
        self.extractor = TemporalExtractor(arch.width, arch.kernel, arch.pool, length)
        self.fusion = CrossModalAttention(self.extractor.out_channels, arch.heads, rows)
        self.to_channels = Transpose()
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head, self.out = _head(self.extractor.out_channels, arch.dense, n_outputs)
        self.embedding = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = torch.flatten(self.pool(self.to_channels(self.fusion(self.extractor(x)))), 1)
        return self.out(self.embedding(self.head(features)))


class PulseStudent(nn.Module):
    """The modality-wise-convolution student for one :class:`PulseStudentArch`; input ``(B, rows, length)``."""

    def __init__(self, arch: PulseStudentArch, rows: int, length: int, n_outputs: int):
        super().__init__()
        self.arch = arch
        self.extractor = TemporalExtractor(arch.width, arch.kernel, arch.pool, length)
        self.stack = RowsToChannels(rows)
        self.fusion = nn.Conv1d(rows * self.extractor.out_channels, arch.fusion, 1)
        self.fusion_bn = nn.BatchNorm1d(arch.fusion)
        self.fusion_relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.head, self.out = _head(arch.fusion, arch.dense, n_outputs)
        self.embedding = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = self.fusion_relu(self.fusion_bn(self.fusion(self.stack(self.extractor(x)))))
        return self.out(self.embedding(self.head(torch.flatten(self.pool(fused), 1))))


class _PulseFamily(Family):
    """Shared text form (``width=16,kernel=5,...``, any subset), keys and genes of the two PULSE families."""

    example_input_shape = (4, 256)  # PPG + accelerometer x/y/z, 8 s at 32 Hz
    #: (gene name = arch field, grid values, doc) of each gene, in chromosome order.
    gene_grid: ClassVar[tuple[tuple[str, tuple[int, ...], str], ...]] = ()

    def _fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self.arch_type))

    def default(self) -> Any:
        return self.arch_type()

    def parse(self, text: str | None) -> Any:
        names = self._fields()
        return self.arch_type(**parse_int_fields(text or "", names, ",".join(f"{n}=N" for n in names)))

    def label(self, arch: Any) -> str:
        self.check(arch)
        return ",".join(f"{n}={getattr(arch, n)}" for n in self._fields())

    def key(self, arch: Any) -> str:
        self.check(arch)
        return "-".join([self.name, *(str(getattr(arch, n)) for n in self._fields())])

    def genes(self) -> tuple[Gene, ...]:
        return tuple(Gene(name, values, doc) for name, values, doc in self.gene_grid)

    def from_genes(self, values: Mapping[str, int]) -> Any:
        return self.arch_type(**{name: int(values[name]) for name, _, _ in self.gene_grid})

    def gene_values(self, arch: Any) -> dict[str, int]:
        return {name: getattr(arch, name) for name, _, _ in self.gene_grid}


class PulseTeacherFamily(_PulseFamily):
    """The ``pulse_teacher`` family; genes width 8/12/16 and heads 1/2/4 (other fields at their defaults)."""

    name = "pulse_teacher"
    arch_type = PulseTeacherArch
    gene_grid = (("width", (8, 12, 16), "block channels are width x 2/3/4"), ("heads", (1, 2, 4), "attention heads"))

    def make(self, arch: PulseTeacherArch, input_shape: tuple[int, int], n_outputs: int) -> nn.Module:
        return PulseTeacher(arch, input_shape[0], input_shape[1], n_outputs)

    def prunable(self, model: nn.Module) -> Prunable:
        """The output layer ``out``; the attention and the convolution writing its token width keep their width."""
        return Prunable(output=("out",), keep_width=("extractor.block2.conv2", "fusion.attn"))


class PulseStudentFamily(_PulseFamily):
    """The ``pulse_student`` family; genes width 4/6/7/8 and fusion 16/32 (other fields at their defaults)."""

    name = "pulse_student"
    arch_type = PulseStudentArch
    gene_grid = (
        ("width", (4, 6, 7, 8), "block channels are width x 2/3/4"),
        ("fusion", (16, 32), "output channels of the modality-wise convolution"),
    )

    def make(self, arch: PulseStudentArch, input_shape: tuple[int, int], n_outputs: int) -> nn.Module:
        return PulseStudent(arch, input_shape[0], input_shape[1], n_outputs)

    def prunable(self, model: nn.Module) -> Prunable:
        """The output layer ``out``; the last extractor convolution keeps its width (its channels are interleaved
        with the rows on the modality-wise convolution's input)."""
        return Prunable(output=("out",), keep_width=("extractor.block2.conv2",))
