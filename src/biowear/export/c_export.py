"""Export a network as int8 C into one folder, build it, and prove it equals the numpy reference.

The folder holds ``model.h``/``model.c``/``model_io.c``, the harness and ``Makefile`` of
:mod:`biowear.export.build`, and ``export.json`` (written last: a folder without it is an unfinished export and
is rewritten) with the quantisation, the arena, the weight bytes and every check that ran.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from biowear.errors import ConfigError
from biowear.export import build
from biowear.export.cgen import generate
from biowear.export.graph import lower
from biowear.export.quantize import QGraph, describe, quantize_graph, weight_bytes
from biowear.export.reference import run_int
from biowear.paths import atomic_write
from biowear.train.artifacts import write_json
from biowear.train.inputs import check_windows

MANIFEST = "export.json"


@dataclass(frozen=True)
class CExport:
    """What an export wrote and measured.

    Attributes:
        out_dir: the folder; files: names written into it.
        weights: the weight layout (``int8`` or ``kmeans``); weight_bytes: weights, biases, requantisation
            constants in bytes; arena_bytes / liveness_peak_bytes: the planned arena and its lower bound.
        calibration_windows: windows the activation ranges were observed on.
        host_windows / host_exact: windows run by the host build of the C code, and whether every int8 output
            equalled the reference; mcu_windows / mcu_exact: the same under QEMU (0 / None when not run).
        mcu: the Cortex-M4 build's measured sections and stack (:class:`biowear.export.build.McuBuild`), or None.
    """

    out_dir: Path
    files: tuple[str, ...]
    weights: str
    weight_bytes: dict[str, int]
    arena_bytes: int
    liveness_peak_bytes: int
    calibration_windows: int
    host_windows: int = 0
    host_exact: bool | None = None
    mcu_windows: int = 0
    mcu_exact: bool | None = None
    mcu: dict[str, Any] | None = None
    ops: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["out_dir"] = str(self.out_dir)
        return doc


def _prepare_folder(out_dir: Path) -> None:
    """Create the export folder, mark it unfinished (no manifest) and drop the build outputs of an earlier export
    (make trusts file times, which a copied folder or a skewed clock can make lie)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"export folder {out_dir} is a file; choose a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / MANIFEST).unlink(missing_ok=True)  # the folder is unfinished until the manifest is back
        shutil.rmtree(out_dir / "build", ignore_errors=True)
        (out_dir / "infer").unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the export into {out_dir}: {exc.strerror or exc}") from None


def _write(out_dir: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        atomic_write(out_dir / name, lambda fh, t=text: fh.write(t.encode()))


def export_c(
    model: nn.Module,
    input_shape: Sequence[int],
    out_dir: Path,
    calibration: np.ndarray,
    *,
    weights: str = "int8",
    ranges: str = "mse",
    check: np.ndarray | None = None,
    mcu: bool = False,
    mcu_windows: int = 4,
    name: str = "model",
    progress: Callable[[str], None] | None = None,
) -> tuple[CExport, QGraph]:
    """Quantise ``model`` on ``calibration`` windows, write its C into ``out_dir``, build and check it.

    Args:
        model: a float network (as :class:`~biowear.train.artifacts.SavedModel` holds it; its input and
            target scales are part of the export).
        input_shape: (channels, samples) of a window.
        calibration: raw training windows ``(n, channels, samples)``.
        weights: ``int8`` or ``kmeans`` (packed codes where a tensor has few distinct values).
        ranges: how activation ranges are chosen (:data:`~biowear.export.quantize.RANGE_METHODS`).
        check: windows to run through the host build and compare with the reference (None: build only).
        mcu: also cross-compile for the Cortex-M4, measure flash/RAM/stack and run ``mcu_windows`` of ``check``
            under QEMU.
        progress: hears a short line before each stage.

    Returns:
        The record of the export and the quantised graph (for the reference).

    Raises:
        ConfigError: an unsupported layer, bad windows, a missing compiler, or C that does not equal the
            reference (a bug: the message names the first differing window).
    """
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    _prepare_folder(out_dir)
    shape = (int(input_shape[0]), int(input_shape[1]))
    say("lowering and calibrating")
    qgraph = quantize_graph(lower(model, shape), calibration, weights, ranges)
    files, plan = generate(qgraph, name)
    _write(out_dir, files)
    windows = None if check is None else check_windows(check, shape, "the check windows")
    harness_windows = windows[: max(mcu_windows, 1)] if windows is not None else None
    build.write_harness(out_dir, harness_windows, mcu_windows=mcu_windows if harness_windows is not None else 4)
    say("building the host harness")
    build.build_host(out_dir)
    result: dict[str, Any] = {}
    if windows is not None:
        say(f"running {len(windows)} windows in C and in the numpy reference")
        expected = run_int(qgraph, windows)
        got = build.run_host(out_dir, windows)
        result.update(host_windows=len(windows), host_exact=_same(expected, got, "host C"))
    if mcu:
        say("cross-compiling for the Cortex-M4 and running under QEMU")
        mcu_build = build.build_mcu(out_dir)
        result["mcu"] = mcu_build.to_dict()
        if harness_windows is not None:
            embedded = harness_windows[:mcu_windows]
            run = build.run_mcu_report(out_dir)
            result["mcu"]["stack_high_water_bytes"] = run.stack_high_water_bytes  # measured in QEMU, beside the static
            exact = _same(run_int(qgraph, embedded), run.outputs, "Cortex-M4 C")
            result.update(mcu_windows=len(embedded), mcu_exact=exact)
    record = CExport(
        out_dir, tuple(sorted(files)), weights, weight_bytes(qgraph), plan.size_bytes, plan.peak_bytes,
        qgraph.calibration_windows, ops=describe(qgraph), **result,
    )  # fmt: skip
    write_json(out_dir / MANIFEST, record.to_dict())
    return record, qgraph


def _same(expected: np.ndarray, got: np.ndarray, what: str) -> bool:
    if expected.shape != got.shape:
        raise ConfigError(f"{what} printed outputs of shape {got.shape}; the reference has {expected.shape}")
    bad = np.flatnonzero((expected != got).any(axis=1))
    if bad.size:
        raise ConfigError(
            f"{what} differs from the numpy reference on {bad.size} of {len(got)} windows (first: window {bad[0]}: "
            f"{got[bad[0]].tolist()} vs {expected[bad[0]].tolist()}); please report this as a bug"
        )
    return True
