"""Profiling a network: one forward pass with hooks -> per-layer and whole-network cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from biowear.cost.rules import find_rule, inference_buffers
from biowear.errors import ConfigError
from biowear.registry import Registry

#: Weight layouts of the closed-form storage estimate: bits of position information per parameter.
STORAGE_FORMATS: Registry[str] = Registry("storage format")
STORAGE_FORMATS.register("dense", "every value stored")
STORAGE_FORMATS.register("bitmask", "non-zero values + one bit per parameter")
STORAGE_FORMATS.register("csr", "non-zero values + an index_bits position per non-zero")


@dataclass(frozen=True)
class LayerCost:
    """Cost of one layer call for one sample.

    Attributes:
        name: module path in the network (``blocks.2.conv1``).
        kind: module class name.
        params: trainable parameters (counted once per module, on its first call).
        nonzero_params: trainable parameters that are not exactly zero (pruning).
        buffers: inference-time non-trainable values (batch-norm statistics).
        macs, flops: per-sample operation counts (see :mod:`biowear.cost.rules`).
        effective_macs: MACs scaled by the layer's weight density (what a sparse kernel executes).
        output_shape: per-sample output shape.
        workspace_elems: scratch values the layer needs while running (LSTM state and gates).
    """

    name: str
    kind: str
    params: int
    nonzero_params: int
    buffers: int
    macs: int
    flops: int
    effective_macs: int
    output_shape: tuple[int, ...]
    workspace_elems: int


@dataclass(frozen=True)
class CostReport:
    """Whole-network cost for one input shape (one sample)."""

    input_shape: tuple[int, ...]
    layers: tuple[LayerCost, ...]
    peak_activation_elems: int

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def nonzero_params(self) -> int:
        return sum(layer.nonzero_params for layer in self.layers)

    @property
    def buffers(self) -> int:
        return sum(layer.buffers for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def effective_macs(self) -> int:
        return sum(layer.effective_macs for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def sparsity(self) -> float:
        """Fraction of trainable parameters that are zero."""
        return 1.0 - self.nonzero_params / self.params if self.params else 0.0

    def storage_bytes(
        self, bits: int = 32, sparsity: float | None = None, fmt: str = "dense", index_bits: int = 16
    ) -> float:
        """Bytes to store the network's weights (parameters + inference buffers).

        Args:
            bits: bits per stored value, 1..32.
            sparsity: fraction of zero parameters; default: the measured one. Ignored for ``dense``.
            fmt: ``dense`` (every value), ``bitmask`` (non-zero values + one bit per parameter) or
                ``csr`` (non-zero values + an ``index_bits`` position per non-zero).
            index_bits: bits per index for ``csr``.
        """
        if not 1 <= bits <= 32:
            raise ConfigError(f"bits must be within 1..32, got {bits}")
        STORAGE_FORMATS.get(fmt)
        s = self.sparsity if sparsity is None else sparsity
        if not 0.0 <= s < 1.0:
            raise ConfigError(f"sparsity must be within [0, 1), got {s}")
        buffers_bits = self.buffers * bits
        if fmt == "dense":
            return (self.params * bits + buffers_bits) / 8
        nonzero = round(self.params * (1 - s))
        index = self.params if fmt == "bitmask" else nonzero * index_bits
        return (nonzero * bits + index + buffers_bits) / 8

    def peak_activation_bytes(self, bits: int = 32) -> float:
        """Peak RAM for activations with layer-by-layer execution, at ``bits`` per value."""
        return self.peak_activation_elems * bits / 8

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.update(
            params=self.params,
            macs=self.macs,
            flops=self.flops,
            storage_bytes_fp32=self.storage_bytes(32),
            peak_activation_bytes_fp32=self.peak_activation_bytes(32),
        )
        return d


def _hooked_modules(model: nn.Module, rules: Mapping | None = None) -> list[tuple[str, nn.Module]]:
    """Modules with a cost rule, outermost first; descendants of a ruled module are skipped."""
    out: list[tuple[str, nn.Module]] = []
    covered: list[str] = []
    for name, m in model.named_modules():
        if any(name.startswith(c + ".") for c in covered):
            continue
        if find_rule(m, rules) is not None:
            out.append((name, m))
            covered.append(name)
        elif not list(m.children()) and any(True for _ in m.parameters(recurse=False)):
            raise ConfigError(f"the cost model has no rule for layer {name} ({type(m).__name__})")
    return out


def profile(model: nn.Module, input_shape: Sequence[int], rules: Mapping | None = None) -> CostReport:
    """Run one forward pass of a single sample and account every layer.

    Args:
        model: any network made of layers with a cost rule (see :data:`biowear.cost.rules.RULES`).
            A model on the ``meta`` device is profiled without allocating memory.
        input_shape: per-sample input shape, e.g. ``(1, 256)`` for one lead of 256 samples.
        rules: extra layer-type rules, e.g. a model family's ``cost_rules()`` (they take precedence).

    Returns:
        The cost report. Peak activation RAM assumes layer-by-layer execution in call order: at each
        layer the live tensors are its inputs, its output, the layer's workspace, and every earlier
        tensor still needed later (e.g. a residual shortcut).
    """
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    events: list[tuple[str, nn.Module, tuple[torch.Tensor, ...], torch.Tensor]] = []
    handles = []
    for name, m in _hooked_modules(model, rules):

        def hook(mod, inputs, output, _name=name):
            tensors = tuple(t for t in inputs if isinstance(t, torch.Tensor))
            if isinstance(output, (tuple, list)):  # e.g. attention's (output, weights): the output counts
                output = output[0]
            events.append((_name, mod, tensors, output))

        handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.zeros((1, *input_shape), device=device)
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    layers = _layer_costs(events, rules)
    return CostReport(tuple(input_shape), layers, _peak_elems(x, events, [layer.workspace_elems for layer in layers]))


def _layer_costs(events, rules: Mapping | None = None) -> tuple[LayerCost, ...]:
    seen: set[int] = set()
    layers = []
    for name, m, inputs, out in events:
        cost = find_rule(m, rules)(m, inputs, out)  # type: ignore[misc]
        first = id(m) not in seen  # a layer called twice stores its weights once
        seen.add(id(m))
        weights = [p for n, p in m.named_parameters() if not n.endswith("bias") and "bias_" not in n]
        biases = [p for n, p in m.named_parameters() if n.endswith("bias") or "bias_" in n]
        dense = sum(p.numel() for p in weights)
        nonzero_w = _count_nonzero(weights)
        density = nonzero_w / dense if dense else 1.0
        layers.append(
            LayerCost(
                name=name,
                kind=type(m).__name__,
                params=dense + sum(p.numel() for p in biases) if first else 0,
                nonzero_params=nonzero_w + _count_nonzero(biases) if first else 0,
                buffers=inference_buffers(m) if first else 0,
                macs=cost.macs,
                flops=cost.flops,
                effective_macs=round(cost.macs * density),
                output_shape=_sample_shape(out),
                workspace_elems=cost.workspace_elems,
            )
        )
    return tuple(layers)


def _sample_shape(t: torch.Tensor) -> tuple[int, ...]:
    """The shape of one sample's tensor: the batch axis of 1 dropped; rows folded into it (PULSE) kept."""
    return tuple(t.shape[1:]) if t.shape[0] == 1 else tuple(t.shape)


def _count_nonzero(params: list[torch.Tensor]) -> int:
    total = 0
    for p in params:
        total += p.numel() if p.device.type == "meta" else int(torch.count_nonzero(p))
    return total


def _peak_elems(graph_input: torch.Tensor, events, workspaces: list[int]) -> int:
    """Liveness analysis over the recorded calls (tensors identified by object identity)."""

    def size(t: torch.Tensor) -> int:
        return t.numel()  # one sample (its rows may be folded into the batch axis)

    produced: dict[int, int] = {id(graph_input): -1}
    last_use: dict[int, int] = {}
    sizes: dict[int, int] = {id(graph_input): size(graph_input)}
    for i, (_, _, inputs, out) in enumerate(events):
        for t in inputs:
            produced.setdefault(id(t), i)  # a tensor made outside a hooked layer counts from first use
            sizes[id(t)] = size(t)
            last_use[id(t)] = i
        produced[id(out)] = i
        sizes[id(out)] = size(out)
        last_use.setdefault(id(out), i)
    if events:
        last_use[id(events[-1][3])] = len(events)  # the network output stays live
    peak = 0
    for i, workspace in enumerate(workspaces):
        live = sum(s for t, s in sizes.items() if produced[t] <= i <= last_use.get(t, produced[t]))
        peak = max(peak, live + workspace)
    return peak
