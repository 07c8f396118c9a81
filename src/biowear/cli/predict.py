"""``biowear predict``: predictions of any biowear model file (float, pruned, k-means, structured, int8) for
windows in a ``.npy``/``.npz`` file or a WFDB recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from biowear.cli.common import app, console
from biowear.errors import ConfigError

OUT_SUFFIXES = (".csv", ".npy")


def _rows(pred, task) -> list[tuple[str, str]]:
    """(value, text) per window: class index and name, or the regression value and its unit."""
    if task.is_regression:
        unit = f" {task.unit}" if task.unit else ""
        return [(f"{float(v):.4f}", f"{float(v):.3f}{unit}") for v in pred]
    return [(str(int(i)), task.classes[int(i)]) for i in pred]


@app.command()
def predict(
    model_path: Annotated[Path, typer.Argument(help="a biowear model file (model.pt or a compressed variant)")],
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            help="windows (n, channels, samples) as .npy (float32) or .npz with 'x', or a WFDB record path "
            "without extension (cut into windows with the model's data recipe)",
        ),
    ],
    config: Annotated[
        Path | None, typer.Option(help="config.json whose data recipe cuts a recording (default: the model's)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write predictions to a .csv or .npy file instead")] = None,
) -> None:
    """Predict with a model file: one line per window (class or value), or a .csv/.npy file."""
    import numpy as np

    from biowear.compress import variant_file  # noqa: F401  (reads int8 model files)
    from biowear.data import DataConfig
    from biowear.paths import atomic_write
    from biowear.train.artifacts import load_model, load_recipe
    from biowear.train.inputs import read_windows
    from biowear.validate import build

    if out is not None and out.suffix not in OUT_SUFFIXES:
        raise ConfigError(f"--out must end in {' or '.join(OUT_SUFFIXES)}, got {out.name!r}")
    saved = load_model(model_path)
    if config is not None:
        recipe = load_recipe(config)[0]
    else:
        recipe = build(DataConfig, saved.recipe, "data") if saved.recipe else None
    x = read_windows(input, saved.input_shape, recipe)
    pred = saved.predict(x)
    rows = _rows(pred, saved.task)
    if out is None:
        typer.echo("\n".join(f"{i}\t{text}" for i, (_, text) in enumerate(rows)))  # tab-separated, unstyled
        return
    if out.suffix == ".npy":
        atomic_write(out, lambda fh: np.save(fh, np.asarray(pred)))
    else:
        header = "window,value,unit" if saved.task.is_regression else "window,class_index,class"
        extra = saved.task.unit if saved.task.is_regression else None
        lines = [header] + [f"{i},{v},{extra if extra is not None else t}" for i, (v, t) in enumerate(rows)]
        atomic_write(out, lambda fh: fh.write(("\n".join(lines) + "\n").encode()))
    console.print(f"{len(rows)} predictions ({saved.kind} model) -> {escape(str(out))}")
