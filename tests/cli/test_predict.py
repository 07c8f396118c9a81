"""``biowear predict`` and ``biowear.api.predict``: windows from .npy/.npz files and WFDB records, float and
int8 model files, and one-line errors."""

from __future__ import annotations

import re
from dataclasses import asdict

import numpy as np
import pytest
from typer.testing import CliRunner

from biowear.api import predict
from biowear.cli import app
from biowear.compress.int8 import Int8Config, quantize_int8
from biowear.data import DataConfig, WindowConfig, prepare
from biowear.errors import ConfigError
from biowear.models import parse_spec
from biowear.train.artifacts import build_model, load_model, save_model
from tests.conftest import require_dataset
from tests.helpers import synthetic_beat_folder

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A WFDB folder of two synthetic records, its prepared windows, and a float and an int8 model file."""
    root = tmp_path_factory.mktemp("predict")
    folder = root / "records"
    cfg = synthetic_beat_folder(folder, seed=11)
    data = prepare(cfg)
    spec = parse_spec("resnet_lstm", "blocks=1,x=1,lstm=16")
    net = build_model(spec, data.task, (1, 128), seed=5).eval()
    save_model(root / "float.pt", net, spec, data.task, (1, 128), fs_hz=128.0, recipe=asdict(cfg))
    q = quantize_int8(net, data.x, Int8Config(calibration_windows=64))
    save_model(root / "int8.pt", q, spec, data.task, (1, 128), fs_hz=128.0, recipe=asdict(cfg), float_model=net)
    np.save(root / "windows.npy", data.x[:20])
    np.savez(root / "windows.npz", x=data.x[:20])
    return root, folder, data


def _lines(output: str) -> list[tuple[int, str]]:
    rows = [line.split("\t") for line in output.strip().splitlines()]
    return [(int(i), c) for i, c in rows]


@pytest.mark.parametrize("model", ["float.pt", "int8.pt"])
def test_predict_npy_prints_one_line_per_window(files, model):
    root, _, data = files
    res = runner.invoke(app, ["predict", str(root / model), "--input", str(root / "windows.npy")])
    assert res.exit_code == 0, res.output
    expected = load_model(root / model).predict(data.x[:20])
    assert _lines(res.output) == [(i, data.task.classes[int(c)]) for i, c in enumerate(expected)]


def test_int8_predictions_come_from_the_int8_network(files):
    root, _, data = files
    int8 = predict(root / "int8.pt", data.x)
    saved = load_model(root / "int8.pt")
    assert saved.kind == "int8"
    assert np.array_equal(int8, saved.predict(data.x))
    assert np.mean(int8 == predict(root / "float.pt", data.x)) > 0.9


def test_predict_record_cuts_windows_as_training_did(files, tmp_path):
    root, folder, data = files
    out = tmp_path / "pred.npy"
    res = runner.invoke(app, ["predict", str(root / "float.pt"), "--input", str(folder / "r2"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    of_r2 = data.record_index == data.record_keys.index("beats/r2")
    assert of_r2.sum() > 20
    expected = load_model(root / "float.pt").predict(data.x[of_r2])
    assert np.array_equal(np.load(out), expected)
    assert np.array_equal(predict(root / "float.pt", folder / "r2"), expected)


def test_predict_npz_to_csv(files, tmp_path):
    root, _, data = files
    out = tmp_path / "pred.csv"
    res = runner.invoke(
        app, ["predict", str(root / "float.pt"), "--input", str(root / "windows.npz"), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    expected = load_model(root / "float.pt").predict(data.x[:20])
    assert lines[0] == "window,class_index,class" and len(lines) == 21
    assert lines[1] == f"0,{expected[0]},{data.task.classes[expected[0]]}"


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda d, x: np.save(d / "a.npy", x[:, :, :64]),
            r"shape \(n, 1, 128\) \(channels, samples\); .* \(4, 1, 64\)",
        ),
        (lambda d, x: np.save(d / "a.npy", np.where(np.arange(128) == 5, np.nan, x)), "NaN/inf value"),
        (lambda d, x: np.savez(d / "a.npz", y=x), "has no array 'x'"),
        (lambda d, x: None, "does not exist"),
    ],
)
def test_predict_errors_name_the_problem(files, tmp_path, make, message):
    root, _, data = files
    make(tmp_path, data.x[:4])
    name = "a.npz" if "'x'" in message else "a.npy"
    res = runner.invoke(app, ["predict", str(root / "float.pt"), "--input", str(tmp_path / name)])
    assert res.exit_code != 0
    assert isinstance(res.exception, ConfigError) and res.exception.args[0].count("\n") == 0
    assert re.search(message, str(res.exception)), str(res.exception)


def test_predict_refuses_bad_out_and_missing_record(files, tmp_path):
    root, folder, _ = files
    res = runner.invoke(app, ["predict", str(root / "float.pt"), "--input", str(folder / "r1"), "--out", "x.txt"])
    assert "--out must end in .csv or .npy" in str(res.exception)
    res = runner.invoke(app, ["predict", str(root / "float.pt"), "--input", str(folder / "nope")])
    assert "WFDB record path without extension" in str(res.exception)
    with pytest.raises(ConfigError, match="does not exist"):
        predict(tmp_path / "missing.pt", np.zeros((1, 1, 128), np.float32))


@pytest.mark.realdata
def test_predict_mitdb_record(tmp_path):
    root = require_dataset("mitdb")
    cfg = DataConfig(datasets=("mitdb",), records=("100",), labels="binary", fs_hz=128.0,
                     window=WindowConfig(kind="beat", window_samples=128))  # fmt: skip
    data = prepare(cfg)
    spec = parse_spec("resnet_lstm", "blocks=0,x=1,lstm=16")
    net = build_model(spec, data.task, (1, 128), seed=0).eval()
    save_model(tmp_path / "m.pt", net, spec, data.task, (1, 128), fs_hz=128.0, recipe=asdict(cfg))
    got = predict(tmp_path / "m.pt", root / "100")
    assert len(got) == len(data.x) > 2000
    assert np.array_equal(got, load_model(tmp_path / "m.pt").predict(data.x))
