"""Red-team table: bad inputs and faults through the console entry point give exit 2 and one ``error:`` line.

Each case is (command args, files to create, setup, expected fragment of the message). ``{tmp}`` in args and
file names is the test's temporary folder; a file's content is text, bytes or a callable writing it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_exit_code

NON_UTF8 = b'[data]\nrecords = ["syn000"]\n# \xff\xfe caf\xe9\n'
CONFIG_JSON = '{"data": {"datasets": ["synthetic_ecg"], "records": ["syn000"], "fs_hz": 128.0}}'
STUDY = '[data]\ndatasets = ["synthetic_ecg"]\nrecords = ["syn000"]\nfs_hz = 128.0\n'


def _nan_model(path: Path) -> None:
    import torch

    from biowear.data.task import Task
    from biowear.models import ResNetLSTMGenes
    from biowear.train.artifacts import build_model, save_model

    task = Task.classification(("a", "b"))
    model = build_model(ResNetLSTMGenes(0, 1, 4), task, (1, 64), seed=0)
    with torch.no_grad():
        model.fc.weight[0, 0] = float("nan")
    save_model(path, model, ResNetLSTMGenes(0, 1, 4), task, (1, 64))


def _no_space(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    def full(path, doc):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    import biowear.cli.explore

    monkeypatch.setattr(biowear.cli.explore, "write_json", full, raising=False)
    monkeypatch.setattr("biowear.train.artifacts.write_json", full)


def _read_only(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    real = os.mkdir

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp / "ro")):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)


def _cache_is_file(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    (tmp / "cachefile").write_text("not a folder")
    monkeypatch.setenv("BIOWEAR_CACHE", str(tmp / "cachefile"))


Setup = Callable[[pytest.MonkeyPatch, Path], None] | None
CASES: list[tuple[str, list[str], dict[str, Any], Setup, str]] = [
    # -- #10 tracebacks where a one-line error belongs
    ("study-non-utf8", ["explore", "{tmp}/s.toml", "--dir", "{tmp}/d"], {"s.toml": NON_UTF8}, None, "s.toml"),
    (
        "classes-non-utf8",
        ["train", "--classes", "{tmp}/c.toml", "--records", "syn000"],
        {"c.toml": NON_UTF8},
        None,
        "c.toml",
    ),
    (
        "space-wrong-type",
        ["explore", "{tmp}/s.toml", "--dir", "{tmp}/d"],
        {"s.toml": STUDY + "[space]\nblocks = 2\n"},
        None,
        "blocks",
    ),
    (
        "config-malformed-json",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--out", "{tmp}/o"],
        {"config.json": '{"data": {', "m.pt": b"x"},
        None,
        "config.json",
    ),
    (
        "config-is-toml",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/s.toml", "--out", "{tmp}/o"],
        {"s.toml": STUDY, "m.pt": b"x"},
        None,
        "s.toml",
    ),
    (
        "config-non-utf8",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--out", "{tmp}/o"],
        {"config.json": b'{"data": "\xff"}', "m.pt": b"x"},
        None,
        "config.json",
    ),
    (
        "window-banana-json",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--out", "{tmp}/o"],
        {"config.json": '{"data": {"datasets": ["synthetic_ecg"], "window": "banana"}}', "m.pt": b"x"},
        None,
        "window",
    ),
    (
        "window-banana-toml",
        ["explore", "{tmp}/s.toml", "--dir", "{tmp}/d"],
        {"s.toml": STUDY + 'window = "banana"\n'},
        None,
        "window",
    ),
    (
        "nan-weights",
        ["compress", "{tmp}/nan.pt", "--config", "{tmp}/config.json", "--out", "{tmp}/o"],
        {"config.json": CONFIG_JSON, "nan.pt": _nan_model},
        None,
        "non-finite",
    ),
    ("cost-input-length-0", ["cost", "--arch", "blocks=0,x=1,lstm=16", "--input-length", "0"], {}, None, "input"),
    (
        "out-is-a-file",
        ["train", "--records", "syn000", "--fs-hz", "128", "--epochs", "1", "--out", "{tmp}/f"],
        {"f": "a file"},
        None,
        "f",
    ),
    ("dir-is-a-file", ["explore", "{tmp}/s.toml", "--dir", "{tmp}/f"], {"f": "x", "s.toml": STUDY}, None, "f"),
    (
        "dir-read-only",
        ["explore", "{tmp}/s.toml", "--dir", "{tmp}/ro/d"],
        {"s.toml": STUDY},
        _read_only,
        "ro",
    ),
    (
        "cache-is-a-file",
        ["train", "--records", "syn000", "--fs-hz", "128", "--epochs", "1"],
        {},
        _cache_is_file,
        "cachefile",
    ),
    (
        "disk-full",
        ["train", "--records", "syn000", "--fs-hz", "128", "--epochs", "1", "--out", "{tmp}/full"],
        {},
        _no_space,
        "config.json",
    ),
    # -- #11 square brackets survive
    ("classes-brackets", ["train", "--classes", "{tmp}/c.toml"], {"c.toml": "x = 1\n"}, None, "[classes]"),
    ("no-data-brackets", ["compress", "{tmp}/m.pt", "--config", "{tmp}/c.json"], {"c.json": "{}"}, None, "'data'"),
    # -- #3 non-finite and non-integer values
    ("explore-alpha-nan", ["explore", "{tmp}/s.toml", "--alpha", "nan"], {"s.toml": STUDY}, None, "alpha"),
    ("compare-alpha-nan", ["compare", "{tmp}/s.toml", "--alpha", "nan"], {"s.toml": STUDY}, None, "alpha"),
    ("report-alpha-nan", ["report", "{tmp}", "--alpha", "nan"], {}, None, "alpha"),
    ("toml-alpha-nan", ["explore", "{tmp}/s.toml"], {"s.toml": STUDY + "[objective]\nalpha = nan\n"}, None, "alpha"),
    (
        "max-loss-nan",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--max-loss-pp", "nan"],
        {"config.json": CONFIG_JSON, "m.pt": b"x"},
        None,
        "max-loss",
    ),
    (
        "max-loss-alias-inf",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--max-loss", "inf"],
        {"config.json": CONFIG_JSON, "m.pt": b"x"},
        None,
        "max-loss",
    ),
    (
        "bits-non-integer",
        ["compress", "{tmp}/m.pt", "--config", "{tmp}/config.json", "--bits", "2.7"],
        {"config.json": CONFIG_JSON, "m.pt": b"x"},
        None,
        "2.7",
    ),
    # -- #4 an empty study TOML
    ("empty-study", ["explore", "{tmp}/s.toml", "--dir", "{tmp}/d"], {"s.toml": ""}, None, "has no [data] section"),
    (
        "study-without-data",
        ["compare", "{tmp}/s.toml", "--dir", "{tmp}/d"],
        {"s.toml": '[study]\nname = "x"\n'},
        None,
        "has no [data] section",
    ),
]


@pytest.mark.parametrize(("args", "files", "setup", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_error_line(tmp_path, monkeypatch, capsys, args, files, setup, fragment):
    for name, content in files.items():
        path = tmp_path / name
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if setup is not None:
        setup(monkeypatch, tmp_path)
    code = cli_exit_code([a.replace("{tmp}", str(tmp_path)) for a in args])
    out, err = capsys.readouterr()
    text = out + err
    assert code == 2, text
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text
    assert fragment.replace("{tmp}", str(tmp_path)) in errors[0], text
