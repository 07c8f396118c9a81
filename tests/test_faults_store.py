"""Red-team faults of issue 11 around stored state: resume files, the results store, study names, reports.

Each case reproduces a defect seen by a hostile or careless user: a half-written file after a crash or a full
disk, a study saved before it was validated, a report that writes into a read-only or empty store, names and
store rows pointing outside the study folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from biowear.compress.points import CompressionPoint
from biowear.compress.resume import ResumeFile
from biowear.errors import ConfigError
from biowear.train.metrics import RegressionMetrics


# ------------------------------------------------------------------ 5. resume after a crash mid-write
def _point(method: str) -> CompressionPoint:
    metrics = RegressionMetrics(mae=1.0, rmse=1.5, pearson_r=0.5, within_5=0.9, n=10, target_mean=60.0)
    return CompressionPoint(method, 0.0, None, 1.0, 0.0, metrics, 100.0, 1.0, 10, 10, 0.1, "BPM")


def _measure_all(directory: Path, labels: list[str]) -> list[str]:
    """Measure ``labels`` through a resume file; returns the labels computed now (not read back)."""
    state = ResumeFile(directory, "sweep.jsonl", "key")
    computed: list[str] = []

    def compute(label: str):
        return lambda: computed.append(label) or _point(label)

    for label in labels:
        state.measure(label, compute(label))
    return computed


@pytest.mark.parametrize("name", ["sweep.jsonl", "search.jsonl"])
@pytest.mark.parametrize("damage", ["truncated", "garbage", "half-line-no-newline"])
def test_damaged_last_line_is_dropped_with_a_warning_and_redone(tmp_path, caplog, name, damage):
    labels = ["original", "kmeans", "int8"]
    state = ResumeFile(tmp_path, name, "key")
    for label in labels:
        state.measure(label, lambda label=label: _point(label))
    file = tmp_path / name
    lines = file.read_text().splitlines()
    if damage == "truncated":  # disk full while the last point was appended
        text = "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2] + "\n"
    elif damage == "garbage":
        text = "\n".join(lines[:-1]) + "\n" + "\x00\x00\x00\n"
    else:
        text = "\n".join(lines[:-1]) + "\n" + lines[-1][:-3]
    file.write_text(text)
    caplog.set_level(logging.WARNING)
    computed = []
    again = ResumeFile(tmp_path, name, "key")
    for label in labels:
        again.measure(label, lambda label=label: computed.append(label) or _point(label))
    assert computed == ["int8"]  # only the damaged point is measured again
    assert "dropped" in caplog.text and name in caplog.text
    third = ResumeFile(tmp_path, name, "key")  # and the file is whole again
    assert set(third.points) == set(labels)


def test_a_damaged_middle_line_is_a_one_line_error(tmp_path):
    state = ResumeFile(tmp_path, "sweep.jsonl", "key")
    for label in ("a", "b", "c"):
        state.measure(label, lambda label=label: _point(label))
    lines = (tmp_path / "sweep.jsonl").read_text().splitlines()
    lines[1] = "{not json"
    (tmp_path / "sweep.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="line 2"):
        ResumeFile(tmp_path, "sweep.jsonl", "key")


def test_a_truncated_header_alone_starts_over(tmp_path, caplog):
    (tmp_path / "sweep.jsonl").write_text('{"ke')
    caplog.set_level(logging.WARNING)
    assert _measure_all(tmp_path, ["a"]) == ["a"]
    assert _measure_all(tmp_path, ["a"]) == []


@pytest.mark.parametrize("damage", ["empty", "half", "garbage", "other-shape"])
def test_unreadable_pruned_network_is_deleted_and_rebuilt(tmp_path, caplog, damage):
    torch.manual_seed(0)
    base = nn.Linear(4, 2)
    state = ResumeFile(tmp_path, "sweep.jsonl", "key")
    built = []

    def build():
        built.append(1)
        net = nn.Linear(4, 2)
        net.weight.data.zero_()
        return net

    state.pruned("global-0.5", base, build)
    path = tmp_path / "pruned" / "global-0.5.pt"
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "half":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file at all")
    else:
        torch.save(nn.Linear(3, 3).state_dict(), path)
    caplog.set_level(logging.WARNING)
    net = state.pruned("global-0.5", base, build)
    assert len(built) == 2 and "global-0.5.pt" in caplog.text
    assert torch.equal(net.weight, torch.zeros(2, 4))
    assert state.pruned("global-0.5", base, build) is not None and len(built) == 2  # the rebuilt file is whole


def test_resume_files_are_written_atomically(tmp_path, monkeypatch):
    """No temporary file is left behind, and a crash inside torch.save leaves no half file under the name."""
    state = ResumeFile(tmp_path, "sweep.jsonl", "key")

    def crash(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        state.pruned("global-0.5", nn.Linear(4, 2), lambda: nn.Linear(4, 2))
    assert not (tmp_path / "pruned" / "global-0.5.pt").exists()
    assert [p.name for p in (tmp_path / "pruned").iterdir()] == []
