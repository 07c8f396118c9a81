"""Training throughput of grid networks, as a fraction of this machine's dense matmul rate.

Prints, per network: training samples/s and achieved GFLOP/s (3 x forward FLOPs per sample: forward +
backward), and the ratio to a float32 matmul measured in the same run, since absolute numbers vary with
the machine and its load.

    python benchmarks/train_throughput.py [--batch 128] [--steps 10]
"""

from __future__ import annotations

import argparse
import time

import torch

from biowear.cost import profile
from biowear.cost.grid import SPREAD
from biowear.models import ResNetLSTMGenes, build


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def train_rate(genes: ResNetLSTMGenes, batch: int, steps: int) -> float:
    model = build(genes, 1, 2, seed=0)
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(batch, 1, 256), torch.randint(0, 2, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    peak = matmul_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fp32 matmul 1024^3: {peak:.1f} GFLOP/s")
    print(f"{'network':<24}{'MFLOPs/inf':>12}{'samples/s':>12}{'GFLOP/s':>10}{'of matmul':>11}")
    for genes in SPREAD[:4]:  # the largest does not fit a quick CPU benchmark
        flops = profile(build(genes, 1, 2, device="meta"), (1, 256)).flops
        rate = train_rate(genes, args.batch, args.steps)
        achieved = 3 * flops * rate / 1e9
        print(f"{genes.label():<24}{flops / 1e6:>12.2f}{rate:>12.0f}{achieved:>10.2f}{achieved / peak:>10.1%}")


if __name__ == "__main__":
    main()
