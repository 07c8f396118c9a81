"""Multistage pruning vs one-shot prune + fine-tune at equal sparsity and equal fine-tuning budget.

The setting of the multistage-pruning work (seed 002): the Kachuee et al. (2018) CNN on 187-sample beats at
125 Hz, AAMI five classes, built from raw MIT-BIH. Prints accuracy, macro F1 and effective-MAC reduction of
the baseline, one-shot and multistage variants (each measured on the same test split).

    python benchmarks/multistage_vs_oneshot.py --dataset mitdb --sparsity 0.6 --epochs 10 --finetune-epochs 6
    python benchmarks/multistage_vs_oneshot.py --dataset synthetic_ecg --epochs 2 --finetune-epochs 2  # smoke
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import replace

from biowear.compress import multistage, one_shot, prune
from biowear.compress.prune import split_epochs
from biowear.cost import profile
from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare
from biowear.models import EcgCnnSpec, build_spec
from biowear.train import TrainConfig, evaluate, fit

#: Layer groups pruned in turn by the multistage schedule: deepest convolutions first, then shallower, then dense.
GROUPS = (("blocks.3.*", "blocks.4.*"), ("blocks.1.*", "blocks.2.*"), ("stem.*", "blocks.0.*"), ("head.*",))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="mitdb")
    p.add_argument("--split", default="random", choices=["random", "interpatient"])
    p.add_argument("--sparsity", type=float, default=0.6)
    p.add_argument("--epochs", type=int, default=10, help="baseline training epochs")
    p.add_argument("--finetune-epochs", type=int, default=6, help="total fine-tuning epochs of each schedule")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    data = prepare(
        DataConfig(
            datasets=(args.dataset,),
            labels="aami5",
            fs_hz=125.0,
            filter="none",
            window=WindowConfig(kind="kachuee", window_samples=187),
        )
    )
    split = make_split(data, SplitConfig(kind=args.split, seed=args.seed))
    arrays = (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
    x_test, y_test = data.x[split.test], data.y[split.test]
    print(
        f"{args.dataset}: {len(data.y)} beats {data.class_counts}; train {len(split.train)}, test {len(split.test)}"
        + (" (SYNTHETIC)" if data.synthetic else "")
    )
    train = TrainConfig(epochs=args.epochs, batch_size=256, seed=args.seed, patience=3)
    base = build_spec(EcgCnnSpec(), 1, 5, 187, seed=args.seed)
    t0 = time.perf_counter()
    fit(base, *arrays, train)
    print(f"baseline trained in {time.perf_counter() - t0:.0f} s")

    variants = {
        "one-shot": one_shot(args.sparsity, scope="layer", epochs=args.finetune_epochs),
        "multistage": [  # the same total budget as one-shot, dealt over the stages
            replace(stage, epochs=e)
            for stage, e in zip(multistage(args.sparsity, GROUPS), split_epochs(args.finetune_epochs, len(GROUPS)))
        ],
    }
    base_cost = profile(base, (1, 187))
    rows = [("baseline", evaluate(base, x_test, y_test, data.classes), base_cost)]
    control = copy.deepcopy(base)  # the control arm: the same fine-tuning budget, nothing pruned
    fit(control, *arrays, TrainConfig(epochs=args.finetune_epochs, batch_size=256, seed=args.seed, patience=0))
    rows.append(("baseline + fine-tune", evaluate(control, x_test, y_test, data.classes), base_cost))
    for name, stages in variants.items():
        net = copy.deepcopy(base)
        result = prune(net, stages, TrainConfig(batch_size=256, seed=args.seed, patience=0), arrays)
        rows.append(
            (f"{name} ({result.sparsity:.0%})", evaluate(net, x_test, y_test, data.classes), profile(net, (1, 187)))
        )
    print(f"{'variant':<22}{'accuracy':>10}{'macro F1':>10}{'weighted F1':>12}{'eff. MMACs':>12}{'MAC cut':>9}")
    for name, m, cost in rows:
        cut = 1 - cost.effective_macs / base_cost.effective_macs
        weighted = sum(f * n for f, n in zip(m.f1, m.support)) / max(1, sum(m.support))
        print(
            f"{name:<22}{m.accuracy:>10.4f}{m.macro_f1:>10.4f}{weighted:>12.4f}{cost.effective_macs / 1e6:>12.3f}"
            f"{cut:>9.1%}"
        )


if __name__ == "__main__":
    main()
