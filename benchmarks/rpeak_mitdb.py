"""R-peak detection on MIT-BIH: sensitivity, positive predictivity and speed of Pan-Tompkins and the
REWARD-style detector on all 48 records (lead 0, 150 ms one-to-one matching against the reference beats),
with wfdb's XQRS detector as the peer baseline for speed and accuracy on the same records.

    BIOWEAR_DATA=../shared/data python benchmarks/rpeak_mitdb.py [--records 100,101] [--no-peer]
"""

from __future__ import annotations

import argparse

import numpy as np
from wfdb import processing

from biowear.bench.rpeak_eval import DETECTORS, DetectionScore, evaluate_record, totals
from biowear.data.datasets import MITDB_RECORDS


def _xqrs(x: np.ndarray, fs_hz: float) -> np.ndarray:
    return processing.xqrs_detect(x, fs=fs_hz, verbose=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default=",".join(MITDB_RECORDS))
    parser.add_argument("--no-peer", action="store_true", help="skip wfdb's XQRS baseline")
    args = parser.parse_args()
    records = [r.strip() for r in args.records.split(",") if r.strip()]
    detectors = ("pan_tompkins", "reward") if args.no_peer else ("pan_tompkins", "reward", "wfdb_xqrs")
    if not args.no_peer:
        DETECTORS.register("wfdb_xqrs", _xqrs)
    scores: list[DetectionScore] = []
    print(f"{'record':>6} {'detector':>13} {'Se':>7} {'+P':>7} {'FN':>5} {'FP':>5}")
    for rid in records:
        row = evaluate_record(rid, detectors)
        for s in row:
            print(
                f"{rid:>6} {s.detector:>13} {s.sensitivity:7.4f} {s.positive_predictivity:7.4f} {s.fn:5d} {s.fp:5d}",
                flush=True,
            )
        scores += row
    tot = totals(scores)
    print(f"\nall {len(records)} records, lead 0, 150 ms tolerance, one-to-one matching")
    print(
        f"{'detector':>13} {'beats':>7} {'TP':>7} {'FN':>6} {'FP':>6} {'Se %':>7} {'+P %':>7} {'signal s/s':>11}"
        f" {'speed vs xqrs':>13}"
    )
    base = tot.get("wfdb_xqrs")
    for name, s in tot.items():
        speed = s.signal_s / s.seconds
        ratio = f"{speed / (base.signal_s / base.seconds):.2f}x" if base else "-"
        print(
            f"{name:>13} {s.tp + s.fn:7d} {s.tp:7d} {s.fn:6d} {s.fp:6d} {100 * s.sensitivity:7.2f} "
            f"{100 * s.positive_predictivity:7.2f} {speed:11.0f} {ratio:>13}"
        )


if __name__ == "__main__":
    main()
