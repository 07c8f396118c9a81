"""``biowear compress``: sweep pruning x quantisation for a saved network and report the trade-offs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import torch
import typer
from rich.table import Table

from biowear.cli.common import SYNTHETIC_BANNER, app, console
from biowear.errors import ConfigError


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"expected comma-separated numbers, got {text!r}") from None


def load_model(path: Path):
    """A saved network (``model.pt`` written by train/explore) and its architecture spec."""
    from biowear.models import build_spec, spec_from_dict

    if not path.is_file():
        raise ConfigError(f"model file {path} does not exist")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        genes = spec_from_dict(saved["spec"] if "spec" in saved else saved["genes"])  # "genes": older files
        model = build_spec(genes, saved["in_channels"], saved["n_classes"], saved["input_length"], seed=0)
        model.load_state_dict(saved["state_dict"])
    except Exception as exc:  # torch.load fails in many ways on a foreign or corrupt file
        raise ConfigError(f"{path} is not a biowear model file ({exc})") from exc
    return model, genes


@app.command()
def compress(
    model_path: Annotated[Path, typer.Argument(help="model.pt saved by `biowear train --out` or an exploration")],
    config: Annotated[Path, typer.Option(help="the run's config.json or the study's <name>.config.json")],
    methods: Annotated[str, typer.Option(help="pruning methods: layer,global,lamp")] = "layer,global",
    sparsity: Annotated[str, typer.Option(help="comma-separated sparsities in (0, 1)")] = "0.5,0.7,0.9",
    bits: Annotated[str, typer.Option(help="comma-separated k-means bits in 1..8")] = "2,4,6,8",
    finetune_epochs: Annotated[int, typer.Option(help="total fine-tuning epochs of every pruning schedule")] = 2,
    structured: Annotated[
        str, typer.Option(help="comma-separated channel ratios in (0, 1) for structured pruning (empty: none)")
    ] = "",
    schedule: Annotated[str, typer.Option(help="pruning schedules: one-shot,iterative,multistage")] = "one-shot",
    steps: Annotated[int, typer.Option(help="stages of the iterative/multistage schedules")] = 3,
    metric: Annotated[str, typer.Option(help="accuracy | macro_f1 | f1:<class> | recall:<class> ...")] = "accuracy",
    max_loss_pp: Annotated[float, typer.Option(help="quality-loss budget for the chosen variant")] = 0.2,
    storage_format: Annotated[
        str, typer.Option(help="sparse weight layout: auto (smallest per tensor) | bitmask | relative | dense")
    ] = "auto",
    index_bits: Annotated[int, typer.Option(help="gap width of the relative format")] = 4,
    huffman: Annotated[bool, typer.Option(help="Huffman-code the code and gap streams")] = True,
    other_bits: Annotated[int, typer.Option(help="bits of biases and batch-norm values: 32 or 16")] = 32,
    int8: Annotated[bool, typer.Option(help="also measure int8 post-training quantisation (int8 kernels)")] = True,
    qat_epochs: Annotated[int, typer.Option(help="epochs of int8 quantisation-aware training (0: none)")] = 0,
    int8_engine: Annotated[str, typer.Option(help="int8 kernel library: x86 | fbgemm | qnnpack")] = "x86",
    int8_lstm: Annotated[str, typer.Option(help="LSTM under int8: dynamic (int8 weights) | float")] = "dynamic",
    strategy: Annotated[
        str,
        typer.Option(
            help="grid (every combination, plus int8/structured) or a search strategy over method x sparsity x "
            "bits: exhaustive | random | ga-roulette | ga-tournament | nsga2 | spea2 (both resumable in --out)"
        ),
    ] = "grid",
    population: Annotated[int, typer.Option(help="GA population of a search strategy")] = 12,
    generations: Annotated[int, typer.Option(help="GA generations of a search strategy")] = 4,
    alpha: Annotated[float, typer.Option(help="quality weight of the weighted objective (beta = 1 - alpha)")] = 0.5,
    seed: Annotated[int, typer.Option(help="seed of the search strategy")] = 0,
    out: Annotated[Path, typer.Option(help="report folder")] = Path("runs/compress"),
) -> None:
    """Prune (layer-wise, class-blind global; one-shot, iterative or multistage), k-means quantise and both;
    measure each; report the front."""
    from biowear.compress.int8 import Int8Config
    from biowear.compress.quantize import StorageFormat
    from biowear.compress.sweep import sweep
    from biowear.data import make_split, prepare
    from biowear.search.config import recipe_from_dict

    if not config.is_file():
        raise ConfigError(f"config file {config} does not exist")
    storage = StorageFormat(storage_format, index_bits, huffman, other_bits)
    int8_config = Int8Config(int8_engine, lstm=int8_lstm, seed=0) if int8 else None
    if qat_epochs < 0 or (qat_epochs and not int8):
        raise ConfigError("--qat-epochs needs --int8 and a value >= 0")
    data_cfg, split_cfg, train_cfg = recipe_from_dict(json.loads(config.read_text()))
    model, genes = load_model(model_path)
    data = prepare(data_cfg)
    synthetic = data.synthetic
    if synthetic:
        console.print(SYNTHETIC_BANNER)
    parts = make_split(data, split_cfg)
    console.print(f"compressing {genes.label()} on {len(parts.test)} test windows ({metric})")
    schedules = [v.strip() for v in schedule.split(",") if v.strip()]
    if strategy != "grid":
        from biowear.compress.search import CompressionSpace, search
        from biowear.search.objective import Objective
        from biowear.search.strategies import STRATEGIES, GAConfig

        if len(schedules) != 1:
            raise ConfigError("a search strategy uses one pruning schedule; give a single --schedule")
        multi = STRATEGIES.get(strategy).multi_objective_capable
        name, _, cls = metric.partition(":")
        space = CompressionSpace(
            tuple(m.strip() for m in methods.split(",") if m.strip()),
            (0.0, *_floats(sparsity)),
            tuple(int(b) for b in _floats(bits)),
        )
        points = search(
            model,
            data,
            parts,
            train_cfg,
            space,
            strategy,
            Objective(name, cls or None, alpha, 1 - alpha, mode="multi" if multi else "weighted"),
            finetune_epochs,
            schedules[0],
            steps,
            storage,
            GAConfig(population=population, generations=generations),
            seed=seed,
            directory=out,
            progress=_progress,
        )
        _report(points, genes.label(), metric, max_loss_pp, synthetic, out)
        return
    points = sweep(
        model,
        data,
        parts,
        train_cfg,
        [m.strip() for m in methods.split(",") if m.strip()],
        _floats(sparsity),
        [int(b) for b in _floats(bits)],
        finetune_epochs,
        metric,
        progress=_progress,
        schedules=schedules,
        steps=steps,
        storage=storage,
        int8=int8_config,
        qat_epochs=qat_epochs,
        structured=_floats(structured),
        directory=out,
    )
    _report(points, genes.label(), metric, max_loss_pp, synthetic, out)


def _progress(label: str, resumed: bool) -> None:
    console.print(f"  {'resumed' if resumed else 'measured'} {label}")


def _report(points, label: str, metric: str, max_loss_pp: float, synthetic: bool, out: Path) -> None:
    from biowear.compress.sweep import best_within_loss
    from biowear.report.compress import render_compression_report

    chosen = best_within_loss(points, max_loss_pp)
    table = Table(title=f"compression of {label}" + (" — SYNTHETIC" if synthetic else ""))
    for col in ("variant", metric, "loss pp", "storage kB", "factor", "eff. MMACs", "latency ms"):
        table.add_column(col, justify="right")
    for p in points:
        table.add_row(
            p.label(),
            f"{p.quality:.4f}",
            f"{p.quality_loss_pp:+.2f}",
            f"{p.storage_bytes / 1e3:,.2f}",
            f"{p.compression:.1f}x",
            f"{p.effective_macs / 1e6:.3f}",
            f"{p.latency_ms:.3f}",
        )
    console.print(table)
    if chosen:
        console.print(
            f"best within {max_loss_pp} pp: {chosen.label()} — {chosen.compression:.1f}x smaller, "
            f"{chosen.quality_loss_pp:+.2f} pp"
        )
    console.print(f"report: {render_compression_report(points, out, metric, chosen, synthetic)}")
