"""``biowear explore``, ``compare``, ``report`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from biowear.cli.common import SYNTHETIC_BANNER, app, check_option, console
from biowear.cli.common import progress as _progress
from biowear.cli.train import EpochBars
from biowear.errors import ConfigError
from biowear.search.executor import EXECUTORS
from biowear.search.strategies import STRATEGIES
from biowear.train.artifacts import write_json

# The built-in demo: SYNTHETIC ECG in the five AAMI classes, two epochs per network, and the Kachuee CNN family
# from 16 kB to 170 kB (blocks 1-3, 8/16/32 filters: 9 networks). Two epochs are few enough that a small network
# still confuses the rare classes while a wider one separates them, so the front holds several networks (a real
# quality/storage trade-off); binary labels or a few more epochs let every network reach the same accuracy.
_DEMO_STUDY = {
    "study": {"name": "demo-synthetic", "family": "ecg_cnn"},
    "data": {
        "datasets": ["synthetic_ecg"],
        "labels": "aami5",
        "records": ["syn000", "syn003", "syn006", "syn012"],
        "fs_hz": 128.0,
        "window": {"kind": "beat", "window_samples": 128},
    },
    "train": {"epochs": 2, "batch_size": 64, "patience": 1},
    "space": {"blocks": [1, 3], "filters": [8, 32], "dense": [16, 16]},
    "ga": {"population": 8, "generations": 3},
    "strategy": {"random_fraction": 0.25},
}


def _load_study(
    config: Path | None,
    study: str | None,
    alpha: float | None = None,
    epochs: int | None = None,
    records: str | None = None,
    seed: int | None = None,
):
    """The study configuration of ``config`` (default: the built-in demo) with the command-line overrides; an
    override that changes what is trained also changes the study name (unless ``--study`` names it)."""
    import hashlib
    from dataclasses import replace

    from biowear.search import load_study_config, study_config_from_dict
    from biowear.validate import Interval

    if alpha is not None:
        check_option("--alpha", alpha, Interval(float, 0, 1))
    if epochs is not None:
        check_option("--epochs", epochs, Interval(int, 1, None))
    if seed is not None:
        check_option("--seed", seed, Interval(int, 0, None))
    subset = tuple(r.strip() for r in records.split(",") if r.strip()) if records is not None else None
    if subset is not None and not subset:
        raise ConfigError("--records needs at least one record name, e.g. --records 100,101")
    cfg = load_study_config(config) if config else study_config_from_dict(_DEMO_STUDY)
    name = cfg.name
    if epochs is not None:
        cfg = replace(cfg, train=replace(cfg.train, epochs=epochs))
        name += f"-epochs{epochs}"
    if subset is not None:
        cfg = replace(cfg, data=replace(cfg.data, records=subset))
        short = (
            "_".join(subset)
            if len(subset) <= 3
            else f"{len(subset)}x{hashlib.sha1(','.join(subset).encode()).hexdigest()[:6]}"
        )
        name += f"-records{short}"
    if seed is not None:
        cfg = replace(cfg, seed=seed, train=replace(cfg.train, seed=seed), split=replace(cfg.split, seed=seed))
        name += f"-seed{seed}"
    if alpha is not None:
        objective = replace(cfg.objective, alpha=alpha, beta=round(1 - alpha, 12))
        cfg = replace(cfg, objective=objective)
        name += f"-alpha{alpha:g}"
    return replace(cfg, name=study or name)


class _ExploreProgress:
    """Listener printing one line per network and advancing a per-strategy bar."""

    def __init__(self, bar: Progress, task, study):
        self.bar, self.task, self.study = bar, task, study

    def __call__(self, strategy, arch, ev, reused) -> None:
        self.bar.advance(self.task)
        label = escape(self.study.space.label(arch))
        if ev.status == "ok":
            how = "cached" if reused else f"trained in {ev.train_time_s:.1f} s"
            objective = self.study.config.objective
            name = "acc" if objective.metric_name == "accuracy" else objective.metric_name
            console.print(
                f"  {strategy}: {label:<24} {name} {objective.quality(ev.metrics):.4f}  "
                f"storage {ev.cost['storage_bytes'] / 1e3:,.1f} kB  ({how})"
            )
        else:
            console.print(f"  {strategy}: {label:<24} {ev.status}: {escape(str(ev.reason))}")


class _WorkerProgress:
    """Prints each finished epoch a (Dask) worker reports: worker, network, epoch, losses, time."""

    def __call__(self, m: dict) -> None:
        quality = f"val MAE {m['val_mae']:.4f}" if "val_mae" in m else f"val acc {m.get('val_accuracy', 0):.4f}"
        console.print(
            f"    {escape(str(m.get('worker', '?')))}: {escape(str(m.get('arch', '?')))} epoch {m.get('epoch')}/"
            f"{m.get('epochs')} train loss {m.get('train_loss', 0):.4f}, val loss {m.get('val_loss', 0):.4f}, "
            f"{quality} ({m.get('seconds', 0):.1f} s)",
            highlight=False,
            soft_wrap=True,
        )


def _executor_options(executor: str, scheduler: str | None, device: str | None) -> dict:
    """The executor's options from --scheduler and --device, checked (one-line errors)."""
    from biowear.search.executor import check_device

    if scheduler and executor != "dask":
        raise ConfigError(f"--scheduler joins a Dask cluster: use it with --executor dask (not {executor!r})")
    return {"scheduler": scheduler, "device": check_device(device or ""), "progress": _WorkerProgress()}


def _run_strategies(
    cfg, directory: Path, strategies: list[str], executor: str, workers: int, options: dict | None = None
):
    from biowear.search import Study
    from biowear.search.executor import make_executor

    study = Study(cfg, directory)
    write_json(directory / f"{cfg.name}.config.json", cfg.to_dict())
    console.print(
        f"study {cfg.name!r} in {directory}: {len(study.space.feasible_points)} of "
        f"{len(study.space.points)} points feasible; objective {cfg.objective.label()}"
    )
    synthetic = load_synthetic_flag(cfg)
    if synthetic:
        console.print(SYNTHETIC_BANNER)
    results = {}
    # one pool (or Dask cluster) for every strategy; the in-process executor gets each strategy's epoch bars
    shared = pool = None
    try:
        if executor != "local":
            shared = pool = make_executor(executor, workers, **(options or {}))
        for name in strategies:
            with _progress() as bar:
                task = bar.add_task(f"{name}: networks", total=None)
                if shared is None:
                    pool = make_executor(executor, workers, callbacks=(EpochBars(bar),), **(options or {}))
                results[name] = study.run(name, pool, listener=_ExploreProgress(bar, task, study))
                if shared is None:
                    pool.close()
            r = results[name]
            best = r.best
            console.print(
                f"{name}: {r.n_trained} trained, {r.n_infeasible} infeasible, exploration time "
                f"{r.exploration_time_s:.1f} s, front of {len(r.front)}, hypervolume {r.hypervolume:.4f}"
                + (f", best phi {best.phi:.4f} ({study.space.label(best.arch)})" if best else ""),
                soft_wrap=True,  # one line per strategy in logs too (the console is 140 wide off a terminal)
            )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: every finished network is stored; run the same command to resume")
        raise typer.Exit(130) from None
    finally:
        if pool is not None:
            pool.close()
    return study, results, synthetic


def load_synthetic_flag(cfg) -> bool:
    """True when the study's prepared data is generated (any source; arrays say so in their file)."""
    from biowear.search.evaluate import load_data

    return bool(load_data(cfg.data).synthetic)


# The overrides `explore` and `compare` share (each gives the study a new name unless --study names it);
# "\\[" keeps rich from reading a TOML section name as markup.
AlphaOption = Annotated[float | None, typer.Option(help="quality weight (beta = 1 - alpha); new study name")]
EpochsOption = Annotated[int | None, typer.Option(help="override \\[train] epochs; new study name")]
RecordsOption = Annotated[str | None, typer.Option(help="override \\[data] records (comma-separated); new study name")]
SeedOption = Annotated[
    int | None, typer.Option(help="override the strategy, \\[train] and \\[split] seeds; new study name")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="with --executor dask: join the Dask cluster at tcp://HOST:PORT (e.g. one dask-jobqueue started on "
        "SLURM) instead of starting a local one of --workers processes; --dir must be on a disk every worker sees "
        "at the same path (the store and models/ are written there; see docs/distributed.md)"
    ),
]
DeviceOption = Annotated[
    str | None,
    typer.Option(
        help="where networks train: auto (CUDA where present) | cpu | cuda; default: the study's \\[train] device. "
        "An execution setting: stored networks keep their keys"
    ),
]


@app.command()
def explore(
    config: Annotated[
        Path | None, typer.Argument(help="study TOML file (default: the built-in synthetic demo)")
    ] = None,
    directory: Annotated[Path, typer.Option("--dir", help="study folder (store.sqlite, models/, report/)")] = Path(
        "runs/explore"
    ),
    strategy: Annotated[str, typer.Option(help=STRATEGIES.choices())] = "nsga2",
    study: Annotated[str | None, typer.Option(help="override the study name")] = None,
    executor: Annotated[str, typer.Option(help=EXECUTORS.choices())] = "local",
    workers: int = 2,
    alpha: AlphaOption = None,
    epochs: EpochsOption = None,
    records: RecordsOption = None,
    seed: SeedOption = None,
    scheduler: SchedulerOption = None,
    device: DeviceOption = None,
) -> None:
    """Explore the architecture space with one strategy; resumable; writes a report.

    Several explore or compare processes (or Dask workers) may share one --dir: each network is trained once, by
    whoever claims it first (docs/distributed.md)."""
    from biowear.report import render_study_report

    STRATEGIES.get(strategy)
    EXECUTORS.get(executor)
    options = _executor_options(executor, scheduler, device)
    cfg = _load_study(config, study, alpha, epochs, records, seed)
    st, results, synthetic = _run_strategies(cfg, directory, [strategy], executor, workers, options)
    path = render_study_report(st, results, directory / f"report-{cfg.name}", synthetic)
    console.print(f"report: {escape(str(path.with_suffix('.html')))} (Markdown: {escape(path.name)})")


@app.command()
def compare(
    config: Annotated[
        Path | None, typer.Argument(help="study TOML file (default: the built-in synthetic demo)")
    ] = None,
    directory: Annotated[Path, typer.Option("--dir", help="study folder")] = Path("runs/explore"),
    study: Annotated[str | None, typer.Option(help="override the study name")] = None,
    executor: Annotated[str, typer.Option(help=EXECUTORS.choices())] = "local",
    workers: int = 2,
    alpha: AlphaOption = None,
    epochs: EpochsOption = None,
    records: RecordsOption = None,
    seed: SeedOption = None,
    scheduler: SchedulerOption = None,
    device: DeviceOption = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="replay against this tabular benchmark (no training)")
    ] = None,
    seeds: Annotated[int, typer.Option(help="with --table: seeds per strategy")] = 20,
    strategies: Annotated[
        str | None, typer.Option(help="with --table: comma-separated strategies (default all)")
    ] = None,
) -> None:
    """Run every registered strategy over one study (sharing trained networks) and compare them with exhaustive.

    With --table, replay them against a tabular benchmark over --seeds seeds instead (seconds, no training)."""
    if table is not None:
        from biowear.cli.replay import replay_command

        cfg = _load_study(config, study, alpha, epochs, records, seed)
        replay_command(cfg, table, seeds, strategies, directory)
        return
    EXECUTORS.get(executor)
    options = _executor_options(executor, scheduler, device)
    cfg = _load_study(config, study, alpha, epochs, records, seed)
    _compare_strategies(cfg, directory, executor, workers, options)


def _compare_strategies(cfg, directory: Path, executor: str, workers: int, options: dict | None = None):
    """Run every strategy, print the comparison table and write the report; returns the study, the results and
    the report's Markdown path."""
    from biowear.report import compare_rows, render_study_report
    from biowear.search import ALL_STRATEGIES

    st, results, synthetic = _run_strategies(cfg, directory, list(ALL_STRATEGIES), executor, workers, options)
    table = Table(title=f"strategies on {cfg.name} ({cfg.objective.label()})" + (" — SYNTHETIC" if synthetic else ""))
    for col in ("strategy", "trained", "exploration s", "hypervolume", "HV / exhaustive", "time reduction", "best phi"):
        table.add_column(col, justify="right")
    for r in compare_rows(results):
        table.add_row(
            r.strategy,
            str(r.n_trained),
            f"{r.exploration_time_s:.1f}",
            f"{r.hypervolume:.4f}",
            "-" if r.hypervolume_ratio is None else f"{r.hypervolume_ratio:.3f}",
            "-" if r.time_reduction is None else f"{r.time_reduction:.2f}x",
            "-" if r.best_phi is None else f"{r.best_phi:.4f}",
        )
    console.print(table)
    path = render_study_report(st, results, directory / f"report-{cfg.name}", synthetic)
    console.print(f"report: {escape(str(path.with_suffix('.html')))} (Markdown: {escape(path.name)})")
    return st, results, path


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="study folder holding store.sqlite (only read)")],
    study: Annotated[str | None, typer.Option(help="study name (default: the only one)")] = None,
    alpha: Annotated[float | None, typer.Option(help="re-rank with this quality weight (beta = 1 - alpha)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: DIR/report-<study>[-alpha<a>])")
    ] = None,
) -> None:
    """Render plots and Markdown/HTML tables of a study from its store (no training; the store is only read)."""
    from biowear.report import render_study_report
    from biowear.search import Store, Study, study_config_from_dict

    if alpha is not None:
        from biowear.validate import Interval

        check_option("--alpha", alpha, Interval(float, 0, 1))
    path = directory / "store.sqlite"
    if not path.is_file():
        raise ConfigError(f"{directory} holds no store.sqlite; run `biowear explore --dir {directory}` first")
    store = Store(path, read_only=True)
    try:
        names = store.study_names()
        name = study or (names[0] if len(names) == 1 else None)
        if name is None:
            raise ConfigError(f"{directory} holds several studies; pick one with --study: {', '.join(names)}")
        cfg = study_config_from_dict(store.study_config(name))
        strategies = store.strategies(name)
    finally:
        store.close()
    suffix = "" if alpha is None else f"-alpha{alpha:g}"
    out_dir = out if out is not None else directory / f"report-{name}{suffix}"
    _check_writable_folder(out_dir)
    st = Study(cfg, directory, read_only=True)
    if alpha is not None:
        st = st.with_objective(alpha=alpha, beta=1 - alpha)
    results = {s: st.result(s) for s in strategies}
    if not st.all_points():
        console.print(
            "[yellow]warning:[/] no trained network matches this study's data and training recipe; the data "
            "files or the data configuration changed since the study ran (its networks stay in the store)"
        )
    written = render_study_report(st, results, out_dir, load_synthetic_flag(cfg))
    st.close()
    for s, r in results.items():
        console.print(
            f"{s}: front of {len(r.front)}, hypervolume {r.hypervolume:.4f}, "
            f"best {st.space.label(r.best.arch) if r.best else '-'}"
        )
    console.print(f"report: {escape(str(written.with_suffix('.html')))} (Markdown: {escape(written.name)})")


def _check_writable_folder(folder: Path) -> None:
    """Refuse, in one line, a report folder that cannot be written (read-only, or a file in the way)."""
    import os

    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise ConfigError(f"cannot write the report to {folder}: {existing} is a file; use --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write the report to {folder}: {existing} is read-only; use --out to write it elsewhere"
        )


def _demo_export(model_path: Path, compressed: Path) -> list[Path]:
    """Export the chosen compressed variant (else the network itself) as int8 C, checked against the reference;
    skipped with a note when this machine has no C compiler."""
    import shutil

    from biowear.cli.export import export

    if shutil.which("cc") is None or shutil.which("make") is None:
        console.print("no C compiler (cc) or make on this machine: the int8 C export is skipped")
        return []
    chosen = sorted((compressed / "variants").glob("*.pt"))
    source = chosen[0] if chosen else model_path
    console.print(f"exporting {escape(source.name)} as int8 C")
    export(source, out=compressed / "c", config=model_path.parent.parent / "config.json", check=64)
    return [compressed / "c" / "model.c"]


@app.command()
def demo(out: Path = Path("runs/demo")) -> None:
    """Offline demo on SYNTHETIC ECG: compare every search strategy on a small space (a front of several
    networks), report, compress the most accurate Pareto network, export it as int8 C, and list what was written."""
    import hashlib

    from biowear.cli.compress import compress
    from biowear.report.explore import pareto_model_folder

    console.print(SYNTHETIC_BANNER)
    cfg = _load_study(None, None)
    st, results, report_md = _compare_strategies(cfg, out, "local", 2)
    front = results["exhaustive"].front
    best = max(front, key=lambda p: p.quality) if front else None  # the most to lose: compression shows its cost
    st.close()
    written = [report_md.with_suffix(".html"), *sorted(report_md.parent.glob("*.png"))]
    model_path = report_md.parent / "pareto_models" / pareto_model_folder(st, best.arch) / "model.pt" if best else None
    if best is not None and model_path is not None and model_path.is_file():
        digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:8]  # a retrained network gets a new folder
        compressed = out / "compress" / f"{model_path.parent.name}-{digest}"
        console.print(f"compressing the front's most accurate network, {escape(st.space.label(best.arch))}")
        compress(
            model_path,
            config=model_path.parent.parent / "config.json",
            methods="global,lamp",
            sparsity="0.5,0.8",
            bits="3,4",
            finetune_epochs=1,
            structured="0.5",
            out=compressed,
        )
        written += [compressed / "compression.html", *sorted(compressed.glob("*.png"))]
        written += _demo_export(model_path, compressed)
    console.print(f"demo reports and files ({len(front)} networks on the exhaustive front):")
    for path in written:
        console.print(f"  {escape(str(path))}", soft_wrap=True)
