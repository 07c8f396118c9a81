"""CPU latency of int8 and structurally pruned networks, as ratios to the float network in the same run.

For a saved network (``model.pt`` + its run or study config) this measures, on the real test split:
accuracy of the float network, of int8 post-training quantisation (LSTM dynamic and LSTM float) and of
channel-pruned variants (fine-tuned for ``--finetune-epochs``), and their median latency at batch 1 and
batch 64. Variants are timed in interleaved rounds so that machine noise hits all of them alike; figures are
ratios against the float network (>1 = faster).

    BIOWEAR_DATA=../shared/data python benchmarks/int8_structured_latency.py \\
        runs/mitdb-binary-small/models/8d81d17b00f47858/2-1-6/model.pt \\
        --config runs/mitdb-binary-small/mitdb-binary-small.config.json
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from biowear.compress.int8 import Int8Config, int8_storage_bytes, quantize_int8
from biowear.compress.measure import measure_latency_ms
from biowear.compress.structured import structured_prune
from biowear.cost import profile
from biowear.data import make_split, prepare
from biowear.train import evaluate, fit
from biowear.train.artifacts import load_model, load_recipe


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model", type=Path)
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--ratios", default="0.25,0.5", help="structured channel ratios")
    p.add_argument("--finetune-epochs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    p.add_argument("--repeats", type=int, default=30, help="calls per round")
    args = p.parse_args()

    data_cfg, split_cfg, train_cfg = load_recipe(args.config)
    saved = load_model(args.model)
    model, genes = saved.model, saved.arch
    model.eval()
    data = prepare(data_cfg)
    split = make_split(data, split_cfg)
    shape = tuple(data.x.shape[1:])
    arrays = (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
    x_test, y_test = data.x[split.test], data.y[split.test]
    print(f"{genes.label()} on {len(y_test)} test windows" + (" (SYNTHETIC)" if data.synthetic else ""))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, int8 engine x86")

    variants: dict[str, tuple[torch.nn.Module, float, int, float]] = {}

    def add(name: str, net: torch.nn.Module, storage: float, macs: int) -> None:
        variants[name] = (net, evaluate(net, x_test, y_test, data.classes).accuracy, macs, storage)

    base_cost = profile(model, shape)
    add("float32", model, base_cost.storage_bytes(32), base_cost.macs)
    for lstm in ("dynamic", "float"):
        q = quantize_int8(model, arrays[0], Int8Config(lstm=lstm))
        add(f"int8 PTQ (LSTM {lstm})", q, int8_storage_bytes(q), base_cost.macs)
    for ratio in (float(r) for r in args.ratios.split(",") if r.strip()):
        net = copy.deepcopy(model)
        structured_prune(net, shape, ratio)
        if args.finetune_epochs:
            fit(net, *arrays, config=replace(train_cfg, epochs=args.finetune_epochs, patience=0))
        net.cpu().eval()
        cost = profile(net, shape)
        add(f"structured {ratio:g}", net, cost.storage_bytes(32), cost.macs)
        q = quantize_int8(net, arrays[0])
        add(f"structured {ratio:g} + int8", q, int8_storage_bytes(q), cost.macs)

    batches = (1, 64)
    samples: dict[tuple[str, int], list[float]] = {(n, b): [] for n in variants for b in batches}
    for _ in range(args.rounds):
        for name, (net, *_rest) in variants.items():
            for b in batches:
                samples[(name, b)].append(measure_latency_ms(net, shape, args.repeats, batch_size=b))
    base_acc = variants["float32"][1]
    print(
        f"{'variant':<28}{'accuracy':>9}{'Δpp':>7}{'storage kB':>12}{'MMACs':>8}"
        f"{'ms b=1':>9}{'speed-up':>9}{'ms b=64':>9}{'speed-up':>9}"
    )
    for name, (_net, acc, macs, storage) in variants.items():
        t1, t64 = (float(np.median(samples[(name, b)])) for b in batches)
        r1 = float(np.median(samples[("float32", 1)])) / t1
        r64 = float(np.median(samples[("float32", 64)])) / t64
        print(
            f"{name:<28}{acc:>9.4f}{100 * (base_acc - acc):>7.2f}{storage / 1e3:>12.1f}{macs / 1e6:>8.2f}"
            f"{t1:>9.3f}{r1:>8.2f}x{t64:>9.3f}{r64:>8.2f}x"
        )


if __name__ == "__main__":
    main()
