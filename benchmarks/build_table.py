"""Build (or grow) a tabular benchmark and export it to its versioned JSON file.

The table is trained by the normal exhaustive exploration, so the build is resumable: a killed build loses at
most the networks in flight, and a rerun (this session or a later one) trains only what is missing. Whatever
the store holds is exported; a partial table says how many networks it has.

    python benchmarks/build_table.py --train --workers 2      # train what is missing, then export
    python benchmarks/build_table.py                          # export what the store holds now
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from biowear.models.layers import set_fast_conv
from biowear.search import Study, load_study_config
from biowear.search.executor import make_executor
from biowear.search.table import table_from_study

HERE = Path(__file__).parent / "tables" / "mitdb135"


def _print_epoch(m: dict) -> None:
    """Each worker's finished epoch, as it reports it."""
    print(
        f"  {m['worker']}: {m['arch']} epoch {m['epoch']}/{m['epochs']} val loss {m['val_loss']:.4f} "
        f"({m['seconds']:.1f} s)",
        flush=True,
    )


def main() -> None:
    # the table's networks were all trained on the plain convolution path: keep it (bit for bit, workers included)
    os.environ["BIOWEAR_FAST_CONV"] = "0"
    set_fast_conv(False)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=HERE / "study.toml")
    p.add_argument("--dir", type=Path, default=Path("runs/mitdb135"), help="study folder (store, models)")
    p.add_argument("--out", type=Path, default=HERE / "table.json")
    p.add_argument("--train", action="store_true", help="train the networks the store lacks first")
    p.add_argument("--executor", default="process")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    cfg = load_study_config(args.config)
    if args.train:
        study = Study(cfg, args.dir)
        t0 = time.perf_counter()
        executor = make_executor(args.executor, args.workers, progress=_print_epoch)
        try:
            result = study.run("exhaustive", executor)
        finally:
            executor.close()
        print(f"exhaustive: {result.n_trained} networks in the store ({time.perf_counter() - t0:.0f} s this run)")
        study.close()
    study = Study(cfg, args.dir, read_only=True)
    try:
        table = table_from_study(study)
    finally:
        study.close()
    table.save(args.out)
    hours = table.meta["train_seconds"] / 3600
    print(f"{args.out}: {len(table.entries)} of {table.expected} networks ({hours:.2f} h of training recorded)")


if __name__ == "__main__":
    main()
