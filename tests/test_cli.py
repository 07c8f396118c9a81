from __future__ import annotations

import json

from typer.testing import CliRunner

from biowear.cli import app
from tests.conftest import cli_exit_code as _error

runner = CliRunner()


def test_train_on_synthetic_prints_metrics_cost_and_saves(tmp_path):
    res = runner.invoke(
        app,
        [
            "train",
            "--dataset",
            "synthetic_ecg",
            "--records",
            "syn000,syn003",
            "--classes",
            "binary",
            "--arch",
            "blocks=0,x=1,lstm=16",
            "--epochs",
            "1",
            "--fs-hz",
            "128",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output and "test metrics" in res.output and "storage kB" in res.output
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["synthetic_data"] is True and run["architecture"] == "blocks=0,x=1,lstm=16"
    assert (tmp_path / "model.pt").is_file() and (tmp_path / "config.json").is_file()


def test_custom_class_map_from_toml(tmp_path):
    toml = tmp_path / "classes.toml"
    toml.write_text('[classes]\nnormal = ["N"]\nventricular = ["V"]\n')
    res = runner.invoke(
        app,
        [
            "train",
            "--records",
            "syn000",
            "--classes",
            str(toml),
            "--arch",
            "blocks=0,x=1,lstm=16",
            "--epochs",
            "1",
            "--fs-hz",
            "128",
            "--window",
            "beat",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ventricular" in res.output


def test_bad_values_give_one_line_errors(capsys):
    assert _error(["train", "--arch", "blocks=20,x=1,lstm=16"]) == 2
    assert "blocks=20 is outside the space; valid values are 0..15" in capsys.readouterr().out
    assert _error(["train", "--classes", "aami7"]) == 2
    assert "valid options are: binary, aami5, vf" in capsys.readouterr().out
    assert _error(["train", "--dataset", "ptbxl"]) == 2
    assert "valid options are: mitdb, cudb, synthetic_ecg" in capsys.readouterr().out
    assert _error(["train", "--split", "kfold"]) == 2
    assert "valid options are: random, interpatient, records" in capsys.readouterr().out
    assert _error(["train", "--epochs", "0"]) == 2
    assert "TrainConfig.epochs must be an integer >= 1, got 0" in capsys.readouterr().out


def test_cost_command():
    res = runner.invoke(app, ["cost", "--arch", "blocks=4,x=2,lstm=32", "--arch", "blocks=0,x=1,lstm=16"])
    assert res.exit_code == 0, res.output
    assert "blocks=4,x=2,lstm=32" in res.output and "peak RAM" in res.output


def test_data_list():
    res = runner.invoke(app, ["data", "list"])
    assert res.exit_code == 0 and "synthetic_ecg" in res.output and "mitdb" in res.output


def test_train_the_kachuee_family_on_kachuee_beats():
    res = runner.invoke(
        app,
        [
            "train",
            "--family",
            "ecg_cnn",
            "--arch",
            "blocks=2",
            "--records",
            "syn000,syn003",
            "--classes",
            "aami5",
            "--window",
            "kachuee",
            "--window-samples",
            "187",
            "--fs-hz",
            "125",
            "--filter",
            "none",
            "--epochs",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ecg_cnn(blocks=2" in res.output


def test_unknown_family_lists_valid_ones(capsys):
    assert _error(["train", "--family", "transformer"]) == 2
    assert "valid options are: resnet_lstm, ecg_cnn" in capsys.readouterr().out
