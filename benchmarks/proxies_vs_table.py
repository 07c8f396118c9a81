"""Would a zero-cost proxy or a low-fidelity pre-filter help on the tabular benchmark? Rank correlations.

For every trained network of the table, this scores the untrained network (the recipe's seed-0 initialisation,
as training starts) with four zero-cost proxies of the NAS literature on one training batch of the table's own
data, and compares them, by Spearman rank correlation, with the network's full-budget test quality (what the
search ranks). The proxies:

* ``params``: the trainable parameter count (the no-information baseline every proxy must beat);
* ``grad_norm``: the summed L2 norms of the loss gradients;
* ``snip``: the summed ``|w * dL/dw|`` (connection sensitivity, Lee et al. 2019);
* ``synflow``: the summed ``w * dR/dw`` of the all-ones input with all weights made positive (Tanaka et al. 2020),
  in float64 with batch norm in evaluation mode.

Beside them, the low-fidelity qualities the table holds (the test quality ``fit`` keeps after 1 and 3 epochs,
what ASHA's first rungs see) are correlated the same way, and the spread of the full-budget quality is printed:
a proxy can only help a search if it ranks networks better than their cost does.

    BIOWEAR_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/proxies_vs_table.py [--batch 128]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from biowear.data import make_split
from biowear.search import load_study_config
from biowear.search.evaluate import load_data
from biowear.search.table import TabularBenchmark
from biowear.train.run import build_model

HERE = Path(__file__).parent / "tables" / "mitdb135"


def _loss_grads(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    model.train()
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    return [(p.detach(), p.grad.detach()) for p in model.parameters() if p.grad is not None]


def proxies(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The zero-cost scores of one untrained network on the batch ``(x, y)``."""
    pairs = _loss_grads(model, x, y)
    scores = {
        "params": float(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "grad_norm": float(sum(g.norm() for _, g in pairs)),
        "snip": float(sum((w * g).abs().sum() for w, g in pairs)),
    }
    net = model.double().eval()  # synflow: positive weights, all-ones input, no data
    with torch.no_grad():
        signs = [p.sign() for p in net.parameters()]
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    with torch.backends.mkldnn.flags(enabled=False):  # the LSTM's double backward path
        net(torch.ones((1, *x.shape[1:]), dtype=torch.float64)).sum().backward()
    scores["synflow"] = float(sum((p.detach() * p.grad).sum() for p in net.parameters() if p.grad is not None))
    with torch.no_grad():
        for p, s in zip(net.parameters(), signs, strict=True):
            p.mul_(s)
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=HERE / "study.toml")
    p.add_argument("--table", type=Path, default=HERE / "table.json")
    p.add_argument("--batch", type=int, default=128)
    args = p.parse_args()
    torch.set_num_threads(1)
    cfg = load_study_config(args.config)
    table = TabularBenchmark.load(args.table)
    data = load_data(cfg.data)
    split = make_split(data, cfg.split)
    rng = np.random.default_rng(0)
    idx = rng.choice(split.train, size=min(args.batch, len(split.train)), replace=False)
    x = torch.from_numpy(data.x[idx]).float()
    y = torch.from_numpy(data.y[idx]).long()
    shape = (int(data.x.shape[1]), int(data.x.shape[2]))
    epochs, patience, delta = cfg.train.epochs, cfg.train.patience, cfg.train.min_delta
    rows = []
    for entry in (e for e in table.entries.values() if e.status == "ok"):
        model = build_model(entry.arch, data.task, shape, seed=cfg.train.seed)
        scores = proxies(model, x, y)
        for budget in (1, 3):
            scores[f"quality after {budget} epoch(s)"] = entry.lookup(budget, 0, 0.0).metrics["accuracy"]
        scores["final"] = entry.lookup(epochs, patience, delta).metrics["accuracy"]
        scores["storage"] = float(entry.cost["storage_bytes"])
        rows.append(scores)
    final = [r["final"] for r in rows]
    q = sorted(final)
    print(
        f"{table.name}: {len(rows)} networks; full-budget test accuracy median {statistics.median(final):.4f}, "
        f"quartiles {q[len(q) // 4]:.4f}..{q[(3 * len(q)) // 4]:.4f}, range {q[0]:.4f}..{q[-1]:.4f}"
    )
    print(f"{'score':<28}{'Spearman vs final':>18}{'p':>10}")
    for name in ("params", "storage", "grad_norm", "snip", "synflow", "quality after 1 epoch(s)",
                 "quality after 3 epoch(s)"):  # fmt: skip
        rho, pval = spearmanr([r[name] for r in rows], final)
        print(f"{name:<28}{rho:>18.3f}{pval:>10.3f}")


if __name__ == "__main__":
    main()
