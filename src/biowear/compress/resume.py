"""Resumable compression runs: measured points and pruned networks kept on disk as soon as they exist.

A run folder holds ``<name>.jsonl`` (a header with the run's content key, then one measured point per line)
and ``pruned/`` (the state of every pruned, fine-tuned network). A killed sweep or search started again with
the same network, data and settings reuses both, so it loses at most the point in flight; a folder from a
different setup is refused rather than mixed in.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from biowear.compress.points import CompressionPoint
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError

#: ``progress(label, resumed)``: a point was measured now (False) or read back from the run folder (True).
Progress = Callable[[str, bool], None]


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
        if not self.file.exists():
            self.file.write_text(json.dumps({"key": key}) + "\n")
            return
        lines = self.file.read_text().splitlines()
        if not lines or json.loads(lines[0]).get("key") != key:
            raise ConfigError(
                f"{self.file} holds a run of another network or setup; use another output folder or delete the "
                "file to start over"
            )
        for line in filter(str.strip, lines[1:]):
            entry = json.loads(line)
            self.points[entry["label"]] = CompressionPoint.from_dict(entry["point"])
        self._loaded = set(self.points)

    def measure(
        self, label: str, compute: Callable[[], CompressionPoint], progress: Progress | None = None
    ) -> CompressionPoint:
        """The point under ``label``: read back, or computed now and appended."""
        if label not in self.points:
            point = compute()
            self.points[label] = point
            if self.file is not None:
                with self.file.open("a") as fh:
                    fh.write(json.dumps({"label": label, "point": point.to_dict()}) + "\n")
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
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return net
        net = build()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), path)
        return net
