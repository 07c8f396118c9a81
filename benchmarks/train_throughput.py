"""Training throughput of grid networks, as a fraction of this machine's dense matmul rate.

Prints, per network and input length: training samples/s of :func:`biowear.train.fit` (the one training loop,
with its defaults: Adam, gradient clipping, per-epoch validation) and achieved GFLOP/s (3 x forward FLOPs per
sample: forward + backward), and the ratio to a float32 1024^3 matmul. The matmul is measured right before
each network's measurement, with the same thread count, so that every ratio compares two figures taken
under the same load; each pair is repeated ``--rounds`` times, round-robin over the networks, and the
median and the spread (min..max) of the ratio are reported. Absolute numbers vary with the machine and its
load; the ratio is what to compare.

One measurement trains a fresh network for two epochs of ``--steps`` batches (plus a one-batch validation
set) and times the second epoch (the first one creates the kernels' primitives).

With ``--plain``, every network is also measured on the plain training path (``set_fast_conv(False)``: torch's
own channels-first convolutions and dropout), interleaved with the fast one, as the in-run baseline.

    python benchmarks/train_throughput.py [--batch 128] [--steps 10] [--rounds 5] [--threads 1 2]
        [--length 256] [--networks blocks=2,x=2,lstm=32 ...] [--compile] [--plain]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from biowear.cost import profile
from biowear.cost.grid import SPREAD
from biowear.models import ResNetLSTMGenes, build
from biowear.models.layers import set_fast_conv
from biowear.train import TrainConfig, fit


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    """Float32 ``n x n`` matmul rate in GFLOP/s (median of ``reps`` timed products after one warm-up)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def train_rate(genes: ResNetLSTMGenes, batch: int, steps: int, length: int, compile_model: bool) -> tuple[float, float]:
    """(training samples/s of the second epoch, seconds of the first epoch) of ``fit`` on random data."""
    rng = np.random.default_rng(0)
    n = batch * steps
    x = rng.standard_normal((n + batch, 1, length)).astype(np.float32)
    y = rng.integers(0, 2, n + batch)
    model = build(genes, 1, 2, seed=0)
    net = torch.compile(model) if compile_model else model
    config = TrainConfig(epochs=2, batch_size=batch, patience=0, device="cpu")
    result = fit(net, x[:n], y[:n], x[n:], y[n:], config)
    first, second = result.history
    return n / second.seconds, first.seconds


@dataclass
class Row:
    """The measurements of one network at one length and thread count."""

    label: str
    length: int
    flops: float
    fast: bool = True
    rates: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    first_epoch_s: list[float] = field(default_factory=list)

    def line(self) -> str:
        rate = statistics.median(self.rates)
        achieved = 3 * self.flops * rate / 1e9
        ratio = statistics.median(self.ratios)
        spread = f"{min(self.ratios):.0%}..{max(self.ratios):.0%}"
        first = statistics.median(self.first_epoch_s)
        return (
            f"{self.label + ('' if self.fast else ' (plain)'):<32}{self.length:>5}{self.flops / 1e6:>11.2f}"
            f"{rate:>11.0f}{achieved:>9.2f}"
            f"{ratio:>9.1%}{spread:>12}{first:>9.1f}"
        )


def run(args: argparse.Namespace, threads: int) -> None:
    torch.set_num_threads(threads)
    networks = [ResNetLSTMGenes.parse(t) for t in args.networks] if args.networks else list(SPREAD[:4])
    paths = (True, False) if args.plain else (True,)
    cases = [(g, n, fast) for n in args.length for g in networks for fast in paths]
    rows = [Row(g.label(), n, profile(build(g, 1, 2, device="meta"), (1, n)).flops, fast) for g, n, fast in cases]
    peaks = []
    for _ in range(args.rounds):
        for row, (genes, length, fast) in zip(rows, cases, strict=True):
            peak = matmul_gflops()
            previous = set_fast_conv(fast)
            try:
                rate, first = train_rate(genes, args.batch, args.steps, length, args.compile)
            finally:
                set_fast_conv(previous)
            peaks.append(peak)
            row.rates.append(rate)
            row.first_epoch_s.append(first)
            row.ratios.append(3 * row.flops * rate / 1e9 / peak)
    print(
        f"torch {torch.__version__}, {threads} thread(s), {args.rounds} rounds; fp32 matmul 1024^3: median "
        f"{statistics.median(peaks):.1f} GFLOP/s ({min(peaks):.1f}..{max(peaks):.1f})"
        + (", torch.compile" if args.compile else "")
    )
    print(
        f"{'network':<32}{'L':>5}{'MFLOPs/inf':>11}{'samples/s':>11}{'GFLOP/s':>9}{'of mm':>9}{'spread':>12}"
        f"{'1st ep s':>9}"
    )
    for row in rows:
        print(row.line())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10, help="training batches per epoch")
    p.add_argument("--rounds", type=int, default=5, help="interleaved (matmul, network) repetitions")
    p.add_argument("--threads", type=int, nargs="+", default=[1], help="torch thread counts, one table each")
    p.add_argument("--length", type=int, nargs="+", default=[256], help="input lengths in samples")
    p.add_argument("--networks", nargs="*", default=None, help="architectures (default: the 4 smaller SPREAD)")
    p.add_argument("--compile", action="store_true", help="train torch.compile(model) (1st ep s: compile cost)")
    p.add_argument("--plain", action="store_true", help="also measure the plain training path (in-run baseline)")
    args = p.parse_args()
    for threads in args.threads:
        run(args, threads)


if __name__ == "__main__":
    main()
