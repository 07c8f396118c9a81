"""Red-team faults of issue 11 around stored state: resume files, the results store, study names, reports.

Each case reproduces a defect seen by a hostile or careless user: a half-written file after a crash or a full
disk, a study saved before it was validated, a report that writes into a read-only or empty store, names and
store rows pointing outside the study folder.
"""

from __future__ import annotations

import json
import logging
import os
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
        f.write(b"half")  # torch.save gets the open temporary file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        state.pruned("global-0.5", nn.Linear(4, 2), lambda: nn.Linear(4, 2))
    assert not (tmp_path / "pruned" / "global-0.5.pt").exists()
    assert [p.name for p in (tmp_path / "pruned").iterdir()] == []


# ------------------------------------------------------------------ 6. a study failing validation is not saved
def _small_study(**sections) -> dict:
    from tests.search.conftest import SMALL_STUDY

    doc = {k: dict(v) if isinstance(v, dict) else v for k, v in SMALL_STUDY.items()}
    for section, values in sections.items():
        doc[section] = {**doc.get(section, {}), **values}
    return doc


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"data": {"records": ["syn000", "no-such-record"]}}, "no-such-record"),
        ({"constraints": {"max_params": 1}}, "constraint|feasible|satisf"),
        ({"objective": {"metric": "mae"}}, "mae"),
        ({"constraints": {"max_error": 3.0}}, "max_error"),
    ],
    ids=["unknown-record", "impossible-space", "metric-of-another-task", "limit-in-wrong-direction"],
)
def test_a_study_failing_validation_is_not_saved_so_the_corrected_one_runs(tmp_path, bad, message):
    from biowear.errors import BiowearError
    from biowear.search import Store, Study, study_config_from_dict

    with pytest.raises(BiowearError, match=message):
        Study(study_config_from_dict(_small_study(**bad)), tmp_path)
    if (tmp_path / "store.sqlite").exists():
        store = Store(tmp_path / "store.sqlite")
        assert store.study_names() == []
        store.close()
    Study(study_config_from_dict(_small_study()), tmp_path).close()  # same name, corrected: accepted


# ------------------------------------------------------------------ 9. study names cannot leave --dir
@pytest.mark.parametrize(
    "name", ["../../escape", "/abs/path", "a/b", "a\\b", ".hidden", "..", "", "name with space", "x\x00y", "é"]
)
def test_unsafe_study_names_are_refused(name):
    from biowear.search import StudyConfig, study_config_from_dict

    with pytest.raises(ConfigError, match="study name"):
        StudyConfig(name=name)
    with pytest.raises(ConfigError, match="study name"):
        study_config_from_dict({"study": {"name": name}})


@pytest.mark.parametrize("name", ["study", "demo-synthetic", "cli-alpha0.2", "A_1.v2", "x-alpha1e-05"])
def test_safe_study_names_are_accepted(name):
    from biowear.search import StudyConfig

    assert StudyConfig(name=name).name == name


def test_explore_with_an_escaping_study_name_writes_nothing_outside_dir(tmp_path):
    from typer.testing import CliRunner

    from biowear.cli import app

    out = tmp_path / "a" / "b"
    res = CliRunner().invoke(app, ["explore", "--dir", str(out), "--study", "../../escape"])
    assert res.exit_code != 0 and "study name" in str(res.exception)
    assert not list(tmp_path.rglob("*.config.json"))


# ------------------------------------------------------------------ 7, 8, 10. report reads, never writes
@pytest.fixture
def finished_study(tmp_path):
    """A study folder explored exhaustively by a fake trainer (no training): its folder and front."""
    from biowear.search import Study, study_config_from_dict
    from biowear.search.executor import LocalExecutor
    from tests.search.conftest import FakeTrainer

    directory = tmp_path / "study"
    study = Study(study_config_from_dict(_small_study()), directory)
    front = study.run("exhaustive", LocalExecutor(FakeTrainer(study.space))).front
    study.close()
    return directory, front


def _report(*args: str):
    from typer.testing import CliRunner

    from biowear.cli import app

    return CliRunner().invoke(app, ["report", *args])


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_report_writes_nothing_into_the_store(finished_study, tmp_path):
    """The store file is byte- and mtime-identical; SQLite's own reader index (-shm) may appear beside a WAL
    store in a writable folder, but no data is written (-wal, if any, stays empty)."""
    directory, _ = finished_study
    before = _snapshot(directory)
    res = _report(str(directory), "--out", str(tmp_path / "elsewhere"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "elsewhere" / "report.md").is_file()
    after = _snapshot(directory)
    assert after["store.sqlite"] == before["store.sqlite"]
    assert after.get("store.sqlite-wal", (b"", 0))[0] == b""
    assert {k for k in after if not k.startswith("store.sqlite")} == {
        k for k in before if not k.startswith("store.sqlite")
    }


def test_a_zero_byte_store_is_refused_and_left_empty(tmp_path):
    from biowear.search import StoreError

    (tmp_path / "store.sqlite").write_bytes(b"")
    res = _report(str(tmp_path))
    assert isinstance(res.exception, StoreError)
    assert "is empty, not a biowear results store" in str(res.exception)
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite"]
    assert (tmp_path / "store.sqlite").stat().st_size == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"definitely not sqlite" * 100, "corrupt or not SQLite"), (b"SQLite format 3\x00" + b"\x00" * 100, "")],
    ids=["garbage", "truncated-sqlite"],
)
def test_a_corrupt_store_is_named_corrupt_by_report(tmp_path, content, message):
    from biowear.search import StoreError

    (tmp_path / "store.sqlite").write_bytes(content)
    res = _report(str(tmp_path))
    assert isinstance(res.exception, StoreError) and "permission" not in str(res.exception)
    assert message in str(res.exception)
    assert (tmp_path / "store.sqlite").read_bytes() == content


def _deny_writes_under(monkeypatch, root: Path) -> None:
    """Simulate a read-only folder for a user (root) whom chmod does not stop."""
    real = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and Path(path).absolute().is_relative_to(root.absolute()):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_report_of_a_read_only_study_folder_names_the_cause_and_takes_out(finished_study, tmp_path, monkeypatch):
    directory, _ = finished_study
    _deny_writes_under(monkeypatch, directory)
    res = _report(str(directory))
    assert res.exit_code != 0
    text = str(res.exception)
    assert "cannot write the report to" in text and "read-only" in text and "--out" in text
    assert "not a readable" not in text
    res = _report(str(directory), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "report.md").is_file()


def _chmod_stops_writes(folder: Path) -> bool:
    probe = folder / "probe"
    probe.mkdir()
    probe.chmod(0o500)
    try:
        (probe / "x").write_text("x")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o700)
    return False


def test_report_of_a_chmod_read_only_study_folder(finished_study, tmp_path):
    if not _chmod_stops_writes(tmp_path):
        pytest.skip("chmod does not stop this user (root with CAP_DAC_OVERRIDE); simulated in the test above")
    directory, _ = finished_study
    paths = [directory, *directory.rglob("*")]
    for p in paths:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        res = _report(str(directory))
        assert res.exit_code != 0 and "read-only" in str(res.exception) and "--out" in str(res.exception)
        res = _report(str(directory), "--out", str(tmp_path / "out"))
        assert res.exit_code == 0, res.output
    finally:
        for p in paths:
            p.chmod(p.stat().st_mode | 0o200)


def test_report_copies_only_model_files_inside_the_study_folder(finished_study, tmp_path):
    from dataclasses import replace

    from biowear.search import Store

    directory, front = finished_study
    assert len(front) >= 3
    outside = tmp_path / "outside.pt"
    outside.write_bytes(b"SECRET outside the study")
    (directory / "models" / "legit").mkdir(parents=True)
    (directory / "models" / "legit" / "model.pt").write_bytes(b"legit weights")
    (directory / "models" / "link").mkdir()
    (directory / "models" / "link" / "model.pt").symlink_to(outside)
    paths = [str(outside), "../../outside.pt", "link/model.pt", "legit/model.pt"]
    store = Store(directory / "store.sqlite")
    for point, model_path in zip(front, paths):
        store.put(replace(point.evaluation, model_path=model_path))
    store.close()
    res = _report(str(directory), "--out", str(tmp_path / "report"))
    assert res.exit_code == 0, res.output
    copied = [p.read_bytes() for p in (tmp_path / "report" / "pareto_models").rglob("model.pt")]
    assert copied == [b"legit weights"]
    md = (tmp_path / "report" / "report.md").read_text()
    assert md.count("outside the study folder") == 3 and "../../outside.pt" in md


# ------------------------------------------------------------------ 5 from the CLI: a crashed compress resumes
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from typer.testing import CliRunner

    from biowear.cli import app

    out = tmp_path_factory.mktemp("run")
    args = "train --records syn000,syn003 --arch blocks=1,x=1,lstm=16 --epochs 1 --fs-hz 128 --window beat"
    res = CliRunner().invoke(app, [*args.split(), "--window-samples", "128", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ("--methods global --sparsity 0.5 --bits 3 --finetune-epochs 0", "sweep.jsonl"),
        ("--strategy exhaustive --sparsity 0.5 --bits 3 --finetune-epochs 0", "search.jsonl"),
    ],
    ids=["sweep", "search"],
)
def test_compress_resumes_after_a_half_written_line_and_pruned_file(trained_run, tmp_path, options, name):
    from typer.testing import CliRunner

    from biowear.cli import app

    args = ["compress", str(trained_run / "model.pt"), "--config", str(trained_run / "config.json")]
    args += [*options.split(), "--out", str(tmp_path)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    lines = (tmp_path / name).read_text().splitlines()
    (tmp_path / name).write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # disk full mid-line
    pruned = sorted((tmp_path / "pruned").glob("*.pt"))
    assert pruned
    pruned[0].write_bytes(pruned[0].read_bytes()[:100])  # and mid-file
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.output.count("measured") >= 1 and "resumed" in again.output
    assert json.loads((tmp_path / "compression.json").read_text())["points"]
