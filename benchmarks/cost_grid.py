"""The cost of the BioNetExplorer grid: a table of spread-out points and counts under parameter caps.

python benchmarks/cost_grid.py
"""

from __future__ import annotations

import time

from biowear.cost.grid import SPREAD, grid_costs, points_under_cap


def main() -> None:
    t0 = time.perf_counter()
    costs = grid_costs((1, 256), 2)
    print(f"profiled 320 points (meta device) in {time.perf_counter() - t0:.1f} s")
    print(f"{'network':<24}{'params':>14}{'storage kB':>14}{'MFLOPs':>12}{'peak RAM kB':>13}")
    for g in SPREAD:
        c = costs[g]
        print(
            f"{g.label():<24}{c.params:>14,}{c.storage_bytes(32) / 1e3:>14,.1f}{c.flops / 1e6:>12,.2f}"
            f"{c.peak_activation_bytes(32) / 1e3:>13,.1f}"
        )
    ordered = sorted(c.params for c in costs.values())
    print(
        f"135th / 136th smallest parameter counts: {ordered[134]:,} / {ordered[135]:,} "
        f"-> any cap in [{ordered[134]:,}, {ordered[135] - 1:,}] keeps exactly 135 of 320"
    )
    for cap in (1e5, 3e5, 1e6, 1.05e6, 3e6, 1e7, 1.1e7, 3e7):
        print(f"cap {cap:>14,.0f} params: {points_under_cap(costs, cap):>3} points")


if __name__ == "__main__":
    main()
