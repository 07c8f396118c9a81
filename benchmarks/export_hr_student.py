"""The trained PULSE student (``biowear hr train``) as int8 C on real SPC 2015 windows: C vs float vs PyTorch int8.

Calibrates on the student's training subjects, runs every window of the held-out validation subjects (and of
all subjects) through the host C build (equal to the numpy reference on every window), and prints the MAE of
the float network, the C int8 network and PyTorch's int8 network against BPM0, the MAE of C against float,
and the Cortex-M4 flash/RAM/stack.

    BIOWEAR_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/export_hr_student.py runs/hr_model --out runs/hr_c
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from biowear.compress.int8 import Int8Config, quantize_int8
from biowear.export import build
from biowear.export.c_export import export_c
from biowear.export.reference import run_int
from biowear.hr import HRConfig
from biowear.hr.data import load_windows
from biowear.train.artifacts import load_model
from biowear.train.fit import predict
from biowear.validate import build as build_config


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_dir", type=Path, help="folder written by `biowear hr train` (student.pt, hr.json)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    doc = json.loads((args.model_dir / "hr.json").read_text())
    config = build_config(HRConfig, doc["config"], "hr")
    windows = load_windows(config)
    saved = load_model(args.model_dir / "student.pt")
    train = np.isin(windows.subject, doc["train_subjects"])
    held = np.isin(windows.subject, doc["val_subjects"])
    calib = windows.x[train][np.sort(np.random.default_rng(0).permutation(int(train.sum()))[:512])]
    record, q = export_c(saved.model, saved.input_shape, args.out, calib, check=windows.x[held][:64], mcu=True)
    c_bpm = build.predict_host(args.out, windows.x)
    ref = q.decode(run_int(q, windows.x))[:, 0]
    assert np.allclose(c_bpm, ref, atol=1e-3), "host C differs from the reference"
    f_bpm = predict(saved.model, windows.x, saved.task)
    t_bpm = predict(quantize_int8(saved.model, calib, Int8Config(calibration_windows=512)), windows.x, saved.task)
    rows = {}
    for name, mask in (("held-out subjects " + ",".join(doc["val_subjects"]), held), ("all 13 recordings", None)):
        m = np.ones(len(c_bpm), bool) if mask is None else mask
        y = windows.y[m]
        rows[name] = {
            "windows": int(m.sum()), "mae_float": float(np.abs(f_bpm[m] - y).mean()),
            "mae_c_int8": float(np.abs(c_bpm[m] - y).mean()), "mae_torch_int8": float(np.abs(t_bpm[m] - y).mean()),
            "mae_c_vs_float": float(np.abs(c_bpm[m] - f_bpm[m]).mean()),
            "max_c_vs_float": float(np.abs(c_bpm[m] - f_bpm[m]).max()),
        }  # fmt: skip
    result = {"rows": rows, "mcu": record.mcu, "weight_bytes": record.weight_bytes, "arena": record.arena_bytes,
              "mcu_exact": record.mcu_exact, "output_step_bpm": q.output.scale * saved.target_scale[1]}  # fmt: skip
    (args.out / "hr_student_c.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
