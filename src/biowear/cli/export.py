"""``biowear export``: a model file as int8 C (checked bit for bit against the numpy reference) or as ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from biowear.cli.common import SYNTHETIC_BANNER, app, check_option, console
from biowear.errors import ConfigError

FORMATS = ("c", "onnx")


def export_data(saved: Any, config: Path | None, windows: Path | None, seed: int = 0) -> dict[str, Any]:
    """Calibration (training split) and check (test split) windows for a model, with their labels.

    From ``windows`` (a ``.npy``/``.npz`` of windows, split 50/50 at random), else from ``config`` (a run's
    config.json or a study's config) or the data recipe recorded in the model file."""
    import numpy as np

    from biowear.data import DataConfig, SplitConfig, make_split, prepare
    from biowear.train.artifacts import check_matches, load_recipe
    from biowear.validate import build

    if windows is not None:
        from biowear.train.inputs import read_windows

        x = read_windows(windows, saved.input_shape)
        order = np.random.default_rng(seed).permutation(len(x))
        half = max(1, len(x) // 2)
        return {"train": x[order[:half]], "test": x[order[half:]] if len(x) > 1 else x, "y": None, "synthetic": None}
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"config file {config} does not exist")
        data_cfg, split_cfg, _ = load_recipe(config)
    elif saved.recipe is not None:
        data_cfg = build(DataConfig, saved.recipe, "data")
        split_cfg = saved.meta.get("split") or SplitConfig()
        if isinstance(split_cfg, dict):
            split_cfg = build(SplitConfig, split_cfg, "split")
    else:
        raise ConfigError("the model file records no data recipe; give --config (its config.json) or --windows")
    data = prepare(data_cfg)
    check_matches(saved, data)
    parts = make_split(data, split_cfg)
    return {"train": data.x[parts.train], "test": data.x[parts.test], "y": data.y[parts.test],
            "synthetic": data.synthetic, "classes": data.task.classes}  # fmt: skip


@app.command()
def export(
    model: Annotated[
        Path, typer.Argument(metavar="MODEL", help="a biowear model file (float or a compressed variant)")
    ],
    out: Annotated[Path, typer.Option(help="folder to write the export into (nothing is written elsewhere)")],
    format: Annotated[str, typer.Option("--format", help="c (int8 C99 + harness + Makefile) | onnx")] = "c",
    config: Annotated[Path | None, typer.Option(help="the run's config.json (default: the recipe in MODEL)")] = None,
    windows: Annotated[
        Path | None, typer.Option(help="a .npy/.npz of windows (n, channels, samples) instead of the data recipe")
    ] = None,
    calibration: Annotated[int, typer.Option(help="training windows that fix the activation ranges")] = 256,
    check: Annotated[int, typer.Option(help="test windows run in C and compared with the reference")] = 256,
    weights: Annotated[str, typer.Option(help="auto (kmeans for a k-means variant) | int8 | kmeans")] = "auto",
    ranges: Annotated[str, typer.Option(help="activation ranges: mse (least quantisation error) | minmax")] = "mse",
    mcu: Annotated[bool, typer.Option(help="cross-compile for Cortex-M4, measure flash/RAM, run under QEMU")] = False,
) -> None:
    """Export a model as int8 C for a Cortex-M (bit-exact with the numpy reference) or as ONNX."""
    import numpy as np

    from biowear.train.artifacts import load_model
    from biowear.validate import Interval, Options

    check_option("--format", format, Options(FORMATS))
    check_option("--calibration", calibration, Interval(int, 1, None))
    check_option("--check", check, Interval(int, 0, None))
    saved = load_model(model)
    data = export_data(saved, config, windows)
    if data.get("synthetic"):
        console.print(SYNTHETIC_BANNER)
    pick = np.random.default_rng(0).permutation(len(data["train"]))[:calibration]
    calib = data["train"][np.sort(pick)]
    if format == "onnx":
        from biowear.export.onnx import export_onnx_bundle

        test = data["test"][:check] if check else None
        result = export_onnx_bundle(saved, out, calib, verify_windows=test)
        for key in ("fp32", "int8"):
            c = result.get(key)
            if c:
                agree = "" if c["label_agreement"] is None else f", labels agree {100 * c['label_agreement']:.2f} %"
                mae = "" if c["mae_vs_float"] is None else f", MAE vs float {c['mae_vs_float']:.4g}"
                floats = ", ".join(f"{k} x{v}" for k, v in c["float_ops"].items()) or "none"
                console.print(f"{c['path']}: onnxruntime vs PyTorch float on {c['n_windows']} windows: max |diff| "
                              f"{c['max_abs_diff']:.3g}{agree}{mae}; float ops: {floats}", highlight=False)  # fmt: skip
        return
    from biowear.export.quantize import RANGE_METHODS

    RANGE_METHODS.get(ranges)
    from biowear.export.quantize import weight_layout

    _export_c(saved, out, calib, data, check, weight_layout(weights, saved.meta), ranges, mcu)


def _export_c(
    saved: Any, out: Path, calib: Any, data: dict[str, Any], check: int, weights: str, ranges: str, mcu: bool
) -> None:
    from biowear.export.c_export import export_c
    from biowear.export.reference import classes, run_int

    test = data["test"][:check] if check else None
    float_model = getattr(saved, "float_model", None) or saved.model
    record, qgraph = export_c(
        float_model, saved.input_shape, out, calib, weights=weights, ranges=ranges, check=test, mcu=mcu,
        progress=lambda msg: console.print(f"  {msg}", highlight=False),
    )  # fmt: skip
    wb = record.weight_bytes
    console.print(
        f"wrote {', '.join(record.files)} + Makefile, infer.c, mcu/ and export.json to {out}\n"
        f"weights ({weights}) {wb['weights']:,} B, biases {wb['bias']:,} B, requantisation {wb['requant']:,} B; "
        f"arena {record.arena_bytes:,} B (liveness peak {record.liveness_peak_bytes:,} B)",
        highlight=False,
        soft_wrap=True,
    )
    if test is not None and len(test):
        line = f"C == numpy reference on all {record.host_windows} checked windows"
        if saved.task.is_regression:
            c_values = qgraph.decode(run_int(qgraph, test))[:, 0]
            f_values = saved.predict(test)
            unit = f" {saved.task.unit}" if saved.task.unit else ""
            diff = abs(c_values - f_values)
            line += f"; C vs float: mean |diff| {diff.mean():.4g}{unit}, max {diff.max():.4g}{unit}"
            if data.get("y") is not None:
                y = data["y"][: len(test)]
                line += f"; MAE C {abs(c_values - y).mean():.4g}{unit} vs float {abs(f_values - y).mean():.4g}{unit}"
        else:
            c_labels = classes(run_int(qgraph, test))
            f_labels = saved.predict(test)
            line += f"; labels agree with the float model on {100 * (c_labels == f_labels).mean():.2f} %"
            if data.get("y") is not None:
                y = data["y"][: len(test)]
                line += f"; accuracy C {(c_labels == y).mean():.4f} vs float {(f_labels == y).mean():.4f}"
        console.print(line, highlight=False)
    if record.mcu is not None:
        m = record.mcu
        console.print(
            f"Cortex-M4 (arm-none-eabi-gcc -Os): flash {m['flash_bytes']:,} B (text {m['text']:,}, rodata "
            f"{m['rodata']:,}, data {m['data']:,}); RAM {m['ram_bytes']:,} B (bss {m['bss']:,}) + stack "
            f"{m['stack_bytes']:,} B (measured in QEMU: {m.get('stack_high_water_bytes', 0):,} B); QEMU mps2-an386 == "
            f"reference on {record.mcu_windows} windows",
            highlight=False,
        )
