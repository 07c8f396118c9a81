"""Exact hardware cost of a network: parameters, storage, MACs/FLOPs, peak activation RAM."""

from __future__ import annotations

from biowear.cost.profile import CostReport, LayerCost, profile

__all__ = ["CostReport", "LayerCost", "profile"]
