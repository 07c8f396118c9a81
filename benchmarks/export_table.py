"""int8 C export of trained networks on real data: fidelity, measured Cortex-M4 flash/RAM, host latency.

For each model file (Pareto networks of an exploration, compressed variants), on the real test split:

* **fidelity**: the C network's labels (host gcc build, run on every test window, equal to the numpy reference
  on every window) against the float network and against PyTorch's int8 network (FX PTQ, calibrated on the
  same windows), with the accuracy of each;
* **memory**: flash (``.text + .rodata + .data`` of the model object) and RAM (``.data + .bss``: the arena and
  the LSTM scratch) of the Cortex-M4 build (``arm-none-eabi-gcc -mcpu=cortex-m4 -Os``), the static stack of
  ``model_run``, next to the cost model's int8 estimates (parameters at 8 bits, peak activations at 8 bits);
  for a k-means variant, the packed flash next to the storage figure ``compress`` reported;
* **latency**: host C per window (single thread; ``(t(N) - t(1)) / (N - 1)`` of the harness, median of 5) against
  PyTorch float and int8 at batch 1, one thread, in the same run (medians and IQR).

    BIOWEAR_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/export_table.py --config STUDY.config.json \\
        MODEL.pt [MODEL.pt ...] --out runs/export-table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from biowear.compress.int8 import Int8Config, quantize_int8
from biowear.compress.measure import latency_stats_ms
from biowear.cost import profile
from biowear.data import make_split, prepare
from biowear.export import build
from biowear.export.c_export import export_c
from biowear.export.quantize import weight_layout
from biowear.export.reference import classes, run_int
from biowear.train.artifacts import check_matches, load_model, load_recipe
from biowear.train.fit import predict


def _c_latency_ms(out: Path, x: np.ndarray, rounds: int = 5) -> tuple[float, float]:
    one, many = out / "bench1.f32", out / "benchN.f32"
    build.write_f32(one, x[:1])
    build.write_f32(many, x)
    per = []
    for _ in range(rounds):
        times = []
        for path in (one, many):
            start = time.perf_counter()
            subprocess.run([str(out / "infer"), "-r", str(path)], check=True, capture_output=True, timeout=600)
            times.append(time.perf_counter() - start)
        per.append((times[1] - times[0]) / (len(x) - 1) * 1e3)
    q1, med, q3 = np.percentile(per, [25, 50, 75])
    return float(med), float(q3 - q1)


def measure(path: Path, data, parts, out: Path, n_latency: int) -> dict:
    saved = load_model(path)
    check_matches(saved, data)
    float_model = saved.float_model or saved.model
    x_train, x_test, y_test = data.x[parts.train], data.x[parts.test], data.y[parts.test]
    calib = x_train[np.sort(np.random.default_rng(0).permutation(len(x_train))[:256])]
    record, q = export_c(float_model, saved.input_shape, out, calib, weights=weight_layout("auto", saved.meta),
                         check=x_test[:64], mcu=True, mcu_windows=4)  # fmt: skip
    c_labels = build.predict_host(out, x_test).astype(int)
    ref = classes(run_int(q, x_test))
    assert np.array_equal(c_labels, ref), "host C differs from the reference"
    f_labels = predict(float_model, x_test, saved.task)
    tq = quantize_int8(float_model, calib, Int8Config(calibration_windows=256))
    t_labels = predict(tq, x_test, saved.task)
    cost = profile(float_model, saved.input_shape)
    lat_x = x_test[:n_latency]
    c_ms = _c_latency_ms(out, lat_x)
    f_ms = latency_stats_ms(float_model, saved.input_shape, repeats=n_latency)
    q_ms = latency_stats_ms(tq, saved.input_shape, repeats=n_latency)
    mcu = record.mcu or {}
    return {
        "model": str(path), "arch": saved.arch.label(), "variant": saved.meta.get("variant", "original"),
        "weights": record.weights, "test_windows": len(x_test),
        "agree_c_float": float((c_labels == f_labels).mean()),
        "agree_c_torch_int8": float((c_labels == t_labels).mean()),
        "acc_float": float((f_labels == y_test).mean()), "acc_c": float((c_labels == y_test).mean()),
        "acc_torch_int8": float((t_labels == y_test).mean()),
        "flash_bytes": mcu.get("flash_bytes"), "ram_bytes": mcu.get("ram_bytes"), "stack_bytes": mcu.get("stack_bytes"),
        "text": mcu.get("text"), "rodata": mcu.get("rodata"), "weight_bytes": record.weight_bytes,
        "arena_bytes": record.arena_bytes, "cost_storage_int8": cost.storage_bytes(8),
        "cost_peak_ram_int8": cost.peak_activation_bytes(8), "compress_storage_bytes": saved.meta.get("storage_bytes"),
        "mcu_exact": record.mcu_exact, "c_ms": c_ms, "torch_float_ms": f_ms, "torch_int8_ms": q_ms,
    }  # fmt: skip


def table(rows: list[dict]) -> str:
    head = ("| network | variant | test windows | C vs float agree % | C vs PyTorch int8 agree % | acc float / C / "
            "PyTorch int8 | flash B (cost model int8) | RAM B + stack (cost model peak) | compress storage B | C ms "
            "| C / float | C / int8 |")  # fmt: skip
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['arch']} | {r['variant']} ({r['weights']}) | {r['test_windows']} | {100 * r['agree_c_float']:.2f} | "
            f"{100 * r['agree_c_torch_int8']:.2f} | {r['acc_float']:.4f} / {r['acc_c']:.4f} / "
            f"{r['acc_torch_int8']:.4f} | "
            f"{r['flash_bytes']:,} ({r['cost_storage_int8']:,.0f}) | {r['ram_bytes']:,} + {r['stack_bytes']} "
            f"({r['cost_peak_ram_int8']:,.0f}) | {r['compress_storage_bytes'] or '-'} | {r['c_ms'][0]:.3f} "
            f"±{r['c_ms'][1]:.3f} | {r['c_ms'][0] / r['torch_float_ms'][0]:.2f} | "
            f"{r['c_ms'][0] / r['torch_int8_ms'][0]:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", type=Path, nargs="+")
    p.add_argument("--config", type=Path, required=True, help="the run's or study's config.json")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--latency-windows", type=int, default=200)
    args = p.parse_args()
    torch.set_num_threads(1)
    data_cfg, split_cfg, _ = load_recipe(args.config)
    data = prepare(data_cfg)
    parts = make_split(data, split_cfg)
    rows = []
    for i, path in enumerate(args.models):
        row = measure(path, data, parts, args.out / f"{i:02d}", args.latency_windows)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "export_table.json").write_text(json.dumps(rows, indent=2))
    text = table(rows)
    (args.out / "export_table.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
