"""Hardware figures of the heart-rate networks: parameters, storage, MACs, peak RAM, MCU latency and energy.

Latency and energy are the first-order platform estimates of :mod:`biowear.bench.platforms` (cycles per
operation class x operations, at the platform's clock and active power): MACs and the remaining FLOPs of
one window's inference, in floating point for fp32 networks and integer arithmetic for int8 ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from biowear.bench.platforms import PLATFORMS
from biowear.compress.int8 import Int8Network, int8_storage_bytes
from biowear.cost.profile import CostReport, profile
from biowear.kernels.profiler import OpCounts
from biowear.models.family import family_of_network
from biowear.train.target import unwrap


@dataclass(frozen=True)
class ModelCost:
    """One network's figures for one window."""

    params: int
    storage_kB_fp32: float
    storage_kB_int8: float
    macs: int
    flops: int
    peak_ram_kB: float
    latency_ms: float
    energy_mJ: float
    platform: str
    arithmetic: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def float_profile(model: nn.Module, input_shape: tuple[int, int]) -> CostReport:
    """The exact cost report of a float network, with its family's cost rules."""
    found = family_of_network(unwrap(model)[0])
    rules = found[0].cost_rules() if found else None
    return profile(model, input_shape, rules or None)


def model_cost(
    model: nn.Module,
    input_shape: tuple[int, int],
    platform: str,
    int8: Int8Network | None = None,
) -> ModelCost:
    """Figures of ``model`` (float), or of its int8 conversion ``int8`` (then storage is the int8 network's
    real bytes, peak RAM at one byte per activation, and latency/energy in integer arithmetic)."""
    cost = float_profile(model, input_shape)
    plat = PLATFORMS.get(platform)
    ops = OpCounts(macs=cost.macs, adds=max(0, cost.flops - 2 * cost.macs))
    floating = int8 is None
    seconds = plat.cycles(ops, floating=floating) / plat.clock_hz.value
    return ModelCost(
        params=cost.params,
        storage_kB_fp32=round(cost.storage_bytes(32) / 1e3, 2),
        storage_kB_int8=round((int8_storage_bytes(int8) if int8 is not None else cost.storage_bytes(8)) / 1e3, 2),
        macs=cost.macs,
        flops=cost.flops,
        peak_ram_kB=round(cost.peak_activation_bytes(32 if floating else 8) / 1e3, 2),
        latency_ms=round(seconds * 1e3, 3),
        energy_mJ=round(seconds * plat.active_w.value * 1e3, 4),
        platform=platform,
        arithmetic="fp32" if floating else "int8",
    )
