"""``biowear hr``: heart rate from wrist PPG + accelerometer (PULSE teacher/student), a thin layer over
:mod:`biowear.hr`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from biowear.cli.common import app, check_option, console, progress

hr_app = typer.Typer(
    no_args_is_help=True,
    help="Heart rate from wrist PPG + accelerometer: train the PULSE teacher and distilled student, evaluate\n"
    "leave one subject out, predict a recording.",
)
app.add_typer(hr_app, name="hr")

ANCHORS = {
    "TROIKA (Zhang et al. 2015), 12 SPC2015 training recordings": "2.34 BPM",
    "Deep PPG (Reiss et al. 2019), LOSO on the 12 SPC2015 training recordings": "4.00 BPM",
    "PULSE int8 student (seed 003), PPG-DaLiA": "4.81 BPM at 37.9 kB",
}


def _config(**kw):
    from biowear.hr import HRConfig

    return HRConfig(**{k: v for k, v in kw.items() if v is not None})


class _Bars:
    """Per-network epoch bars under one progress display."""

    def __init__(self, bar, lines: bool = True):
        self.bar, self.lines = bar, lines

    def __call__(self, name: str, epochs: int):
        from biowear.cli.train import EpochBars

        bar, lines = self.bar, self.lines

        class Named(EpochBars):
            def on_epoch_start(self, epoch: int, n_batches: int) -> None:
                self.task = bar.add_task(f"{name} epoch {epoch}/{epochs}", total=n_batches)

            def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
                bar.update(self.task, advance=1, description=f"{name} epoch {epoch}/{epochs} loss {loss:.3f}")

            def on_epoch_end(self, log) -> None:
                bar.remove_task(self.task)
                if lines and (log.epoch == 1 or log.epoch % 10 == 0):
                    console.print(f"  {name}: {log.summary()}", highlight=False)

        return (Named(bar),)


def _load(config, data_dir: Path | None):
    from biowear.hr.data import load_windows

    t0 = time.perf_counter()
    windows = load_windows(config, root=data_dir)
    subjects = sorted(set(windows.subject.tolist()))
    console.print(
        f"data: {config.dataset}, {len(windows.y)} windows of 8 s at {windows.fs_hz:g} Hz from "
        f"{len(set(windows.recording.tolist()))} recordings of {len(subjects)} subjects "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    return windows


Dataset = Annotated[str, typer.Option(help="heart-rate dataset: ieee_spc2015 | ppg_dalia | wesad_hr")]
DataDir = Annotated[Path | None, typer.Option(help="data root (default: BIOWEAR_DATA)")]
Epochs = Annotated[int | None, typer.Option(help="epochs of every network (default 20)")]
Seed = Annotated[int | None, typer.Option(help="seed (default 0)")]
Device = Annotated[str | None, typer.Option(help="auto | cpu | cuda")]
Ppg = Annotated[str | None, typer.Option(help="PPG input row: mean (of both channels) | 1 | 2")]
FsHz = Annotated[float | None, typer.Option(help="model rate in Hz (default 32)")]


@hr_app.command("train")
def hr_train(
    out: Annotated[Path, typer.Option(help="folder for teacher.pt, student.pt and hr.json")],
    dataset: Dataset = "ieee_spc2015",
    data_dir: DataDir = None,
    epochs: Epochs = None,
    val_subjects: Annotated[int | None, typer.Option(help="subjects held out for early stopping")] = None,
    ppg: Ppg = None,
    fs_hz: FsHz = None,
    seed: Seed = None,
    device: Device = None,
) -> None:
    """Train the final teacher and distilled student on all recordings (early stopping on held-out
    subjects) and save them as model files."""
    from biowear.hr.final import train_final

    config = _config(
        dataset=dataset, epochs=epochs, val_subjects=val_subjects, ppg=ppg, fs_hz=fs_hz, seed=seed, device=device
    )
    windows = _load(config, data_dir)
    t0 = time.perf_counter()
    with progress() as bar:
        saved = train_final(windows, config, out, progress=_Bars(bar))
    console.print(f"trained in {time.perf_counter() - t0:.0f} s; validation subjects {', '.join(saved.val_subjects)}")
    for name, cost in saved.costs.items():
        console.print(
            f"{name:13s} {cost.params:7d} params  {cost.storage_kB_fp32:8.1f} kB fp32  "
            f"{cost.storage_kB_int8:7.1f} kB int8  {cost.macs / 1e6:6.2f} MMACs  peak RAM {cost.peak_ram_kB:.1f} kB "
            f"({cost.arithmetic})  {cost.latency_ms:.1f} ms / {cost.energy_mJ:.3f} mJ on {cost.platform}",
            highlight=False,
        )
    for path in saved.paths:
        console.print(f"wrote {path}")


@hr_app.command("eval")
def hr_eval(
    out: Annotated[Path, typer.Option(help="folder for per-fold results (resumable) and the report")],
    dataset: Dataset = "ieee_spc2015",
    data_dir: DataDir = None,
    subjects: Annotated[str | None, typer.Option(help="comma-separated test subjects (default: all)")] = None,
    epochs: Epochs = None,
    ppg: Ppg = None,
    fs_hz: FsHz = None,
    seed: Seed = None,
    device: Device = None,
) -> None:
    """Leave-one-subject-out: MAE per recording of the classical tracker, teacher, student, distilled
    student and int8 student, with and without post-processing; report with traces and Bland-Altman."""
    from biowear.hr.evaluate import METHODS, evaluate_loso, loso_table
    from biowear.report.hr import render_hr_report

    config = _config(dataset=dataset, epochs=epochs, ppg=ppg, fs_hz=fs_hz, seed=seed, device=device)
    windows = _load(config, data_dir)
    only = [s.strip() for s in subjects.split(",") if s.strip()] if subjects else None
    with progress() as bar:
        fold_task = bar.add_task("folds", total=None)

        def on_fold(i: int, n: int, subject: str, resumed: bool) -> None:
            bar.update(fold_task, total=n, completed=i, description=f"fold {i + 1}/{n}: test {subject}")
            state = f"kept from {out / 'folds'}" if resumed else "training teacher, student, distilled student, int8"
            console.print(f"fold {i + 1}/{n} (test {subject}): {state}", highlight=False)

        results = evaluate_loso(windows, config, out, only, progress=_Bars(bar, lines=False), on_fold=on_fold)
        bar.update(fold_task, completed=len(results))
    table = loso_table(windows, results)
    report = render_hr_report(windows, results, table, out, dataset, ANCHORS)
    console.print("MAE (BPM), raw / post-processed:")
    console.print("recording      " + "".join(f"{m:>18s}" for m in METHODS), highlight=False)
    for r in table.recordings:
        cells = "".join(f"{table.mae[m][r]:8.2f} / {table.mae_post[m][r]:6.2f}" for m in METHODS)
        console.print(f"{r:14s} {cells}", highlight=False)
    cells = "".join(f"{table.mean(m):8.2f} / {table.mean(m, True):6.2f}" for m in METHODS)
    console.print(f"{'mean':14s} {cells}", highlight=False)
    console.print(f"report: {report}")


@hr_app.command("predict")
def hr_predict(
    recording: Annotated[Path, typer.Argument(help="a recording .mat (SPC2015 training or test format)")],
    model: Annotated[Path, typer.Option(help="folder written by `biowear hr train`")],
    truth: Annotated[Path | None, typer.Option(help="ground truth .mat with BPM0, to print the MAE")] = None,
    out: Annotated[Path | None, typer.Option(help="CSV of one BPM per window")] = None,
    network: Annotated[str, typer.Option(help="student | teacher")] = "student",
    post: Annotated[bool, typer.Option(help="limit each estimate to a band around its recent history")] = True,
) -> None:
    """Estimate one BPM per 8 s window (2 s shift, aligned with BPM0) of a recording."""
    from biowear.hr.final import predict_recording
    from biowear.validate import Options

    check_option("--network", network, Options(("student", "teacher")))
    result = predict_recording(recording, model, truth=truth, network=network, post=post)
    if out is not None:
        result.write_csv(out)
        console.print(f"wrote {out} ({len(result.bpm)} windows)")
    else:
        for k, v in enumerate(result.bpm):
            console.print(f"{k}\t{v:.2f}", highlight=False)
    if result.mae is not None:
        console.print(f"MAE {result.mae:.2f} BPM", highlight=False)
