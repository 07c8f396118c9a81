"""Tabular benchmarks: every network of a space trained once, with its learning curve, so strategies can be
replayed in seconds (:mod:`biowear.search.replay`), as NAS-Bench does for image networks.

A table is made by the normal exhaustive exploration of a study with ``[study] curves = true`` and exported
from its store with :func:`table_from_study`. Each entry holds the network's exact costs and, per epoch, the
training and validation loss, the validation quality, the epoch's training time and the test metrics of that
epoch's weights. Training was run without early stopping, so any shorter budget, patience or ``min_delta`` is
replayed exactly: :meth:`TabularBenchmark.lookup` walks the curve as :func:`biowear.train.fit` would and returns
the metrics of the epoch whose weights that run would keep (the best validation loss).

The JSON file (format ``biowear-tabular-benchmark``, version 1) is written atomically; a partial table (the
build is resumable and grows) says how many of the space's networks it holds.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biowear.errors import ConfigError
from biowear.paths import atomic_write
from biowear.search.evaluate import cost_dict
from biowear.search.store import arch_from_dict, arch_to_dict

FORMAT = "biowear-tabular-benchmark"
VERSION = 1


@dataclass(frozen=True)
class Lookup:
    """What training a network for a budget gives, read from its curve.

    Attributes:
        metrics: test metrics of the kept (best validation loss) epoch.
        epochs: epochs actually run (fewer than the budget when early stopping ends the run).
        seconds: training time of those epochs.
        best_epoch: the kept epoch.
    """

    metrics: dict
    epochs: int
    seconds: float
    best_epoch: int


@dataclass(frozen=True)
class KnownCost:
    """A network's exact fp32 costs as a table stores them, read like a :class:`~biowear.cost.CostReport` by
    constraints and hardware measures."""

    params: int
    storage_fp32: float
    flops: int
    macs: int
    peak_ram_fp32: float

    def storage_bytes(self, bits: int = 32) -> float:
        if bits != 32:
            raise ConfigError("a tabular benchmark keeps fp32 costs only")
        return self.storage_fp32

    def peak_activation_bytes(self, bits: int = 32) -> float:
        if bits != 32:
            raise ConfigError("a tabular benchmark keeps fp32 costs only")
        return self.peak_ram_fp32

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> KnownCost:
        return KnownCost(
            int(d["params"]), float(d["storage_bytes"]), int(d["flops"]), int(d["macs"]), float(d["peak_ram_bytes"])
        )


@dataclass(frozen=True)
class TableEntry:
    """One network of the table: its architecture (canonical), status, exact costs and learning curve."""

    arch: Any
    status: str
    cost: dict
    curve: tuple[dict, ...]

    def lookup(self, epochs: int, patience: int = 0, min_delta: float = 0.0) -> Lookup:
        """The result of training for ``epochs`` with early stopping after ``patience`` stale epochs (0: none)."""
        if epochs > len(self.curve):
            raise ConfigError(f"the table holds {len(self.curve)} epochs of each network; {epochs} were asked")
        best_loss, best, stale, seconds, run = math.inf, 0, 0, 0.0, 0
        for i, point in enumerate(self.curve[:epochs]):
            seconds += float(point["seconds"])
            run = i + 1
            if point["val_loss"] < best_loss - min_delta:
                best_loss, best, stale = point["val_loss"], i, 0
            else:
                stale += 1
                if patience and stale >= patience:
                    break
        return Lookup(dict(self.curve[best]["test"]), run, seconds, best + 1)


class TabularBenchmark:
    """A loaded table.

    Attributes:
        name: the table's (study's) name.
        recipe: the study configuration it was built with (sectioned, as :meth:`StudyConfig.to_dict`).
        input_shape, n_outputs, classes: what the networks take and give.
        entries: family key of the canonical architecture -> :class:`TableEntry`.
        expected: how many distinct feasible networks the recipe's space holds (complete when all are present).
        meta: build information (host, torch, start and end times).
        grid_costs: family key -> fp32 cost dict of every point of the recipe's space (feasible or not), so a
            replay needs no profiling.
    """

    def __init__(
        self,
        name: str,
        recipe: dict,
        input_shape: tuple[int, int],
        n_outputs: int,
        classes: tuple[str, ...],
        entries: Mapping[str, TableEntry],
        expected: int,
        meta: dict | None = None,
        grid_costs: Mapping[str, dict] | None = None,
    ):
        self.name, self.recipe = name, recipe
        self.input_shape, self.n_outputs, self.classes = tuple(input_shape), int(n_outputs), tuple(classes)
        self.entries, self.expected, self.meta = dict(entries), int(expected), dict(meta or {})
        self.grid_costs = dict(grid_costs or {})

    @property
    def epochs(self) -> int:
        """Epochs recorded per network."""
        return int(self.recipe["train"]["epochs"])

    @property
    def complete(self) -> bool:
        return len(self.entries) >= self.expected

    def entry(self, family_key: str) -> TableEntry | None:
        return self.entries.get(family_key)

    def known_costs(self, space: Any) -> dict[Any, KnownCost]:
        """The stored costs of ``space``'s points (for :meth:`ArchitectureSpace.with_costs`)."""
        key = space.family_obj.key
        return {a: KnownCost.from_dict(self.grid_costs[key(a)]) for a in space.points if key(a) in self.grid_costs}

    # ------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "complete": self.complete,
            "networks": len(self.entries),
            "expected_networks": self.expected,
            "input_shape": list(self.input_shape),
            "n_outputs": self.n_outputs,
            "classes": list(self.classes),
            "recipe": self.recipe,
            "meta": self.meta,
            "grid_costs": self.grid_costs,
            "entries": [
                {
                    "key": k,
                    "family": self.recipe["study"]["family"],
                    "arch": arch_to_dict(e.arch),
                    "status": e.status,
                    "cost": e.cost,
                    "curve": list(e.curve),
                }
                for k, e in sorted(self.entries.items())
            ],
        }

    def save(self, path: Path) -> Path:
        """Write the table as JSON (atomically; one entry per line keeps diffs of a growing table small)."""
        doc = self.to_dict()
        entries = doc.pop("entries")
        head = json.dumps(doc, sort_keys=True)[:-1]
        lines = ",\n".join(json.dumps(e, sort_keys=True, separators=(",", ":")) for e in entries)
        text = f'{head}, "entries": [\n{lines}\n]}}\n'
        atomic_write(Path(path), lambda fh: fh.write(text.encode("utf-8")))
        return Path(path)

    @staticmethod
    def load(path: Path) -> TabularBenchmark:
        """Read a table file.

        Raises:
            ConfigError: missing, not JSON, not a biowear table, or of another version.
        """
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"table {path} does not exist; build one with benchmarks/build_table.py")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} is not a readable JSON table ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ConfigError(f"{path} is not a biowear tabular benchmark (format {FORMAT!r})")
        if doc.get("version") != VERSION:
            raise ConfigError(f"{path} is table version {doc.get('version')}; this biowear reads version {VERSION}")
        try:
            entries = {
                e["key"]: TableEntry(arch_from_dict(e["family"], e["arch"]), e["status"], e["cost"], tuple(e["curve"]))
                for e in doc["entries"]
            }
            return TabularBenchmark(
                doc["name"],
                doc["recipe"],
                tuple(doc["input_shape"]),
                doc["n_outputs"],
                tuple(doc["classes"]),
                entries,
                doc["expected_networks"],
                doc.get("meta"),
                doc.get("grid_costs"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path} is a damaged table ({type(exc).__name__}: {exc})") from None


def table_from_study(study: Any) -> TabularBenchmark:
    """The table of a study explored (at least partly) with learning curves: every trained network under its
    training key. Networks trained without a curve are refused (the study must set ``[study] curves``).

    Raises:
        ConfigError: the study does not record curves, or a network's curve is shorter than its budget.
    """
    cfg = study.config
    if not cfg.curves:
        raise ConfigError(f"study {cfg.name!r} does not record learning curves; set [study] curves = true")
    if cfg.train.patience:
        raise ConfigError("a table is trained without early stopping: set [train] patience = 0")
    family = study.space.family_obj
    entries: dict[str, TableEntry] = {}
    created = []
    for ev in study.store.evaluations(study.train_key, study.space.family):
        if ev.status not in ("ok", "failed"):
            continue
        if ev.status == "ok" and len(ev.curve) != cfg.train.epochs:
            raise ConfigError(f"{ev.key} has a curve of {len(ev.curve)} epochs, not {cfg.train.epochs}")
        arch = study.space.canonical(ev.arch)
        entries[family.key(arch)] = TableEntry(arch, ev.status, ev.cost, tuple(ev.curve))
        created.append(ev.created_at)
    distinct = {family.key(study.space.canonical(p)) for p in study.space.feasible_points}
    import torch

    meta = {
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "first_written": min(created, default=None),
        "last_written": max(created, default=None),
        "train_seconds": sum(sum(p["seconds"] for p in e.curve) for e in entries.values()),
        "exported_at": time.time(),
        "grid_points_feasible": len(study.space.feasible_points),
        "grid_points": len(study.space.points),
    }
    return TabularBenchmark(
        cfg.name,
        cfg.to_dict(),
        tuple(study.space.input_shape),
        study.space.n_outputs,
        study.classes,
        {k: v for k, v in entries.items() if k in distinct},
        len(distinct),
        meta,
        {family.key(a): cost_dict(study.space.cost(a)) for a in study.space.points},
    )
