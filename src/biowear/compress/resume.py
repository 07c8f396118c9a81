"""Resumable compression runs: measured points and pruned networks kept on disk as soon as they exist.

A run folder holds ``<name>.jsonl`` (a header with the run's content key, then one measured point per line)
and ``pruned/`` (the state of every pruned, fine-tuned network). A killed sweep or search started again with
the same network, data and settings reuses both, so it loses at most the point in flight; a folder from a
different setup is refused rather than mixed in.

Both are crash-safe: a pruned network is written to a temporary file and renamed, a point is appended as one
whole line and synced. A last line or a pruned file left unreadable anyway (a kill or a full disk in the middle
of a write) is dropped with a warning and that point is redone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from biowear.compress.points import CompressionPoint
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError
from biowear.paths import atomic_write

#: ``progress(label, resumed)``: a point was measured now (False) or read back from the run folder (True).
Progress = Callable[[str, bool], None]

log = logging.getLogger(__name__)


def _parse(line: str) -> dict | None:
    try:
        entry = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return entry if isinstance(entry, dict) else None


def run_key(model: nn.Module, data: PreparedDataset, split: Split, settings: dict[str, object]) -> str:
    """Content key of a run: the network's weights, the test windows and the settings."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().numpy().tobytes())
    h.update(np.ascontiguousarray(data.x[split.test]).tobytes())
    return h.hexdigest()[:16]


class ResumeFile:
    """Measured points by label, appended to ``directory / name`` as they finish (memory only without a
    directory)."""

    def __init__(self, directory: Path | None, name: str, key: str):
        self.points: dict[str, CompressionPoint] = {}
        self._loaded: set[str] = set()
        self.directory = directory
        self.file = None if directory is None else directory / name
        if self.file is None:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"key": key}) + "\n"
        text = self.file.read_text(errors="replace") if self.file.exists() else ""
        lines = text.splitlines()
        if lines and _parse(lines[0]) is None and len(lines) == 1:  # killed while writing the header
            log.warning("%s: dropped its unreadable header line; starting the run over", self.file)
            lines = []
        if not lines:
            atomic_write(self.file, lambda fh: fh.write(header.encode()))
            return
        first = _parse(lines[0])
        if first is None or first.get("key") != key:
            raise ConfigError(
                f"{self.file} holds a run of another network or setup; use another output folder or delete the "
                "file to start over"
            )
        entries = [_parse(line) for line in lines[1:]]
        dropped = bool(entries) and not _valid(entries[-1])
        if dropped:  # a point half-written when the run was killed or the disk was full: measure it again
            log.warning(
                "%s: dropped its unreadable last line (a point cut off mid-write); it is measured again", self.file
            )
            entries, lines = entries[:-1], lines[:-1]
        for number, entry in enumerate(entries, start=2):
            if not _valid(entry):
                raise ConfigError(
                    f"{self.file} line {number} is not a measured point (the file was edited or damaged); delete "
                    "that line or the file to measure again"
                )
            self.points[entry["label"]] = CompressionPoint.from_dict(entry["point"])
        if dropped or not text.endswith("\n"):  # whole lines only, so the next append starts a line
            atomic_write(self.file, lambda fh: fh.write(("\n".join(lines) + "\n").encode()))
        self._loaded = set(self.points)

    def measure(
        self, label: str, compute: Callable[[], CompressionPoint], progress: Progress | None = None
    ) -> CompressionPoint:
        """The point under ``label``: read back, or computed now and appended."""
        if label not in self.points:
            point = compute()
            self.points[label] = point
            if self.file is not None:
                line = json.dumps({"label": label, "point": point.to_dict()}) + "\n"
                with self.file.open("a") as fh:  # one whole line in one write, on disk before it counts
                    fh.write(line)
                    fh.flush()
                    os.fsync(fh.fileno())
            if progress:
                progress(point.label(), False)
        elif label in self._loaded:
            self._loaded.discard(label)  # report a read-back point once
            if progress:
                progress(label, True)
        return self.points[label]

    def pruned(self, name: str, base: nn.Module, build: Callable[[], nn.Module]) -> nn.Module:
        """A pruned network: loaded into a copy of ``base`` when saved earlier, else built and saved."""
        path = None if self.directory is None else self.directory / "pruned" / f"{name}.pt"
        if path is not None and path.exists():
            net = copy.deepcopy(base)
            try:
                net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
                return net
            except Exception as exc:  # noqa: BLE001 - any unreadable file (truncated, foreign, unsafe) is rebuilt
                log.warning("%s is unreadable (%s); deleted, the network is pruned again", path, _first_line(exc))
                path.unlink(missing_ok=True)
        net = build()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            state = net.state_dict()
            atomic_write(path, lambda fh: torch.save(state, fh))
        return net


def _valid(entry: dict | None) -> bool:
    if entry is None or "label" not in entry or not isinstance(entry.get("point"), dict):
        return False
    try:
        CompressionPoint.from_dict(entry["point"])
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
