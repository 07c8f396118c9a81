"""Run applications under the profiler and collect :class:`BenchResult` records (JSON-serialisable)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from biowear.bench.app import App, AppOutput, Window
from biowear.bench.apps import APPS
from biowear.bench.platforms import PLATFORMS, Platform
from biowear.errors import ConfigError
from biowear.kernels.profiler import PHASES, UNASSIGNED, OpCounts, Profiler


@dataclass(frozen=True)
class KernelProfile:
    phase: str
    kernel: str
    calls: int
    time_s: float
    ops: dict[str, int]


@dataclass(frozen=True)
class PlatformEstimate:
    """Estimated processing of one window on one platform, and energy over one acquisition period."""

    platform: str
    cycles: float
    processing_s: float
    processing_energy_j: float
    duty_cycle: float  # processing time / acquisition period; > 1 means not real time; NaN without acquisition
    acquisition_idle_energy_j: float
    total_energy_j: float
    dominant_kernel: str


@dataclass(frozen=True)
class BenchResult:
    """Profile and quality of one application in one arithmetic mode."""

    app: str
    fixed_point: bool
    arithmetic: str
    synthetic: bool
    data_source: str
    window_s: float
    wall_s: float
    realtime_factor: float
    phases: dict[str, dict]
    kernels: list[KernelProfile]
    dominant_kernel: str
    dominant_phase: str
    static_bytes: int
    dynamic_bytes: int
    input_bytes_per_s: float
    test_windows: int
    accuracy: float | None
    scores: dict[str, float] = field(default_factory=dict)
    fixed_vs_float: dict[str, float] = field(default_factory=dict)
    platforms: list[PlatformEstimate] = field(default_factory=list)
    # real data only (see biowear.bench.realdata.RealScore): None / empty on generated input
    dataset: str | None = None
    split: str | None = None
    subjects: list[str] = field(default_factory=list)
    n_windows: int = 0
    classes: list[str] = field(default_factory=list)
    label_source: str = ""
    chance: dict[str, float] = field(default_factory=dict)
    pooled: dict[str, Any] = field(default_factory=dict)
    per_subject: dict[str, dict[str, Any]] = field(default_factory=dict)
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def total_ops(self) -> OpCounts:
        total = OpCounts()
        for k in self.kernels:
            total = total + OpCounts(**k.ops)
        return total


def estimate(
    result_kernels: list[KernelProfile], platform: Platform, floating: bool, period_s: float
) -> PlatformEstimate:
    """First-order time and energy of one window on ``platform`` from the kernels' operation counts."""
    per_kernel = {}
    for k in result_kernels:
        per_kernel[k.kernel] = per_kernel.get(k.kernel, 0.0) + platform.cycles(OpCounts(**k.ops), floating)
    cycles = float(sum(per_kernel.values()))
    t = cycles / platform.clock_hz.value
    e_proc = t * platform.active_w.value
    if period_s > 0:
        duty = t / period_s  # > 1: the platform cannot keep up with the acquisition in real time
        e_idle = max(period_s - t, 0.0) * platform.sleep_w.value
    else:  # no acquisition phase (e.g. on-device training while charging)
        duty, e_idle = float("nan"), 0.0
    dominant = max(per_kernel, key=per_kernel.get) if per_kernel else "-"
    return PlatformEstimate(platform.name, cycles, t, e_proc, duty, e_idle, e_proc + e_idle, dominant)


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return float("nan")
    denom = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else float(np.linalg.norm(a - b))


def compare_outputs(fixed: list[AppOutput], floating: list[AppOutput]) -> dict[str, float]:
    """Decision agreement and mean relative L2 error of each intermediate (fixed vs float)."""
    out = {"decision_agreement": float(np.mean([f.decision == g.decision for f, g in zip(fixed, floating)]))}
    for key in floating[0].intermediates:
        errs = [_rel_error(f.intermediates[key], g.intermediates[key]) for f, g in zip(fixed, floating)]
        finite = [e for e in errs if np.isfinite(e)]
        out[f"rel_error.{key}"] = float(np.mean(finite)) if finite else float("nan")
        if len(finite) < len(errs):
            out[f"shape_mismatch.{key}"] = float(len(errs) - len(finite))
    return out


@dataclass(frozen=True)
class WindowProfile:
    """The profile of one window: per-kernel records, per-phase totals and the best wall time."""

    kernels: list[KernelProfile]
    phases: dict[str, dict]
    wall_s: float


def profile_window(app: App, window: Window, fixed: bool = False, repeats: int = 1) -> WindowProfile:
    """Run ``window`` under the profiler ``repeats`` times (after a warm-up); the fastest run's profile."""
    app.run(window, fixed)  # warm-up: imports, caches
    best: Profiler | None = None
    best_wall = float("inf")
    for _ in range(max(1, repeats)):
        prof = Profiler()
        start = time.perf_counter()
        with prof.active():
            app.run(window, fixed)
        wall = time.perf_counter() - start
        if wall < best_wall:
            best, best_wall = prof, wall
    assert best is not None
    kernels = [KernelProfile(ph, name, s.calls, s.time_s, s.ops.as_dict()) for (ph, name), s in best.stats.items()]
    phases = {}
    for ph in (*PHASES, UNASSIGNED):
        ks = [k for k in kernels if k.phase == ph]
        if ks:
            ops = sum((OpCounts(**k.ops) for k in ks), OpCounts())
            phases[ph] = {"time_s": sum(k.time_s for k in ks), "ops": ops.as_dict()}
    return WindowProfile(kernels, phases, best_wall)


def _result(
    app: App,
    fixed: bool,
    prof: WindowProfile,
    outputs: list[AppOutput],
    platforms: tuple[str, ...],
    accuracy: float | None,
    scores: dict[str, float],
    comparison: dict[str, float],
    n_test: int,
) -> BenchResult:
    kernels, phases, best_wall = prof.kernels, prof.phases, prof.wall_s
    dominant = max(kernels, key=lambda k: k.time_s).kernel if kernels else "-"
    dom_phase = max(phases, key=lambda p: phases[p]["time_s"]) if phases else "-"
    input_bytes = sum(s.channels * s.samples * s.sample_bits // 8 for s in app.info.signals)
    largest = max((int(np.asarray(v).size) for v in outputs[0].intermediates.values()), default=0)
    dynamic = input_bytes + 2 * largest * app.word_bytes
    floating = app.info.arithmetic == "fp32" or not fixed
    period = app.info.period_s
    estimates = [estimate(kernels, PLATFORMS.get(p), floating, period) for p in platforms]
    window_s = max(s.duration_s for s in app.info.signals)
    # a float run of a fixed-point app is NumPy's float64: the reference the fixed-point run is compared with
    arithmetic = app.info.arithmetic if fixed or app.info.arithmetic == "fp32" else "fp64 (reference)"
    return BenchResult(
        app=app.info.name,
        fixed_point=fixed,
        arithmetic=arithmetic,
        synthetic=app.synthetic,
        data_source=app.data_source,
        window_s=window_s,
        wall_s=best_wall,
        realtime_factor=window_s / best_wall if best_wall > 0 else float("inf"),
        phases=phases,
        kernels=kernels,
        dominant_kernel=dominant,
        dominant_phase=dom_phase,
        static_bytes=int(app.static_bytes()),
        dynamic_bytes=int(dynamic),
        input_bytes_per_s=float(sum(s.bytes_per_s for s in app.info.signals)),
        test_windows=n_test,
        accuracy=accuracy,
        scores=scores,
        fixed_vs_float=comparison,
        platforms=estimates,
    )


def run_app(app: App, fixed: bool = False, platforms: tuple[str, ...] = (), repeats: int = 1) -> BenchResult:
    """Profile one prepared application on its first test window and evaluate all its test windows.

    Args:
        app: a prepared application (``app.prepare(...)`` done).
        fixed: run the fixed-point mode (apps without one raise ConfigError).
        platforms: platform names to estimate time and energy for.
        repeats: profiled runs (the reported wall times are their minimum per kernel).
    """
    if fixed and not app.supports_fixed:
        raise ConfigError(f"{app.info.name} has no fixed-point mode (it is {app.info.arithmetic})")
    if not app.test_windows:
        raise ConfigError(f"{app.info.name} has no test windows; call prepare() first")
    prof = profile_window(app, app.test_windows[0], fixed, repeats)
    outputs = [app.run(w, fixed) for w in app.test_windows]
    labels = [w.label for w in app.test_windows]
    acc = None
    if all(lab is not None for lab in labels):
        acc = float(np.mean([o.decision == lab for o, lab in zip(outputs, labels)]))
    comparison = compare_outputs(outputs, [app.run(w, False) for w in app.test_windows]) if fixed else {}
    return _result(app, fixed, prof, outputs, platforms, acc, app.scores(outputs), comparison, len(outputs))


def _numeric(d: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float, np.floating, np.integer))}


def run_real(
    app: App,
    folder: Path | None = None,
    dataset: str | None = None,
    fixed: bool = False,
    platforms: tuple[str, ...] = (),
    seed: int = 0,
    quick: bool = False,
    repeats: int = 1,
) -> list[BenchResult]:
    """Score an application on real recordings split by subject, and profile it on a real held-out window.

    The app's ``real_windows(folder, dataset, quick)`` cuts the windows; every split of ``real_splits`` is
    evaluated with :func:`~biowear.bench.realdata.evaluate_split` (the primary, first, split last, so the app
    stays fitted on its last fold); the profile is of that fold's first held-out window. ``fixed`` adds a
    fixed-point result whose decision agreement with float is over every held-out window.

    Returns:
        the float result, then the fixed-point one when asked for and the app has one.
    """
    from biowear.bench.realdata import evaluate_split, has_real_path, real_splits

    if not has_real_path(app):
        raise ConfigError(f"{app.info.name} has no real-data path")
    data = app.real_windows(folder, dataset, quick)  # type: ignore[attr-defined]
    splits = list(real_splits(app, data).items())
    scores = {}
    for name, split in [*splits[1:], splits[0]]:
        scores[name] = evaluate_split(app, data, split, seed=seed, quick=quick, fixed=fixed)
    primary = scores[splits[0][0]]
    where = folder if folder is not None else "the data root"
    app.synthetic = False
    app.data_source = f"real: {data.dataset} ({where}); {primary.split} over {len(primary.subjects)} subjects"
    app.test_windows = list(primary.last_test)
    others = {k: v.to_dict() for k, v in scores.items() if k != splits[0][0]}
    modes = [False, True] if fixed and app.supports_fixed else [False]
    results = []
    for mode in modes:
        prof = profile_window(app, app.test_windows[0], mode, repeats)
        outputs = [app.run(app.test_windows[0], mode)]
        pooled = primary.fixed_pooled if mode else primary.pooled
        comparison: dict[str, float] = {}
        if mode:
            comparison = compare_outputs(
                [app.run(w, True) for w in app.test_windows], [app.run(w, False) for w in app.test_windows]
            )
            comparison.update(primary.fixed_vs_float)
        res = _result(
            app, mode, prof, outputs, platforms, pooled["accuracy"], _numeric(pooled), comparison, primary.n_windows
        )
        results.append(
            replace(
                res,
                dataset=primary.dataset,
                split=primary.split,
                subjects=list(primary.subjects),
                n_windows=primary.n_windows,
                classes=list(primary.classes),
                label_source=primary.label_source,
                chance=dict(primary.chance),
                pooled=pooled,
                per_subject=primary.per_subject,
                baselines=primary.baselines,
                folds=primary.folds,
                notes=list(primary.notes),
                evaluations=others,
            )
        )
    return results


def _real_folder(
    name: str, data_dir: Path | None, dataset: str | None, data_root: Path | None, synthetic: bool
) -> tuple[bool, Path | None]:
    """Whether ``name`` runs on real data, and the dataset folder it reads."""
    from biowear.bench.realdata import REAL_DATASETS, resolve_dataset

    if synthetic:
        if data_dir is not None or dataset is not None:
            raise ConfigError("--synthetic runs on generated inputs; it cannot be combined with --data-dir/--dataset")
        return False, None
    if name not in REAL_DATASETS:
        if data_dir is not None or dataset is not None:
            raise ConfigError(
                f"{name} reads no recording folder (--data-dir/--dataset); applications that do: "
                f"{', '.join(REAL_DATASETS)}"
            )
        return False, None
    ds = resolve_dataset(name, dataset, data_dir)
    if data_dir is not None:
        ds.index()  # a missing or empty folder is one clear error
        return True, Path(data_dir)
    if ds.available(data_root):
        return True, ds.directory(data_root)
    if dataset is not None:
        ds.index(data_root)  # the asked-for dataset is missing: say where it was looked for
    return False, None


def run_suite(
    names: list[str] | None = None,
    fixed: bool = False,
    platforms: tuple[str, ...] = ("apollo3",),
    seed: int = 0,
    data_root: Path | None = None,
    quick: bool = False,
    on_progress: Callable[[str, str], None] | None = None,
    data_dir: Path | None = None,
    dataset: str | None = None,
    synthetic: bool = False,
) -> list[BenchResult]:
    """Prepare and run applications (all eight by default); ``fixed`` adds fixed-point runs for the apps
    that have one. ``on_progress(app, stage)`` is called as each app is prepared and run.

    Real data is the default: an application with a real-data path (see :mod:`biowear.bench.realdata`) whose
    dataset folder is present under ``data_root`` (or is ``data_dir``) is scored on it, split by subject
    (:func:`run_real`); the others, or all with ``synthetic``, run on generated inputs (labelled as such).

    Raises:
        ConfigError: unknown names, ``data_dir``/``dataset`` with several applications or with one that reads
            no folder, an unknown dataset for the app (listing the valid ones).
        DataError: a missing or unreadable folder.
    """
    from biowear.bench.realdata import REAL_DATASETS

    names = names or APPS.names()
    classes = [APPS.get(name) for name in names]  # unknown names fail before any app is trained
    for p in platforms:
        PLATFORMS.get(p)
    if (data_dir is not None or dataset is not None) and len(names) != 1:
        raise ConfigError(f"--data-dir/--dataset name one application's folder; got {len(names)} applications")
    plans = [_real_folder(name, data_dir, dataset, data_root, synthetic) for name in names]
    results = []
    for name, cls, (real, folder) in zip(names, classes, plans):
        if on_progress:
            on_progress(name, "training")
        if real and hasattr(cls, "real_prepare"):  # scored on its own terms (e.g. on-device training)
            app = cls().real_prepare(folder, dataset, seed=seed, quick=quick)
            results.append(replace(run_app(app, False, platforms), dataset=dataset or REAL_DATASETS[name][0]))
        elif real:
            results.extend(run_real(cls(), folder, dataset, fixed, platforms, seed, quick))
        if real:
            if on_progress:
                on_progress(name, "done")
            continue
        app = cls().prepare(seed=seed, data_root=data_root, quick=quick)
        if on_progress:
            on_progress(name, "profiling")
        results.append(run_app(app, False, platforms))
        if fixed and app.supports_fixed:
            results.append(run_app(app, True, platforms))
        if on_progress:
            on_progress(name, "done")
    return results
