"""Multi-fidelity search run live (real training) on a small space, compared with the tabular benchmark.

Runs ``asha`` on a sub-space of the mitdb135 recipe (same data, split and training; default blocks 0..1, x 1,
LSTM 16..256 cells), then replays exhaustive and asha on the same sub-space against the table and prints the live
front, the table's exhaustive front, the hypervolume ratio of the live front, the training cost and whether the
live evaluations equal the table's (training is deterministic on CPU, so they should agree exactly).

    BIOWEAR_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/asha_live_vs_table.py --dir runs/asha_live
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import torch

from biowear.models.layers import set_fast_conv
from biowear.search import Study, load_study_config
from biowear.search.replay import replay
from biowear.search.table import TabularBenchmark

HERE = Path(__file__).parent / "tables" / "mitdb135"


def main() -> None:
    # the table's networks were all trained on the plain convolution path: keep it (bit for bit, workers included)
    os.environ["BIOWEAR_FAST_CONV"] = "0"
    set_fast_conv(False)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=HERE / "replay.toml")
    p.add_argument("--table", type=Path, default=HERE / "table.json")
    p.add_argument("--dir", type=Path, default=Path("runs/asha_live"))
    p.add_argument("--blocks", default="0,1")
    p.add_argument("--lstm-exp", default="4,8")
    p.add_argument("--out", type=Path, default=HERE / "asha_live.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    base = load_study_config(args.config)
    blocks = tuple(int(v) for v in args.blocks.split(","))
    lstm = tuple(int(v) for v in args.lstm_exp.split(","))
    cfg = replace(base, name="mitdb135-asha-live", bounds={"blocks": blocks, "x": (1, 1), "lstm_exp": lstm})
    table = TabularBenchmark.load(args.table)
    t0 = time.perf_counter()
    study = Study(cfg, args.dir)
    live = study.run("asha")
    wall = time.perf_counter() - t0
    key = study.space.family_obj.key
    same, differ = 0, []
    for point in live.points:
        entry = table.entry(key(point.arch))
        if entry is None:
            continue
        look = entry.lookup(cfg.train.epochs, cfg.train.patience, cfg.train.min_delta)
        if look.metrics["accuracy"] == point.evaluation.metrics["accuracy"]:
            same += 1
        else:
            differ.append(study.space.label(point.arch))
    rep = replay(cfg, table, ["exhaustive", "asha"], seeds=1)
    ex_label = rep.exhaustive_front
    live_hv = live.hypervolume
    doc = {
        "space": {k: list(v) for k, v in cfg.bounds.items()},
        "networks_in_space": rep.networks,
        "live": {
            "front": [study.space.label(p.arch) for p in live.front],
            "hypervolume": live_hv,
            "networks_trained": live.n_trained,
            "epochs_trained": live.epochs_trained,
            "train_seconds": live.exploration_time_s,
            "wall_seconds": wall,
        },
        "table_exhaustive": {
            "front": list(ex_label),
            "hypervolume": rep.exhaustive_hypervolume,
            "epochs": rep.exhaustive_epochs,
            "seconds": rep.exhaustive_seconds,
        },
        "live_hv_ratio": live_hv / rep.exhaustive_hypervolume,
        "replayed_asha": {"hv_ratio": rep.runs[-1].hv_ratio, "epochs": rep.runs[-1].epochs},
        "live_equals_table": {"same_accuracy": same, "different": differ},
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))
    study.close()


if __name__ == "__main__":
    main()
