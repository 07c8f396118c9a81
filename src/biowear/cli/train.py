"""``biowear train`` and ``biowear cost``."""

from __future__ import annotations

import time
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from biowear.cli.common import SYNTHETIC_BANNER, app, check_option, console
from biowear.cli.common import progress as _progress
from biowear.data.config import FILTERS, NORMALISATIONS
from biowear.data.labels import LABEL_MAPS
from biowear.data.splits import SPLIT_KINDS
from biowear.data.windows import WINDOW_KINDS, WINDOW_RULES
from biowear.errors import ConfigError
from biowear.models import FAMILIES
from biowear.train.fit import CLASS_WEIGHTINGS, DEVICES, REGRESSION_LOSSES


def _labels_arg(classes: str) -> str | dict[str, list[str]]:
    path = Path(classes)
    if classes.endswith(".toml"):
        if not path.is_file():
            raise ConfigError(f"class map file {classes} does not exist")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"class map file {classes} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"class map file {classes} is not valid TOML: {exc}") from exc
        mapping = doc.get("classes")
        if not isinstance(mapping, dict) or not all(isinstance(v, list) for v in mapping.values()):
            raise ConfigError(f'{classes} needs a [classes] table of name = ["code", ...] entries')
        return mapping
    return classes


def _split_records(text: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in text.split(",") if r.strip()) if text else ()


def _data_sources(
    dataset: list[str], data_dir: Path | None, npz: Path | None
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(datasets, sources) from ``--dataset``, ``--data-dir`` and ``--npz``: a path-given source is named by
    ``--dataset`` (one name) or, by default, after its folder or file."""
    if data_dir is not None and npz is not None:
        raise ConfigError("give --data-dir (a WFDB folder) or --npz (an array file), not both")
    path = data_dir if data_dir is not None else npz
    if path is None:
        return tuple(dataset) or ("synthetic_ecg",), ()
    if len(dataset) > 1:
        raise ConfigError("with --data-dir/--npz, --dataset gives the source's name (one name)")
    name = dataset[0] if dataset else (path.stem if npz is not None else path.resolve().name)
    return (name,), ((name, str(path.expanduser().resolve())),)


class EpochBars:
    """Training callback showing a progress bar per epoch (and, with ``lines``, a line per finished epoch)."""

    def __init__(self, bar: Progress, lines: bool = False):
        self.bar, self.task, self.lines = bar, None, lines

    def on_epoch_start(self, epoch: int, n_batches: int) -> None:
        self.task = self.bar.add_task(f"epoch {epoch}", total=n_batches)

    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
        self.bar.update(self.task, advance=1, description=f"epoch {epoch} loss {loss:.4f}")

    def on_epoch_end(self, log) -> None:
        self.bar.remove_task(self.task)
        if self.lines:
            console.print(log.summary(), highlight=False)


def _print_regression(run) -> None:
    m, task = run.metrics, run.task
    unit = f" {task.unit}" if task.unit else ""
    console.print(
        f"test ({m.n} windows, {task.target}"
        + (" — SYNTHETIC" if run.synthetic else "")
        + f"): MAE {m.mae:.4f}{unit}, "
        f"RMSE {m.rmse:.4f}{unit}, Pearson r {m.pearson_r:.4f}, within 5{unit}: {m.within_5:.4f}",
        highlight=False,
    )


def _print_fit(run) -> None:
    f = run.fit
    console.print(
        f"training: {f.epochs_run} epochs (best {f.best_epoch}{', early stop' if f.stopped_early else ''}), "
        f"{f.train_time_s:.1f} s, {f.samples_per_s:.0f} samples/s on {f.device}"
    )


def _print_metrics(run) -> None:
    if run.task.is_regression:
        _print_regression(run)
        _print_fit(run)
        return
    m = run.metrics
    table = Table(title=f"test metrics ({run.n_test} windows)" + (" — SYNTHETIC" if run.synthetic else ""))
    for col in ("class", "precision", "recall", "F1", "AUC", "support"):
        table.add_column(col, justify="right")
    for i, c in enumerate(m.classes):
        auc = "-" if m.auc[i] is None else f"{m.auc[i]:.4f}"
        table.add_row(
            escape(c), f"{m.precision[i]:.4f}", f"{m.recall[i]:.4f}", f"{m.f1[i]:.4f}", auc, str(m.support[i])
        )
    table.add_row(
        "macro",
        f"{m.macro_precision:.4f}",
        f"{m.macro_recall:.4f}",
        f"{m.macro_f1:.4f}",
        "-" if m.macro_auc is None else f"{m.macro_auc:.4f}",
        str(sum(m.support)),
    )
    console.print(table)
    console.print(f"accuracy {m.accuracy:.4f}; confusion (rows true, cols predicted): {[list(r) for r in m.confusion]}")
    _print_fit(run)


def _cost_table(rows: list[tuple[str, object]], title: str) -> Table:
    table = Table(title=title)
    for col in ("architecture", "params", "storage kB (fp32)", "MFLOPs", "MMACs", "peak RAM kB (fp32)"):
        table.add_column(col, justify="right")
    for label, cost in rows:
        table.add_row(
            label,
            f"{cost.params:,}",
            f"{cost.storage_bytes(32) / 1e3:,.1f}",
            f"{cost.flops / 1e6:,.2f}",
            f"{cost.macs / 1e6:,.2f}",
            f"{cost.peak_activation_bytes(32) / 1e3:,.1f}",
        )
    return table


@app.command()
def train(
    arch: Annotated[
        str | None,
        typer.Option(
            help="architecture: blocks=B,x=X,lstm=CELLS (resnet_lstm; default blocks=4,x=2,lstm=32) or "
            "blocks=5,filters=32,... (ecg_cnn; default = published)"
        ),
    ] = None,
    family: Annotated[str, typer.Option(help=f"model family: {FAMILIES.choices()}")] = "resnet_lstm",
    dataset: Annotated[
        list[str],
        typer.Option(help="dataset name(s); repeat to pool (default synthetic_ecg); with --data-dir/--npz: its name"),
    ] = [],  # noqa: B006
    data_dir: Annotated[
        Path | None, typer.Option(help="a folder of WFDB records (.hea + .dat + .atr), any rate and channels")
    ] = None,
    npz: Annotated[
        Path | None, typer.Option(help=".npz arrays: x (windows x channels x samples), y, fs_hz[, groups, classes]")
    ] = None,
    channels: Annotated[str | None, typer.Option(help="channels by name, comma-separated, e.g. MLII,V5")] = None,
    classes: Annotated[str, typer.Option(help=f"{LABEL_MAPS.choices()} | path to a TOML \\[classes] map")] = "binary",
    records: Annotated[str | None, typer.Option(help="comma-separated record subset")] = None,
    window: Annotated[str, typer.Option(help=WINDOW_KINDS.choices())] = "fixed",
    window_samples: int = 256,
    stride_samples: Annotated[int | None, typer.Option(help="fixed-window step (default: no overlap)")] = None,
    rule: Annotated[str, typer.Option(help=f"fixed-window label rule: {WINDOW_RULES.choices()}")] = "priority",
    fs_hz: Annotated[float | None, typer.Option(help="resample to this rate (default: native)")] = None,
    filter: Annotated[
        str | None, typer.Option(help=f"{FILTERS.choices()} (default: bandpass; none for --npz arrays)")
    ] = None,
    normalize: Annotated[
        str | None, typer.Option(help=f"{NORMALISATIONS.choices()} (default: window; none for --npz arrays)")
    ] = None,
    split: Annotated[str, typer.Option(help=SPLIT_KINDS.choices())] = "random",
    train_records: Annotated[str | None, typer.Option(help="records for split=records")] = None,
    val_records: Annotated[str | None, typer.Option(help="records for split=records (optional)")] = None,
    test_records: Annotated[str | None, typer.Option(help="records for split=records")] = None,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 1e-3,
    patience: int = 3,
    grad_clip: Annotated[float, typer.Option(help="gradient-norm clip; 0 disables")] = 1.0,
    class_weighting: Annotated[str, typer.Option(help=CLASS_WEIGHTINGS.choices())] = "none",
    seed: int = 0,
    device: Annotated[str, typer.Option(help=DEVICES.choices())] = "auto",
    regression_loss: Annotated[str, typer.Option(help=f"regression tasks: {REGRESSION_LOSSES.choices()}")] = "l1",
    out: Annotated[Path | None, typer.Option(help="folder for model.pt, run.json and config.json")] = None,
) -> None:
    """Train and evaluate one network of any registered family (classification or regression); print metrics
    and hardware cost."""
    from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare
    from biowear.models import parse_spec
    from biowear.train import TrainConfig, train_network
    from biowear.train.artifacts import save_run_config

    genes = parse_spec(family, arch)
    datasets, sources = _data_sources(dataset, data_dir, npz)
    data_cfg = DataConfig(
        datasets=datasets,
        sources=sources,
        channels=_split_records(channels) or None,
        labels=_labels_arg(classes),
        records=_split_records(records) or None,
        fs_hz=fs_hz,
        window=WindowConfig(kind=window, window_samples=window_samples, stride_samples=stride_samples, rule=rule),
        filter=filter or ("none" if npz is not None else "bandpass"),
        normalize=normalize or ("none" if npz is not None else "window"),
    )
    split_cfg = SplitConfig(
        kind=split,
        train_records=_split_records(train_records),
        val_records=_split_records(val_records),
        test_records=_split_records(test_records),
        seed=seed,
    )
    train_cfg = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        grad_clip_norm=grad_clip or None,
        class_weighting=class_weighting,
        seed=seed,
        device=device,
        regression_loss=regression_loss,
    )
    t0 = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("preparing data", total=None)

        def on_record(i: int, n: int, name: str) -> None:
            bar.update(task, total=n, completed=i, description=f"preparing {name}")

        data = prepare(data_cfg, progress=on_record)
    console.print(
        f"data: {len(data.y)} windows of {data.x.shape[2]} samples at {data.fs_hz:g} Hz from "
        f"{len(data.record_keys)} records, classes {data.class_counts} ({time.perf_counter() - t0:.1f} s)"
    )
    if data.synthetic:
        console.print(SYNTHETIC_BANNER)
    parts = make_split(data, split_cfg)
    console.print(
        f"split {split}: train {len(parts.train)}, val {len(parts.val)}, test {len(parts.test)}; "
        f"network {genes.label()}"
    )
    if out is not None:
        save_run_config(out / "config.json", data_cfg, split_cfg, train_cfg, genes)
    with _progress() as bar:
        run = train_network(
            data,
            parts,
            genes,
            train_cfg,
            callbacks=(EpochBars(bar, lines=True),),
            out_dir=out,
            recipe=asdict(data_cfg),
        )
    _print_metrics(run)
    console.print(_cost_table([(genes.label(), run.cost)], "hardware cost per inference"))
    if data.synthetic:
        console.print(SYNTHETIC_BANNER)
    if out is not None:
        console.print(f"saved model.pt, run.json and config.json in {out}")


# ---------------------------------------------------------------- cost
@app.command()
def cost(
    arch: Annotated[list[str], typer.Option(help="architecture(s) blocks=B,x=X,lstm=CELLS; repeatable")] = [],  # noqa: B006
    grid: Annotated[bool, typer.Option(help="count the 320-point grid under caps instead")] = False,
    cap_params: Annotated[list[float], typer.Option(help="parameter caps for --grid (repeatable)")] = [],  # noqa: B006
    input_length: int = 256,
    channels: int = 1,
    n_classes: int = 2,
) -> None:
    """Print the exact cost of architectures, or how many grid points satisfy parameter caps."""
    from biowear.cost import profile
    from biowear.cost.grid import grid_costs, points_under_cap
    from biowear.models import ResNetLSTMGenes, build
    from biowear.validate import Interval

    check_option("--input-length", input_length, Interval(int, 1, None))
    check_option("--channels", channels, Interval(int, 1, None))
    check_option("--n-classes", n_classes, Interval(int, 1, None))
    shape = (channels, input_length)
    if grid:
        with _progress() as bar:
            task = bar.add_task("profiling the 320-point grid", total=320)
            costs = grid_costs(shape, n_classes, progress=lambda i, n: bar.update(task, completed=i))
        table = Table(title="grid points under a parameter cap (of 320)")
        for col in ("cap (params)", "points", "storage cap fp32 (MB)"):
            table.add_column(col, justify="right")
        for cap in cap_params or [1e5, 3e5, 1e6, 1.05e6, 3e6, 1e7, 3e7]:
            table.add_row(f"{cap:,.0f}", str(points_under_cap(costs, cap)), f"{cap * 4 / 1e6:.2f}")
        console.print(table)
        return
    if not arch:
        raise ConfigError("give at least one --arch blocks=B,x=X,lstm=CELLS, or --grid")
    rows = []
    for a in arch:
        genes = ResNetLSTMGenes.parse(a)
        rows.append((genes.label(), profile(build(genes, channels, n_classes, device="meta"), shape)))
    console.print(_cost_table(rows, f"cost per inference, input {shape}, {n_classes} classes"))
