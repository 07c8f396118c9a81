"""Model families as plugins: one :class:`Family` per architecture family, registered in :data:`FAMILIES`.

A family turns a frozen architecture dataclass into a network (``build``), parses and formats it (``parse``,
``label``, ``key``, ``to_dict``/``from_dict``), names its default, maps duplicates to one representative
(``canonical``), declares its search genes (``genes`` with full value grids, ``from_genes``/``gene_values``) so
any registered family can be explored, and says what compression may prune (``prunable``). Adding a family is
one module with a :class:`Family` subclass plus one registration line in :mod:`biowear.models`.

Cost: :func:`biowear.cost.profile` measures any network made of the layers it has rules for; a family that
brings a layer of its own exposes the rule through :meth:`Family.cost_rules` (``models`` sits below ``cost``,
so a rule returns ``(macs, flops, workspace_elems)`` rather than a cost object).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.registry import Registry

#: A family-specific cost rule: (module, inputs, output) -> (macs, flops, workspace_elems) for one sample.
CostRule = Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], tuple[int, int, int]]


@dataclass(frozen=True)
class Gene:
    """One searchable dimension of a family.

    Args:
        name: the key used in ``[space]`` bounds and in :meth:`Family.from_genes`.
        values: the full grid, ascending; a chromosome encodes an index into it.
        doc: one line for help texts.
    """

    name: str
    values: tuple[int, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.values or list(self.values) != sorted(set(self.values)):
            raise ValueError(f"gene {self.name!r} needs distinct ascending values, got {self.values}")

    @property
    def bits(self) -> int:
        """Chromosome bits: enough for every index of the full grid (at least one)."""
        return max(1, (len(self.values) - 1).bit_length())


@dataclass(frozen=True)
class Prunable:
    """What compression may prune in one built network, by module name (``model.named_modules()``).

    Attributes:
        output: the output layer(s): one unit per output, never pruned structurally; a family's advice for
            unstructured pruning too (keep it dense).
        keep_width: modules whose output channels structured pruning must leave (for ResNet-LSTM the stem
            convolution and each block's second convolution, which write the zero-padded residual stream).
        recurrent: ``(lstm, consumer)`` pairs: a :class:`LastStepLSTM` kept out of Torch-Pruning's graph whose hidden
            units are pruned separately, and the dense layer reading them.
    """

    output: tuple[str, ...] = ()
    keep_width: tuple[str, ...] = ()
    recurrent: tuple[tuple[str, str], ...] = ()

    def ignored_modules(self, model: nn.Module) -> list[nn.Module]:
        """The modules structured pruning must not touch (Torch-Pruning's ``ignored_layers``): recurrent layers'
        inner ``nn.LSTM``, the residual-stream writers and the output layer, in that order."""
        named = dict(model.named_modules())
        lstms = [m for name, _ in self.recurrent for m in named[name].modules() if isinstance(m, nn.LSTM)]
        return [*lstms, *(named[n] for n in self.keep_width), *(named[n] for n in self.output)]


class Family(ABC):
    """A model family: architecture type, parsing, building, genes and pruning advice.

    Subclasses set :attr:`name` and :attr:`arch_type` (a frozen dataclass) and implement the abstract methods.
    """

    name: str = "family"
    arch_type: type = object
    #: One sample's ``(channels, samples)`` the contract checks build with (a multi-sensor family names its own).
    example_input_shape: tuple[int, int] = (1, 128)

    # ------------------------------------------------------------ architectures
    @abstractmethod
    def default(self) -> Any:
        """The architecture used when none is given."""

    @abstractmethod
    def parse(self, text: str | None) -> Any:
        """An architecture from text (``None``: :meth:`default`); raises :class:`ConfigError` on bad text."""

    @abstractmethod
    def label(self, arch: Any) -> str:
        """Human-readable text that :meth:`parse` turns back into ``arch``."""

    @abstractmethod
    def key(self, arch: Any) -> str:
        """A stable, filesystem-safe identifier (model folders and store rows use it)."""

    def to_dict(self, arch: Any) -> dict[str, Any]:
        """JSON-ready fields of ``arch`` (without the family name)."""
        self.check(arch)
        return {f.name: getattr(arch, f.name) for f in fields(arch) if f.name != "family"}

    def from_dict(self, d: Mapping[str, Any]) -> Any:
        """Inverse of :meth:`to_dict` (a ``family`` key is ignored)."""
        valid = {f.name for f in fields(self.arch_type) if f.name != "family"}
        unknown = sorted(set(d) - valid - {"family"})
        if unknown:
            raise ConfigError(
                f"{self.name} architecture has unknown field(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
            )
        return self.arch_type(**{k: v for k, v in d.items() if k in valid})

    def canonical(self, arch: Any) -> Any:
        """The representative of every architecture that builds the identical network (default: itself)."""
        return arch

    def check(self, arch: Any) -> None:
        """Raise :class:`ConfigError` unless ``arch`` belongs to this family."""
        if not isinstance(arch, self.arch_type):
            raise ConfigError(f"{arch!r} is not a {self.name} architecture ({self.arch_type.__name__})")

    # ------------------------------------------------------------ networks
    @abstractmethod
    def make(self, arch: Any, input_shape: tuple[int, int], n_outputs: int) -> nn.Module:
        """Construct the network (weights from the current torch RNG); :meth:`build` wraps it."""

    def build(
        self,
        arch: Any,
        input_shape: Sequence[int],
        n_outputs: int,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> nn.Module:
        """The network for ``arch`` taking ``(B, channels, samples)`` and returning ``(B, n_outputs)``.

        Args:
            input_shape: one sample's ``(channels, samples)``.
            n_outputs: one logit per class, or 1 for regression.
            seed: reproducible initial weights (the global torch RNG is left untouched).
            device: ``"meta"`` builds shapes only (for costing, no memory).
        """
        self.check(arch)
        shape = (int(input_shape[0]), int(input_shape[1]))
        if shape[0] < 1 or shape[1] < 1 or n_outputs < 1:
            raise ConfigError(f"need channels, samples and n_outputs >= 1, got {shape} and {n_outputs}")
        if device is not None and torch.device(device).type == "meta":
            with torch.device("meta"):
                return self.make(arch, shape, n_outputs)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            model = self.make(arch, shape, n_outputs)
        return model.to(device) if device is not None else model

    def cost_rules(self) -> Mapping[type[nn.Module], CostRule]:
        """Cost rules for layer types of this family that :mod:`biowear.cost` does not know (default none)."""
        return {}

    @abstractmethod
    def prunable(self, model: nn.Module) -> Prunable:
        """What compression may prune in ``model`` (a network this family built)."""

    def prune_ignore(self, model: nn.Module) -> list[nn.Module]:
        """Modules structured pruning must leave alone (see :meth:`Prunable.ignored_modules`)."""
        return self.prunable(model).ignored_modules(model)

    # ------------------------------------------------------------ search genes
    @abstractmethod
    def genes(self) -> tuple[Gene, ...]:
        """The searchable genes with their full grids, in chromosome order."""

    @abstractmethod
    def from_genes(self, values: Mapping[str, int]) -> Any:
        """The architecture of one value per gene."""

    @abstractmethod
    def gene_values(self, arch: Any) -> dict[str, int]:
        """One value per gene of ``arch`` (inverse of :meth:`from_genes`)."""

    def gene(self, name: str) -> Gene:
        for g in self.genes():
            if g.name == name:
                return g
        raise ConfigError(
            f"family {self.name} has no gene {name!r}; valid options are: {', '.join(g.name for g in self.genes())}"
        )


FAMILIES: Registry[Family] = Registry("model family")


def family_for(arch: object) -> Family:
    """The registered family whose architecture type ``arch`` is.

    Raises:
        ConfigError: no registered family owns this type.
    """
    for name in FAMILIES:
        family = FAMILIES.get(name)
        if type(arch) is family.arch_type:
            return family
    raise ConfigError(
        f"{type(arch).__name__} is no registered family's architecture; families are: {', '.join(FAMILIES.names())}"
    )


def get_family(family: str | Family) -> Family:
    """A family by name (error lists the registered ones) or the family object itself."""
    return family if isinstance(family, Family) else FAMILIES.get(family)


def module_name(model: nn.Module, module: nn.Module) -> str:
    """The qualified name of ``module`` inside ``model``."""
    for name, m in model.named_modules():
        if m is module:
            return name
    raise ValueError("module is not part of the model")


def family_of_network(model: nn.Module) -> tuple[Family, Any] | None:
    """The registered family and architecture a network was built from (its ``genes``/``spec``/``arch``
    attribute), or None for a network no family built."""
    for attr in ("arch", "genes", "spec"):
        arch = getattr(model, attr, None)
        if arch is None:
            continue
        try:
            return family_for(arch), arch
        except ConfigError:
            continue
    return None
