"""``biowear data``: list, inspect and download datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from biowear.cli.common import app, console
from biowear.cli.common import progress as _progress
from biowear.errors import BiowearError, ConfigError

if TYPE_CHECKING:
    from biowear.data import WindowDataset

data_app = typer.Typer(no_args_is_help=True, help="List, inspect and download datasets.")
app.add_typer(data_app, name="data")


@data_app.command("list")
def data_list() -> None:
    """List registered datasets and whether they are present under the data root."""
    from biowear.data import DATASETS
    from biowear.paths import data_root

    table = Table(title=f"datasets (data root: {data_root()})")
    for col in ("name", "records", "fs_hz", "available", "description"):
        table.add_column(col)
    for name in DATASETS:
        ds = DATASETS.get(name)
        table.add_row(
            name, str(len(ds.record_ids())), f"{ds.fs_hz:g}", "yes" if ds.available() else "no", ds.description
        )
    console.print(table)


@data_app.command("info")
def data_info(name: str) -> None:
    """Show a dataset's records and annotation counts (reads every record)."""
    from collections import Counter

    from biowear.data import WindowDataset, get_dataset

    ds = get_dataset(name)
    if isinstance(ds, WindowDataset):
        _window_info(ds)
        return
    if not ds.available():
        raise BiowearError(f"dataset {name} is not present under the data root; run `biowear data download {name}`")
    counts: Counter[str] = Counter()
    seconds = 0.0
    with _progress() as bar:
        task = bar.add_task(f"reading {name}", total=len(ds.record_ids()))
        for rid in ds.record_ids():
            rec = ds.load(rid)
            counts.update(rec.annotations.symbol)
            seconds += rec.duration_s
            bar.advance(task)
    console.print(
        f"{name}: {len(ds.record_ids())} records, {seconds / 3600:.2f} h, fs {ds.fs_hz:g} Hz"
        + (" (SYNTHETIC)" if ds.synthetic else "")
    )
    console.print("annotation counts: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


def _window_info(ds: WindowDataset) -> None:
    """Windows, groups and targets of an already-windowed dataset (its load error says what is missing)."""
    import numpy as np

    with console.status(f"windowing {ds.name} ..."):
        arrays = ds.load_arrays()
    groups, counts = np.unique(arrays.groups, return_counts=True)
    console.print(
        f"{ds.name}: {len(arrays.y)} windows of {arrays.x.shape[1]} x {arrays.x.shape[2]} samples at "
        f"{arrays.fs_hz:g} Hz, channels {', '.join(arrays.channels)}; {arrays.task.label()}"
    )
    console.print("windows per group: " + ", ".join(f"{g} {n}" for g, n in zip(groups, counts)))
    if arrays.task.is_regression:
        console.print(f"target: mean {arrays.y.mean():.4g}, range {arrays.y.min():.4g}..{arrays.y.max():.4g}")


@data_app.command("download")
def data_download(name: str) -> None:
    """Download a PhysioNet dataset into the data root with wfdb."""
    from biowear.data import get_dataset
    from biowear.data.datasets import WFDBDataset
    from biowear.data.hr import HRDataset

    ds = get_dataset(name)
    if isinstance(ds, HRDataset):  # licence terms: research use on request, no programmatic download
        raise ConfigError(f"dataset {name} cannot be downloaded by biowear; put {ds.expected} in {ds.directory()}")
    if not isinstance(ds, WFDBDataset):
        raise ConfigError(f"dataset {name} is generated locally and needs no download")
    console.print(f"downloading {name} from PhysioNet into {ds.directory()} ...")
    console.print(f"done: {ds.download()}")


@data_app.command("sines")
def data_sines(
    out: Annotated[Path, typer.Argument(help="the .npz file to write")],
    windows: Annotated[int, typer.Option(help="number of windows")] = 600,
    fs_hz: Annotated[float, typer.Option(help="sampling rate in Hz")] = 64.0,
    window_samples: Annotated[int, typer.Option(help="samples per window")] = 256,
    channels: Annotated[int, typer.Option(help="channels per window")] = 1,
    groups: Annotated[int, typer.Option(help="number of groups ('subjects') for group splits")] = 6,
    seed: int = 0,
) -> None:
    """Write a SYNTHETIC regression array dataset (.npz): noisy sinusoids whose frequency in Hz is the target."""
    import numpy as np

    from biowear.data.sines import sine_windows
    from biowear.paths import atomic_write
    from biowear.validate import Interval, check_value

    check_value("sines", "windows", windows, Interval(int, 8, None))
    check_value("sines", "fs_hz", fs_hz, Interval(float, 1, None))
    check_value("sines", "window_samples", window_samples, Interval(int, 8, None))
    check_value("sines", "channels", channels, Interval(int, 1, None))
    check_value("sines", "groups", groups, Interval(int, 1, None))
    if out.suffix != ".npz":
        raise ConfigError(f"the output must be a .npz file, got {out}")
    arrays = sine_windows(windows, fs_hz, window_samples, n_channels=channels, n_groups=groups, seed=seed)
    atomic_write(out, lambda fh: np.savez(fh, **arrays))
    console.print(
        f"wrote {out}: {windows} SYNTHETIC windows of {channels} x {window_samples} samples at {fs_hz:g} Hz; "
        "target = frequency (Hz)"
    )
