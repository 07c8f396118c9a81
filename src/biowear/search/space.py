"""The searchable architecture space: bounds, the 9-bit chromosome, hardware constraints.

The chromosome follows BioNetExplorer (Prabakaran et al. 2021, Fig. 5): 4 bits for the number of
residual blocks (0..15), 2 bits for the filter-doubling period x (1..4), 3 bits for the LSTM exponent
z (4..8; codes 5..7 decode to z = 9..11, which lie outside the space). A decode outside the user's bounds
is invalid too: it gets fitness 0 and is never trained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

from biowear.cost import CostReport, profile
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.models.resnet_lstm import BLOCKS_RANGE, LSTM_EXP_RANGE, X_RANGE

CHROMOSOME_BITS: tuple[int, int, int] = (4, 2, 3)
CHROMOSOME_LENGTH = sum(CHROMOSOME_BITS)


def encode(genes: ResNetLSTMGenes) -> tuple[int, ...]:
    """The 9-bit chromosome (most significant bit first) of a point."""
    values = (genes.blocks, genes.x - 1, genes.lstm_exp - LSTM_EXP_RANGE.start)
    bits: list[int] = []
    for value, width in zip(values, CHROMOSOME_BITS):
        bits.extend((value >> (width - 1 - i)) & 1 for i in range(width))
    return tuple(bits)


def decode_raw(bits: tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    """(blocks, x, lstm_exp) encoded by ``bits``, without range checks."""
    if len(bits) != CHROMOSOME_LENGTH or any(b not in (0, 1) for b in bits):
        raise ConfigError(f"a chromosome is {CHROMOSOME_LENGTH} bits of 0/1, got {list(bits)}")
    out, pos = [], 0
    for width in CHROMOSOME_BITS:
        value = 0
        for b in bits[pos : pos + width]:
            value = (value << 1) | int(b)
        out.append(value)
        pos += width
    return out[0], out[1] + 1, out[2] + LSTM_EXP_RANGE.start


@dataclass(frozen=True)
class Constraints:
    """Hardware and quality limits; None means unconstrained.

    Args:
        max_storage_bytes: fp32 weight storage (parameters + batch-norm statistics).
        max_flops: FLOPs per inference.
        max_peak_ram_bytes: peak activation RAM (fp32) for layer-by-layer execution.
        max_params: trainable parameters.
        min_quality: lowest acceptable value of the objective's quality metric (checked after training).
    """

    max_storage_bytes: float | None = None
    max_flops: float | None = None
    max_peak_ram_bytes: float | None = None
    max_params: float | None = None
    min_quality: float | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is not None and not value > 0:
                raise ConfigError(f"constraint {name} must be positive, got {value}")
        if self.min_quality is not None and self.min_quality > 1:
            raise ConfigError(f"min_quality is a ratio in (0, 1], got {self.min_quality}")

    def hardware_violation(self, cost: CostReport) -> str | None:
        """A sentence naming the first violated hardware limit, or None."""
        checks = (
            ("storage", cost.storage_bytes(32), self.max_storage_bytes, "B"),
            ("FLOPs", cost.flops, self.max_flops, ""),
            ("peak RAM", cost.peak_activation_bytes(32), self.max_peak_ram_bytes, "B"),
            ("parameters", cost.params, self.max_params, ""),
        )
        for name, value, limit, unit in checks:
            if limit is not None and value > limit:
                return f"{name} {value:,.0f}{unit} > {limit:,.0f}{unit}"
        return None


@dataclass(frozen=True)
class Space:
    """The user's bounded ResNet-LSTM space for one input shape and class count.

    Args:
        blocks, x, lstm_exp: inclusive (low, high) bounds of each gene.
        input_shape: per-sample input (channels, samples).
        n_classes: output classes.
        constraints: hardware/quality limits.
    """

    blocks: tuple[int, int] = (0, 15)
    x: tuple[int, int] = (1, 4)
    lstm_exp: tuple[int, int] = (4, 8)
    input_shape: tuple[int, int] = (1, 256)
    n_classes: int = 2
    constraints: Constraints = Constraints()

    def __post_init__(self) -> None:
        for name, (lo, hi), full in (
            ("blocks", self.blocks, BLOCKS_RANGE),
            ("x", self.x, X_RANGE),
            ("lstm_exp", self.lstm_exp, LSTM_EXP_RANGE),
        ):
            if not full.start <= lo <= hi <= full.stop - 1:
                raise ConfigError(
                    f"bounds of {name} must satisfy {full.start} <= low <= high <= {full.stop - 1}, got ({lo}, {hi})"
                )

    def contains(self, genes: ResNetLSTMGenes) -> bool:
        return (
            self.blocks[0] <= genes.blocks <= self.blocks[1]
            and self.x[0] <= genes.x <= self.x[1]
            and self.lstm_exp[0] <= genes.lstm_exp <= self.lstm_exp[1]
        )

    def decode(self, bits: tuple[int, ...] | list[int]) -> ResNetLSTMGenes | None:
        """The point a chromosome encodes, or None when it lies outside the space."""
        b, x, z = decode_raw(bits)
        if z not in LSTM_EXP_RANGE:
            return None
        genes = ResNetLSTMGenes(b, x, z)
        return genes if self.contains(genes) else None

    @cached_property
    def points(self) -> tuple[ResNetLSTMGenes, ...]:
        """Every point inside the bounds (feasible or not), in (blocks, x, lstm_exp) order."""
        return tuple(
            ResNetLSTMGenes(b, x, z)
            for b in range(self.blocks[0], self.blocks[1] + 1)
            for x in range(self.x[0], self.x[1] + 1)
            for z in range(self.lstm_exp[0], self.lstm_exp[1] + 1)
        )

    @cached_property
    def _costs(self) -> dict[ResNetLSTMGenes, CostReport]:
        return {
            g: profile(build(g, self.input_shape[0], self.n_classes, device="meta"), self.input_shape)
            for g in self.points
        }

    def cost(self, genes: ResNetLSTMGenes) -> CostReport:
        """Exact cost of a point (shape-only profile, computed once per space)."""
        if genes in self._costs:
            return self._costs[genes]
        return profile(build(genes, self.input_shape[0], self.n_classes, device="meta"), self.input_shape)

    def violation(self, genes: ResNetLSTMGenes) -> str | None:
        """Why a point is hardware-infeasible, or None when it is feasible."""
        return self.constraints.hardware_violation(self.cost(genes))

    @cached_property
    def feasible_points(self) -> tuple[ResNetLSTMGenes, ...]:
        """Points that satisfy the hardware constraints.

        Raises:
            ConfigError: no point does; the message gives the smallest achievable values.
        """
        ok = tuple(g for g in self.points if self.violation(g) is None)
        if not ok:
            costs = [self.cost(g) for g in self.points]
            raise ConfigError(
                "no network of the space satisfies the hardware constraints; the smallest achievable are "
                f"storage {min(c.storage_bytes(32) for c in costs):,.0f} B, FLOPs {min(c.flops for c in costs):,}, "
                f"peak RAM {min(c.peak_activation_bytes(32) for c in costs):,.0f} B, "
                f"params {min(c.params for c in costs):,}"
            )
        return ok

    def max_hardware(self, kind: str) -> float:
        """Largest storage (bytes) or FLOPs over the feasible points (normaliser of the hardware score)."""
        if kind not in self._max_hardware:
            self.hardware_value(self.feasible_points[0], kind)  # raises the 'valid options' error
        return self._max_hardware[kind]

    @cached_property
    def _max_hardware(self) -> dict[str, float]:
        return {kind: max(self.hardware_value(g, kind) for g in self.feasible_points) for kind in ("storage", "flops")}

    def hardware_value(self, genes: ResNetLSTMGenes, kind: str) -> float:
        cost = self.cost(genes)
        if kind == "storage":
            return cost.storage_bytes(32)
        if kind == "flops":
            return float(cost.flops)
        raise ConfigError(f"unknown hardware measure {kind!r}; valid options are: storage, flops")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
