"""``biowear export``: float, k-means and int8 model files as C (checked against the reference), ONNX, errors."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from biowear.cli import app
from biowear.compress.int8 import Int8Config, quantize_int8
from biowear.compress.quantize import kmeans_quantize
from biowear.data import Task, prepare
from biowear.export import build
from biowear.models import parse_spec
from biowear.train.artifacts import build_model, save_model
from tests.export.conftest import needs_cc
from tests.helpers import synthetic_beat_folder

runner = CliRunner()
pytestmark = needs_cc


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Synthetic WFDB records, a float, a 4-bit k-means and an int8 model file (recipes recorded), and windows."""
    root = tmp_path_factory.mktemp("export")
    cfg = synthetic_beat_folder(root / "records", seed=21)
    data = prepare(cfg)
    spec = parse_spec("resnet_lstm", "blocks=2,x=1,lstm=16")
    net = build_model(spec, data.task, (1, 128), seed=3).eval()
    common = dict(fs_hz=128.0, recipe=asdict(cfg))
    save_model(root / "float.pt", net, spec, data.task, (1, 128), **common)
    small = build_model(spec, data.task, (1, 128), seed=3).eval()
    small.load_state_dict(net.state_dict())
    kmeans_quantize(small, 4, seed=0)
    save_model(root / "kmeans.pt", small, spec, data.task, (1, 128), meta={"variant": "kmeans q=4", "kmeans_bits": 4},
               **common)  # fmt: skip
    q = quantize_int8(net, data.x, Int8Config(calibration_windows=64))
    save_model(root / "int8.pt", q, spec, data.task, (1, 128), float_model=net, **common)
    return root, data


def _export(root, model, out, *extra):
    res = runner.invoke(app, ["export", str(root / model), "--out", str(out), "--calibration", "64", "--check", "40",
                              *extra])  # fmt: skip
    assert res.exit_code == 0, res.output
    return res.output, json.loads((out / "export.json").read_text())


@pytest.mark.parametrize("model", ["float.pt", "int8.pt"])
def test_export_c_checks_the_c_against_the_reference(files, tmp_path, model):
    root, data = files
    output, manifest = _export(root, model, tmp_path / "c")
    assert int(re.search(r"C == numpy reference on all (\d+) checked windows", output).group(1)) >= 20
    assert manifest["host_exact"] is True and manifest["weights"] == "int8"
    agree = float(re.search(r"agree with the float model on ([\d.]+) %", output).group(1))
    assert agree >= 90.0
    classes = build.predict_host(tmp_path / "c", data.x[:10])
    assert classes.shape == (10,) and set(classes.tolist()) <= {0, 1}


def test_a_kmeans_variant_is_exported_with_packed_codes(files, tmp_path):
    root, _ = files
    _, dense = _export(root, "float.pt", tmp_path / "dense", "--weights", "int8")
    output, packed = _export(root, "kmeans.pt", tmp_path / "packed")
    assert packed["weights"] == "kmeans" and packed["host_exact"] is True
    assert {b for op in packed["ops"] for b in op["packed_bits"].values()} == {4}
    assert packed["weight_bytes"]["weights"] < 0.6 * dense["weight_bytes"]["weights"]


def test_export_onnx_writes_verified_models(files, tmp_path):
    pytest.importorskip("onnxruntime")
    root, _ = files
    res = runner.invoke(app, ["export", str(root / "float.pt"), "--format", "onnx", "--out", str(tmp_path),
                              "--calibration", "32", "--check", "32"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "model.onnx").is_file() and (tmp_path / "model_int8.onnx").is_file()
    assert "labels agree 100.00 %" in res.output  # fp32


def _said(res) -> str:
    """What a failed command reports: its output and the one-line error the entry point prints."""
    return res.output + str(res.exception or "")


def test_errors_are_one_line(files, tmp_path):
    root, _ = files
    res = runner.invoke(app, ["export", str(root / "float.pt"), "--out", str(tmp_path), "--format", "tflite"])
    assert res.exit_code != 0 and "--format must be one of" in _said(res) and "onnx" in _said(res)
    spec = parse_spec("pulse_teacher", None)
    task = Task.regression("heart_rate", "BPM")
    teacher = build_model(spec, task, (4, 256), seed=0, target=(80.0, 10.0))
    save_model(tmp_path / "teacher.pt", teacher, spec, task, (4, 256), fs_hz=32.0)
    res = runner.invoke(app, ["export", str(tmp_path / "teacher.pt"), "--out", str(tmp_path / "t")])
    assert res.exit_code != 0 and "no data recipe" in _said(res) and "--windows" in _said(res)
    np.save(tmp_path / "w.npy", np.random.default_rng(0).standard_normal((8, 4, 256)).astype(np.float32))
    res = runner.invoke(app, ["export", str(tmp_path / "teacher.pt"), "--out", str(tmp_path / "t"), "--windows",
                              str(tmp_path / "w.npy")])  # fmt: skip
    assert res.exit_code != 0 and "'fusion.attn' (MultiheadAttention)" in _said(res)
    assert "Traceback" not in _said(res)
    np.save(tmp_path / "bad.npy", np.zeros((4, 1, 99), dtype=np.float32))
    res = runner.invoke(app, ["export", str(root / "float.pt"), "--out", str(tmp_path / "b"), "--windows",
                              str(tmp_path / "bad.npy")])  # fmt: skip
    assert res.exit_code != 0 and "(n, 1, 128)" in _said(res)


def test_the_student_exports_from_windows(tmp_path):
    spec = parse_spec("pulse_student", None)
    task = Task.regression("heart_rate", "BPM")
    student = build_model(spec, task, (4, 256), seed=0, target=(80.0, 10.0)).eval()
    save_model(tmp_path / "student.pt", student, spec, task, (4, 256), fs_hz=32.0)
    x = torch.randn(24, 4, 256, generator=torch.Generator().manual_seed(0)).numpy()
    np.save(tmp_path / "w.npy", x)
    res = runner.invoke(app, ["export", str(tmp_path / "student.pt"), "--out", str(tmp_path / "c"), "--windows",
                              str(tmp_path / "w.npy"), "--check", "12"])  # fmt: skip
    assert res.exit_code == 0, _said(res)
    assert "C == numpy reference on all 12 checked windows" in _said(res)


def test_python_api_exports_the_same_c(files, tmp_path):
    import biowear as bw

    root, data = files
    record = bw.export_model(root / "kmeans.pt", tmp_path, data.x[:64], check=data.x[64:96])
    assert record["host_exact"] is True and record["weights"] == "kmeans"
    with pytest.raises(bw.ConfigError, match="valid options are: c, onnx"):
        bw.export_model(root / "float.pt", tmp_path / "x", data.x[:8], format="tflite")
    res = runner.invoke(app, ["export", str(root / "float.pt"), "--out", str(tmp_path / "y"), "--ranges", "p99"])
    assert res.exit_code != 0 and "minmax" in _said(res)


def test_top_level_load_model_reads_int8_files_in_a_fresh_process(files):
    import subprocess
    import sys

    root, _ = files
    code = f"import biowear; m = biowear.load_model({str(root / 'int8.pt')!r}); print(m.kind, type(m.model).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["int8", "Int8Network"]
