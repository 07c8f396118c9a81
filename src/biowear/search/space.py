"""The searchable architecture space of any registered model family: bounds, chromosome, hardware constraints.

Every gene of the family (:meth:`biowear.models.Family.genes`) has a full value grid; the chromosome concatenates,
per gene, the index of its value in the FULL grid in ``Gene.bits`` bits (most significant first). For
``resnet_lstm`` this is BioNetExplorer's chromosome (Prabakaran et al. 2021, Fig. 5): 4 bits for the residual
blocks (0..15), 2 bits for the filter-doubling period x (1..4), 3 bits for the LSTM exponent z (4..8; codes
5..7 lie beyond the grid). A chromosome whose index lies beyond a grid, or whose point lies outside the user's
bounds, decodes to None: it gets fitness 0 and is never trained.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import product
from typing import Any

from biowear.cost import CostReport, profile
from biowear.errors import ConfigError
from biowear.models import Family, Gene, get_family
from biowear.search.constraints import Constraints
from biowear.search.objective import HARDWARE_MEASURES


def resolve_bounds(family: str | Family, bounds: Mapping[str, Sequence[int]] | None) -> dict[str, tuple[int, int]]:
    """Inclusive ``(low, high)`` bounds for every gene of ``family``; a gene not named spans its full grid.

    Raises:
        ConfigError: an unknown gene (the message lists the family's genes), a bound that is not two integers, or
            bounds outside the gene's grid / holding none of its values.
    """
    fam = get_family(family)
    bounds = dict(bounds or {})
    names = [g.name for g in fam.genes()]
    unknown = sorted(set(bounds) - set(names))
    if unknown:
        raise ConfigError(
            f"[space] has unknown key(s) {', '.join(unknown)} for family {fam.name}; valid keys are: {', '.join(names)}"
        )
    resolved: dict[str, tuple[int, int]] = {}
    for gene in fam.genes():
        pair = bounds.get(gene.name, (gene.values[0], gene.values[-1]))
        if isinstance(pair, (str, bytes)) or len(pair) != 2 or not all(isinstance(v, int) for v in pair):
            raise ConfigError(f"[space] {gene.name} needs two integers [low, high], got {pair!r}")
        lo, hi = pair
        full_lo, full_hi = gene.values[0], gene.values[-1]
        if not full_lo <= lo <= hi <= full_hi or not any(lo <= v <= hi for v in gene.values):
            raise ConfigError(
                f"bounds of {gene.name} must satisfy {full_lo} <= low <= high <= {full_hi} "
                f"(values {', '.join(map(str, gene.values))}), got ({lo}, {hi})"
            )
        resolved[gene.name] = (int(lo), int(hi))
    return resolved


@dataclass(frozen=True)
class ArchitectureSpace:
    """A user-bounded architecture space of one family for one input shape and output count
    (implements :class:`biowear.search.protocol.SearchSpace`).

    Args:
        family: a registered family name (or a :class:`Family`).
        bounds: ``{gene: (low, high)}`` inclusive value bounds; a gene not named spans its full grid.
        input_shape: one sample's ``(channels, samples)``.
        n_outputs: output units (classes, or 1 for regression).
        constraints: hardware/quality limits.

    Raises:
        ConfigError: unknown family or gene (the message lists the valid ones), or bounds outside a gene's grid.
    """

    family: str = "resnet_lstm"
    bounds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    input_shape: tuple[int, int] = (1, 256)
    n_outputs: int = 2
    constraints: Constraints = Constraints()

    def __post_init__(self) -> None:
        fam = self.family_obj
        object.__setattr__(self, "family", fam.name)
        object.__setattr__(self, "bounds", resolve_bounds(fam, self.bounds))

    def __hash__(self) -> int:
        return hash((self.family, tuple(self.bounds.items()), self.input_shape, self.n_outputs, self.constraints))

    @property
    def family_obj(self) -> Family:
        return get_family(self.family)

    @property
    def genes(self) -> tuple[Gene, ...]:
        return self.family_obj.genes()

    def values(self, gene: Gene) -> tuple[int, ...]:
        """The grid values of ``gene`` inside the bounds."""
        lo, hi = self.bounds[gene.name]
        return tuple(v for v in gene.values if lo <= v <= hi)

    # ------------------------------------------------------------ the protocol
    @cached_property
    def points(self) -> tuple[Any, ...]:
        """Every point inside the bounds (feasible or not), in gene order (first gene slowest)."""
        fam, genes = self.family_obj, self.genes
        return tuple(
            fam.from_genes(dict(zip((g.name for g in genes), combo)))
            for combo in product(*(self.values(g) for g in genes))
        )

    @property
    def chromosome_length(self) -> int:
        return sum(g.bits for g in self.genes)

    def contains(self, arch: Any) -> bool:
        fam = self.family_obj
        if not isinstance(arch, fam.arch_type):
            return False
        values = fam.gene_values(arch)
        if fam.from_genes(values) != arch:  # fields the genes do not span differ from the gene grid's
            return False
        return all(v in self.values(g) for g, v in ((g, values[g.name]) for g in self.genes))

    def encode(self, arch: Any) -> tuple[int, ...]:
        """The chromosome of a point (per gene, its full-grid index in ``Gene.bits`` bits)."""
        values = self.family_obj.gene_values(arch)
        bits: list[int] = []
        for gene in self.genes:
            if values[gene.name] not in gene.values:
                raise ConfigError(f"{gene.name}={values[gene.name]} is not in the grid {list(gene.values)}")
            index = gene.values.index(values[gene.name])
            bits.extend((index >> (gene.bits - 1 - i)) & 1 for i in range(gene.bits))
        return tuple(bits)

    def decode_indices(self, bits: Sequence[int]) -> tuple[int, ...]:
        """Per-gene grid indices a chromosome encodes, without range checks.

        Raises:
            ConfigError: wrong length or a value other than 0/1.
        """
        n = self.chromosome_length
        if len(bits) != n or any(b not in (0, 1) for b in bits):
            raise ConfigError(f"a chromosome is {n} bits of 0/1, got {list(bits)}")
        out, pos = [], 0
        for gene in self.genes:
            index = 0
            for b in bits[pos : pos + gene.bits]:
                index = (index << 1) | int(b)
            out.append(index)
            pos += gene.bits
        return tuple(out)

    def decode(self, bits: Sequence[int]) -> Any | None:
        """The point a chromosome encodes, or None beyond a gene's grid or outside the bounds."""
        values = {}
        for gene, index in zip(self.genes, self.decode_indices(bits)):
            if index >= len(gene.values):
                return None
            values[gene.name] = gene.values[index]
        arch = self.family_obj.from_genes(values)
        return arch if self.contains(arch) else None

    def canonical(self, arch: Any) -> Any:
        return self.family_obj.canonical(arch)

    def sample(self, rng: random.Random) -> Any:
        """A uniformly drawn feasible point."""
        return rng.choice(self.feasible_points)

    # ------------------------------------------------------------ cost and feasibility
    @cached_property
    def _costs(self) -> dict[Any, CostReport]:
        return {a: self._profile(a) for a in self.points}

    def _profile(self, arch: Any) -> CostReport:
        fam = self.family_obj
        model = fam.build(arch, self.input_shape, self.n_outputs, device="meta")
        return profile(model, self.input_shape, fam.cost_rules() or None)

    def with_costs(self, costs: Mapping[Any, Any]) -> ArchitectureSpace:
        """This space with known costs for some points (e.g. a tabular benchmark's), so they are not profiled
        again; a value needs what constraints and hardware measures read (``storage_bytes(32)``, ``flops``,
        ``peak_activation_bytes(32)``, ``params``). Points without one are profiled as usual."""
        clone = replace(self)
        clone.__dict__["_costs"] = {a: costs[a] if a in costs else self._profile(a) for a in self.points}
        return clone

    def cost(self, arch: Any) -> CostReport:
        """Exact cost of a point (shape-only profile, computed once per space)."""
        return self._costs[arch] if arch in self._costs else self._profile(arch)

    def violation(self, arch: Any) -> str | None:
        """Why a point is hardware-infeasible, or None when it is feasible."""
        return self.constraints.hardware_violation(self.cost(arch))

    @cached_property
    def feasible_points(self) -> tuple[Any, ...]:
        """Points that satisfy the hardware constraints.

        Raises:
            ConfigError: no point does; the message gives the smallest achievable values.
        """
        ok = tuple(a for a in self.points if self.violation(a) is None)
        if not ok:
            costs = [self.cost(a) for a in self.points]
            raise ConfigError(
                "no network of the space satisfies the hardware constraints; the smallest achievable are "
                f"storage {min(c.storage_bytes(32) for c in costs):,.0f} B, FLOPs {min(c.flops for c in costs):,}, "
                f"peak RAM {min(c.peak_activation_bytes(32) for c in costs):,.0f} B, "
                f"params {min(c.params for c in costs):,}"
            )
        return ok

    def hardware_value(self, arch: Any, kind: str) -> float:
        """The hardware measure ``kind`` (see :data:`HARDWARE_MEASURES`) of a point."""
        return HARDWARE_MEASURES.get(kind)(self.cost(arch))

    def max_hardware(self, kind: str) -> float:
        """Largest value of a hardware measure over the feasible points (normaliser of the hardware score)."""
        if kind not in self._max_hardware:
            self._max_hardware[kind] = max(self.hardware_value(a, kind) for a in self.feasible_points)
        return self._max_hardware[kind]

    @cached_property
    def _max_hardware(self) -> dict[str, float]:
        return {}

    def label(self, arch: Any) -> str:
        return self.family_obj.label(arch)

    def to_dict(self) -> dict[str, object]:
        return {
            "family": self.family,
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "input_shape": list(self.input_shape),
            "n_outputs": self.n_outputs,
        }


def Space(  # noqa: N802 - the ResNet-LSTM space of earlier releases, kept as a constructor
    blocks: tuple[int, int] = (0, 15),
    x: tuple[int, int] = (1, 4),
    lstm_exp: tuple[int, int] = (4, 8),
    input_shape: tuple[int, int] = (1, 256),
    n_classes: int = 2,
    constraints: Constraints = Constraints(),
) -> ArchitectureSpace:
    """The bounded ``resnet_lstm`` space (gene bounds as keyword arguments)."""
    return ArchitectureSpace(
        "resnet_lstm", {"blocks": blocks, "x": x, "lstm_exp": lstm_exp}, input_shape, n_classes, constraints
    )


_FULL = Space()


def encode(genes: Any) -> tuple[int, ...]:
    """The chromosome of a ``resnet_lstm`` point (9 bits, 4+2+3)."""
    return _FULL.encode(genes)


def decode_raw(bits: Sequence[int]) -> tuple[int, int, int]:
    """(blocks, x, lstm_exp) a 9-bit ``resnet_lstm`` chromosome encodes, without range checks."""
    b, x, z = _FULL.decode_indices(bits)
    return b, x + 1, z + 4


__all__ = ["ArchitectureSpace", "Constraints", "Space", "decode_raw", "encode", "resolve_bounds"]
