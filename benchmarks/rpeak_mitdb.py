"""R-peak detection on MIT-BIH: sensitivity, positive predictivity and speed of Pan-Tompkins and the
REWARD-style detector on all 48 records (lead 0, 150 ms one-to-one matching against the reference beats),
with wfdb's XQRS detector as the peer baseline for speed and accuracy on the same records.

    BIOWEAR_DATA=../shared/data python benchmarks/rpeak_mitdb.py [--records 100,101] [--no-peer]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from wfdb import processing

from biowear.bench.matching import match_events
from biowear.bench.rpeak_eval import BEAT_CODES, DetectionScore, evaluate_record, totals
from biowear.data.datasets import MITDB_RECORDS, get_dataset


def _xqrs(record_id: str) -> DetectionScore:
    rec = get_dataset("mitdb").load(record_id)
    x = rec.signal[:, 0].astype(np.float64)
    ref = rec.annotations.sample[np.array([s in BEAT_CODES for s in rec.annotations.symbol], dtype=bool)]
    start = time.perf_counter()
    det = processing.xqrs_detect(x, fs=rec.fs_hz, verbose=False)
    elapsed = time.perf_counter() - start
    m = match_events(ref, det, int(round(0.15 * rec.fs_hz)))
    return DetectionScore(record_id, "wfdb_xqrs", m.tp, m.fn, m.fp, elapsed, x.size / rec.fs_hz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default=",".join(MITDB_RECORDS))
    parser.add_argument("--no-peer", action="store_true", help="skip wfdb's XQRS baseline")
    args = parser.parse_args()
    records = [r.strip() for r in args.records.split(",") if r.strip()]
    scores: list[DetectionScore] = []
    print(f"{'record':>6} {'detector':>13} {'Se':>7} {'+P':>7} {'FN':>5} {'FP':>5}")
    for rid in records:
        row = evaluate_record(rid)
        if not args.no_peer:
            row.append(_xqrs(rid))
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
