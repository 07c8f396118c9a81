"""``biowear compress``: sweep or search compressed variants of a saved network and report the trade-offs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from biowear.cli.common import SYNTHETIC_BANNER, app, check_option, console
from biowear.compress.encode import STORAGE_LAYOUTS
from biowear.compress.importance import IMPORTANCES, PRUNE_METHODS, SCOPES
from biowear.compress.int8 import INT8_ENGINES, LSTM_MODE_REGISTRY
from biowear.compress.prune import SCHEDULES
from biowear.errors import ConfigError
from biowear.search.strategies import STRATEGIES

if TYPE_CHECKING:
    from biowear.report.figures import ReportContext


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"expected comma-separated numbers, got {text!r}") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _ints(text: str) -> list[Any]:
    """Integers where the text holds them; other numbers are kept so that validation names them (2.7 bits)."""
    return [int(v) if float(v).is_integer() else v for v in _floats(text)]


def _methods(methods: str | None, importance: str, scope: str) -> tuple[str, ...]:
    """Pruning methods from ``--methods`` or the cross product ``--importance`` x ``--scope``."""
    from biowear.compress.config import with_axes

    if importance or scope:
        if methods is not None:
            raise ConfigError("give --methods or --importance/--scope, not both")
        importances = _names(importance) or ("magnitude",)
        scopes = _names(scope) or ("layer",)
        for name in importances:
            IMPORTANCES.get(name)
        for name in scopes:
            SCOPES.get(name)
        return with_axes(importances, scopes)
    return _names("layer,global" if methods is None else methods)


@app.command()
def compress(
    model_path: Annotated[Path, typer.Argument(help="model.pt saved by `biowear train --out` or an exploration")],
    config: Annotated[Path, typer.Option(help="the run's config.json or the study's <name>.config.json")],
    methods: Annotated[
        str | None,
        typer.Option(
            help=f"pruning methods: {PRUNE_METHODS.choices(',')} or <importance>-<scope> (default: layer,global)"
        ),
    ] = None,
    importance: Annotated[
        str, typer.Option(help=f"pruning importances ({IMPORTANCES.choices(',')}), crossed with --scope")
    ] = "",
    scope: Annotated[str, typer.Option(help=f"pruning scopes ({SCOPES.choices(',')}), crossed with --importance")] = "",
    sparsity: Annotated[str, typer.Option(help="comma-separated sparsities in (0, 1)")] = "0.5,0.7,0.9",
    bits: Annotated[str, typer.Option(help="comma-separated k-means bits in 1..8")] = "2,4,6,8",
    finetune_epochs: Annotated[int, typer.Option(help="total fine-tuning epochs of every pruning schedule")] = 2,
    structured: Annotated[
        str, typer.Option(help="comma-separated channel ratios in (0, 1) for structured pruning (empty: none)")
    ] = "",
    schedule: Annotated[str, typer.Option(help=f"pruning schedules: {SCHEDULES.choices(',')}")] = "one-shot",
    steps: Annotated[int, typer.Option(help="stages of the iterative/multistage schedules")] = 3,
    metric: Annotated[
        str | None,
        typer.Option(
            help="accuracy | macro_f1 | f1:<class> | recall:<class> ... or, for regression, mae | rmse | "
            "pearson_r | within_5 (default: accuracy, or mae for regression)"
        ),
    ] = None,
    max_loss_pp: Annotated[
        float,
        typer.Option(
            "--max-loss-pp",
            "--max-loss",
            help="quality-loss budget of the chosen variant: percentage points, or the target's unit for an error "
            "metric such as MAE",
        ),
    ] = 0.2,
    storage_format: Annotated[
        str, typer.Option(help=f"sparse weight layout: {STORAGE_LAYOUTS.choices()} (auto: smallest per tensor)")
    ] = "auto",
    index_bits: Annotated[int, typer.Option(help="gap width of the relative format")] = 4,
    huffman: Annotated[bool, typer.Option(help="Huffman-code the code and gap streams")] = True,
    other_bits: Annotated[int, typer.Option(help="bits of biases and batch-norm values: 32 or 16")] = 32,
    int8: Annotated[bool, typer.Option(help="also measure int8 post-training quantisation (int8 kernels)")] = True,
    qat_epochs: Annotated[int, typer.Option(help="epochs of int8 quantisation-aware training (0: none)")] = 0,
    int8_engine: Annotated[str, typer.Option(help=f"int8 kernel library: {INT8_ENGINES.choices()}")] = "x86",
    int8_lstm: Annotated[
        str,
        typer.Option(
            help="LSTM under int8: " + " | ".join(f"{k} ({LSTM_MODE_REGISTRY.get(k)})" for k in LSTM_MODE_REGISTRY)
        ),
    ] = "dynamic",
    strategy: Annotated[
        str,
        typer.Option(
            help="grid (every combination, plus int8/structured) or a search strategy over method x sparsity x "
            f"bits: {STRATEGIES.choices()} (both resumable in --out)"
        ),
    ] = "grid",
    population: Annotated[int, typer.Option(help="GA population of a search strategy")] = 12,
    generations: Annotated[int, typer.Option(help="GA generations of a search strategy")] = 4,
    alpha: Annotated[float, typer.Option(help="quality weight of the weighted objective (beta = 1 - alpha)")] = 0.5,
    seed: Annotated[int, typer.Option(help="seed of the search strategy")] = 0,
    threads: Annotated[
        int, typer.Option(help="torch threads while timing latency (1: stable on a shared machine)")
    ] = 1,
    save: Annotated[
        list[str] | None,
        typer.Option(
            "--save",
            help="also save this measured variant (its label, e.g. 'prune-global s=0.9') as a model file in "
            "OUT/variants/ (repeatable; the best variant within --max-loss-pp is always saved)",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="report folder")] = Path("runs/compress"),
) -> None:
    """Prune (importance x scope; one-shot, iterative or multistage), k-means quantise and both, int8 and
    structured pruning; measure each; report the front."""
    from biowear.compress.config import CompressionConfig
    from biowear.compress.int8 import Int8Config
    from biowear.compress.quantize import StorageFormat
    from biowear.data import make_split, prepare
    from biowear.train.artifacts import check_matches, load_model, load_recipe
    from biowear.validate import Interval

    check_option("--max-loss-pp", max_loss_pp, Interval(float, 0, None))
    check_option("--alpha", alpha, Interval(float, 0, 1))
    if not config.is_file():
        raise ConfigError(f"config file {config} does not exist")
    storage = StorageFormat(storage_format, index_bits, huffman, other_bits)
    int8_config = Int8Config(int8_engine, lstm=int8_lstm, seed=0) if int8 else None
    if qat_epochs < 0 or (qat_epochs and not int8):
        raise ConfigError("--qat-epochs needs --int8 and a value >= 0")
    schedules = _names(schedule)
    if strategy != "grid":
        STRATEGIES.get(strategy)
        if len(schedules) != 1:
            raise ConfigError("a search strategy uses one pruning schedule; give a single --schedule")
    settings = CompressionConfig(
        metric=metric,
        methods=_methods(methods, importance, scope),
        schedules=schedules,
        steps=steps,
        sparsities=tuple(_floats(sparsity)),
        bits=tuple(_ints(bits)),
        finetune_epochs=finetune_epochs,
        storage=storage,
        int8=int8_config,
        qat_epochs=qat_epochs,
        structured=tuple(_floats(structured)),
        seed=seed,
        latency_threads=threads,
    )
    data_cfg, split_cfg, train_cfg = load_recipe(config)
    saved = load_model(model_path)
    from biowear.compress.variant_file import check_compressible

    check_compressible(saved, str(model_path))
    data = prepare(data_cfg)
    check_matches(saved, data)
    synthetic = data.synthetic
    if synthetic:
        console.print(SYNTHETIC_BANNER)
    parts = make_split(data, split_cfg)
    label = saved.arch.label()
    shown = metric or data.task.default_metric
    console.print(f"compressing {label} on {len(parts.test)} test windows ({shown})")
    from biowear.cli.common import progress as _bars
    from biowear.cli.train import EpochBars

    with _bars() as bar:
        fine_tuning = (EpochBars(bar, lines=True),)  # every fine-tuning epoch shows a bar and a line
        if strategy != "grid":
            from biowear.compress.search import search
            from biowear.search.objective import Objective
            from biowear.search.strategies import GAConfig

            multi = STRATEGIES.get(strategy).multi_objective_capable
            points = search(
                saved.model,
                data,
                parts,
                train_cfg,
                settings,
                strategy=strategy,
                objective=Objective(shown, alpha=alpha, beta=1 - alpha, mode="multi" if multi else "weighted"),
                ga=GAConfig(population=population, generations=generations),
                directory=out,
                progress=_progress,
                callbacks=fine_tuning,
            )
        else:
            from biowear.compress.sweep import sweep

            points = sweep(
                saved.model, data, parts, train_cfg, settings, directory=out, progress=_progress, callbacks=fine_tuning
            )
    from biowear.report.figures import ReportContext

    context = ReportContext.of(data_cfg, f"model {label}", split_cfg.kind)
    chosen = _report(points, label, shown, max_loss_pp, synthetic, out, context)
    wanted = [chosen.label()] if chosen is not None and chosen.method != "original" else []
    wanted += [w for w in (save or []) if w not in wanted]
    _save_variants(saved, points, wanted, (data, parts, train_cfg, settings), out)


def _save_variants(saved, points, labels: list[str], run: tuple, out: Path) -> None:
    """Write each variant of ``labels`` as a model file ``OUT/variants/<label>.pt`` and print its path."""
    from biowear.compress.variant_file import safe_label, save_variant, variant_model

    by_label = {p.label(): p for p in points}
    unknown = [w for w in labels if w not in by_label]
    if unknown:
        raise ConfigError(f"--save {unknown[0]!r} is not a measured variant; valid options are: {', '.join(by_label)}")
    data, parts, train_cfg, settings = run
    for label in labels:
        net, float_model = variant_model(saved.model, data, parts, train_cfg, settings, label, out)
        path = save_variant(out / "variants" / f"{safe_label(label)}.pt", saved, net, by_label[label], float_model)
        console.print(f"saved {escape(label)}: {escape(str(path))}")


def _progress(label: str, resumed: bool) -> None:
    console.print(f"  {'resumed' if resumed else 'measured'} {escape(label)}")


def _report(
    points, label: str, metric: str, max_loss: float, synthetic: bool, out: Path, context: ReportContext | None = None
) -> Any:
    from biowear.compress.points import best_within_loss
    from biowear.report.compress import render_compression_report

    chosen = best_within_loss(points, max_loss)
    unit = points[0].loss_unit
    digits = 2 if unit == "pp" else 3
    table = Table(title=f"compression of {label}" + (" — SYNTHETIC" if synthetic else ""))
    for col in ("variant", metric, f"loss {unit}", "storage kB", "factor", "eff. MMACs", "latency ms ±IQR"):
        table.add_column(col, justify="right")
    for p in points:
        table.add_row(
            escape(p.label()),
            f"{p.quality:.4f}",
            f"{p.quality_loss:+.{digits}f}",
            f"{p.storage_bytes / 1e3:,.2f}",
            f"{p.compression:.1f}x",
            f"{p.effective_macs / 1e6:.3f}",
            f"{p.latency_ms:.3f} ±{p.latency_iqr_ms:.3f}",
        )
    console.print(table)
    if chosen:
        console.print(
            f"best within {max_loss} {unit}: {chosen.label()} — {chosen.compression:.1f}x smaller, "
            f"{chosen.quality_loss:+.{digits}f} {unit}"
        )
    else:
        console.print(f"best within {max_loss} {unit}: no compressed variant loses that little")
    from biowear.compress.points import CONTROL

    if any(p.method == CONTROL for p in points):
        console.print("losses are against the better of the original and original+finetune (the control arm)")
    md = render_compression_report(points, out, metric, chosen, synthetic, max_loss=max_loss, context=context)
    console.print(f"report: {escape(str(md.with_suffix('.html')))} (Markdown: {escape(md.name)})")
    return chosen
