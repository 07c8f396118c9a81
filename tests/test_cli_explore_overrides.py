"""``explore``/``compare`` overrides (``--epochs``, ``--records``, ``--seed``) replace the TOML's values."""

from __future__ import annotations

import json

import pytest

import biowear.cli.explore
from tests.conftest import cli_exit_code

TOML = """
[study]
name = "ov"
[data]
datasets = ["synthetic_ecg"]
records = ["syn000"]
fs_hz = 128.0
[train]
epochs = 5
seed = 1
[space]
blocks = [0, 1]
x = [1, 1]
lstm_exp = [4, 4]
[strategy]
seed = 1
"""


def _stop_after_saving_config(cfg):
    raise KeyboardInterrupt  # the saved <name>.config.json is all this test needs; nothing is trained


@pytest.mark.parametrize("command", ["explore", "compare"])
def test_overrides_take_effect_in_the_saved_config(tmp_path, monkeypatch, command):
    monkeypatch.setattr(biowear.cli.explore, "load_synthetic_flag", _stop_after_saving_config)
    toml = tmp_path / "s.toml"
    toml.write_text(TOML)
    args = [command, str(toml), "--dir", str(tmp_path), "--epochs", "2", "--records", "syn000, syn003", "--seed", "7"]
    assert cli_exit_code(args) == 130
    (saved,) = tmp_path.glob("*.config.json")
    assert saved.name == "ov-epochs2-recordssyn000_syn003-seed7.config.json"
    doc = json.loads(saved.read_text())
    assert doc["train"]["epochs"] == 2 and doc["train"]["seed"] == 7
    assert doc["data"]["records"] == ["syn000", "syn003"]
    assert doc["strategy"]["seed"] == 7 and doc["split"]["seed"] == 7


def test_study_option_keeps_its_name_with_overrides(tmp_path, monkeypatch):
    monkeypatch.setattr(biowear.cli.explore, "load_synthetic_flag", _stop_after_saving_config)
    toml = tmp_path / "s.toml"
    toml.write_text(TOML)
    assert cli_exit_code(["explore", str(toml), "--dir", str(tmp_path), "--epochs", "1", "--study", "mine"]) == 130
    assert json.loads((tmp_path / "mine.config.json").read_text())["train"]["epochs"] == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--epochs", "0"], "--epochs must be an integer >= 1"), (["--records", " , "], "--records needs")],
)
def test_bad_overrides_are_refused(tmp_path, capsys, args, fragment):
    toml = tmp_path / "s.toml"
    toml.write_text(TOML)
    assert cli_exit_code(["explore", str(toml), "--dir", str(tmp_path), *args]) == 2
    assert fragment in capsys.readouterr().out
    assert not list(tmp_path.glob("*.config.json"))
