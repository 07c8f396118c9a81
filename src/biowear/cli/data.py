"""``biowear data``: list, inspect and download datasets."""

from __future__ import annotations

import typer
from rich.table import Table

from biowear.cli.common import app, console
from biowear.cli.common import progress as _progress
from biowear.errors import BiowearError, ConfigError

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

    from biowear.data import get_dataset

    ds = get_dataset(name)
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


@data_app.command("download")
def data_download(name: str) -> None:
    """Download a PhysioNet dataset into the data root with wfdb."""
    from biowear.data import get_dataset
    from biowear.data.datasets import WFDBDataset

    ds = get_dataset(name)
    if not isinstance(ds, WFDBDataset):
        raise ConfigError(f"dataset {name} is generated locally and needs no download")
    console.print(f"downloading {name} from PhysioNet into {ds.directory()} ...")
    console.print(f"done: {ds.download()}")
