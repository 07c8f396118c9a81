"""ONNX export: fp32 graphs equal PyTorch, int8 QDQ agrees with float, the bundle and the error paths."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install 'biowear[onnx]')")
pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install 'biowear[onnx]')")

import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402

from biowear.data.task import Task  # noqa: E402
from biowear.errors import ConfigError  # noqa: E402
from biowear.export.onnx import (  # noqa: E402
    OnnxCheck,
    export_onnx,
    export_onnx_bundle,
    float_op_counts,
    quantize_onnx_int8,
    run_onnx,
    verify_onnx,
)
from biowear.models import parse_spec  # noqa: E402
from biowear.train.artifacts import SavedModel, build_model  # noqa: E402
from biowear.train.fit import TrainConfig, fit  # noqa: E402
from biowear.train.target import input_scale, target_scale, unwrap  # noqa: E402

CLASSES = Task.classification(("a", "b", "c"))
BPM = Task.regression("hr", "bpm")

CASES = {
    "resnet_lstm-0": ("resnet_lstm", "blocks=0,x=1,lstm=16", (2, 96), CLASSES),
    "resnet_lstm-2": ("resnet_lstm", "blocks=2,x=1,lstm=16", (1, 128), CLASSES),  # 32 -> 64 filters, pad shortcut
    "ecg_cnn": ("ecg_cnn", "blocks=2,filters=8,kernel=5,dense=16", (1, 187), CLASSES),
    "pulse_student": ("pulse_student", "width=4,fusion=8,dense=8", (4, 128), BPM),
    "pulse_teacher": ("pulse_teacher", "width=4,heads=2,dense=8", (4, 128), BPM),
}


def _net(case: str, seed: int = 0) -> tuple[nn.Module, tuple[int, int], Task]:
    family, arch, shape, task = CASES[case]
    inputs = ([0.5] * shape[0], [2.0] * shape[0])
    target = (70.0, 12.0) if task.is_regression else None
    return build_model(parse_spec(family, arch), task, shape, seed=seed, target=target, inputs=inputs), shape, task


def _windows(shape: tuple[int, int], n: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, *shape)) * 2.0 + 0.5).astype(np.float32)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fp32_graph_computes_what_pytorch_computes(case, tmp_path):
    model, shape, task = _net(case)
    path = export_onnx(model, shape, tmp_path / "m.onnx")
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["windows"] and [o.name for o in graph.output] == ["outputs"]
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert not batch.HasField("dim_value")  # dynamic batch axis
    x = _windows(shape, 9, seed=1)  # another batch size than the export's example
    check = verify_onnx(path, model, x)
    assert check.precision == "fp32" and check.n_windows == 9 and check.float_ops == {}
    assert check.task_kind == task.kind
    assert check.max_abs_diff < 1e-4
    if task.is_regression:
        assert check.mae_vs_float is not None and check.mae_vs_float < 1e-4 and check.label_agreement is None
    else:
        assert check.label_agreement == 1.0 and check.mae_vs_float is None


@pytest.mark.slow  # about 13 s on two shared cores
def test_dynamo_exporter_gives_the_same_graph_outputs(tmp_path):
    pytest.importorskip("onnxscript", reason="the dynamo exporter needs onnxscript")
    model, shape, _ = _net("ecg_cnn")
    path = export_onnx(model, shape, tmp_path / "m.onnx", dynamo=True)
    assert verify_onnx(path, model, _windows(shape, 5, seed=6)).max_abs_diff < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_wrappers_are_in_the_graph(tmp_path):
    model, shape, _ = _net("pulse_student")
    core, target, inputs = unwrap(model)
    assert target == (70.0, 12.0) and inputs is not None
    x = _windows(shape, 6, seed=2)
    got = run_onnx(export_onnx(model, shape, tmp_path / "m.onnx"), x)
    with torch.no_grad():
        full = model.eval()(torch.from_numpy(x)).numpy()
        bare = core.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, full, atol=1e-4)
    assert np.abs(got - bare).min() > 1.0  # the raw network's standard units are far from the BPM outputs


def _trained_classifier() -> tuple[nn.Module, tuple[int, int], np.ndarray, np.ndarray]:
    """A small ecg_cnn trained a few seconds on seeded synthetic windows: three bump positions in noise."""
    rng = np.random.default_rng(0)
    shape = (1, 128)
    n = 600
    y = rng.integers(0, 3, n)
    t = np.arange(shape[1])
    centres = np.array([32, 64, 96])[y] + rng.integers(-4, 5, n)
    x = 3.0 * np.exp(-0.5 * ((t[None, :] - centres[:, None]) / 5.0) ** 2) + 0.6 * rng.standard_normal((n, shape[1]))
    x = (x[:, None, :] * 40.0 + 5.0).astype(np.float32)  # raw units: the ScaledInput standardises
    mean, std = [float(x.mean())], [float(x.std())]
    model = build_model(
        parse_spec("ecg_cnn", "blocks=2,filters=8,kernel=5,dense=16"), CLASSES, shape, seed=0, inputs=(mean, std)
    )
    cfg = TrainConfig(epochs=6, batch_size=32, lr=3e-3, patience=0, device="cpu", seed=0)
    fit(model, x[:400], y[:400], x[400:450], y[400:450], cfg, task=CLASSES)
    return model.eval(), shape, x, y


def _weight_bytes(path) -> int:
    return sum(onnx.numpy_helper.to_array(t).nbytes for t in onnx.load(str(path)).graph.initializer)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model, shape, x, y = _trained_classifier()
    folder = tmp_path_factory.mktemp("trained")
    fp32 = export_onnx(model, shape, folder / "model.onnx")
    int8 = quantize_onnx_int8(fp32, folder / "model_int8.onnx", x[:200])
    return model, shape, x, y, fp32, int8


def test_int8_qdq_agrees_with_float(trained):
    model, _, x, y, fp32, int8 = trained
    held_out = x[450:]
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(held_out)).argmax(1).numpy() == y[450:]).mean())
    assert accuracy > 0.9  # the float model learned the task, so agreement is not agreement on noise
    check = verify_onnx(int8, model, held_out)
    assert check.precision == "int8" and check.task_kind == "classification"
    assert check.label_agreement is not None and check.label_agreement >= 0.95
    assert check.max_abs_diff > 1e-4  # really rounded to int8, not the float graph again
    with torch.no_grad():
        logits = float(np.abs(model(torch.from_numpy(held_out)).numpy()).mean())
    assert check.mean_abs_diff < 0.03 * logits  # 0.8% measured; 18% with full-range weights on AVX2 without VNNI
    ops = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    assert _weight_bytes(int8) < 0.35 * _weight_bytes(fp32)  # int8 weights (+ int32 biases, per-channel scales)
    assert "Conv" not in check.float_ops and "Gemm" not in check.float_ops
    assert set(check.float_ops) <= {"Sub", "Div"}  # only the input standardisation is left in float


def test_int8_lstm_stays_float(tmp_path):
    model, shape, _ = _net("resnet_lstm-2")
    x = _windows(shape, 32, seed=3)
    int8 = quantize_onnx_int8(export_onnx(model, shape, tmp_path / "m.onnx"), tmp_path / "q.onnx", x)
    assert float_op_counts(int8).get("LSTM") == 1
    assert "Conv" not in float_op_counts(int8) and float_op_counts(tmp_path / "m.onnx")["Conv"] == 5


def _trained_regressor() -> tuple[nn.Module, tuple[int, int], np.ndarray, np.ndarray]:
    """A small pulse_student trained a few seconds to read a PPG row's amplitude as 60..120 BPM (seeded)."""
    rng = np.random.default_rng(0)
    n, shape = 400, (4, 128)
    a = rng.uniform(0, 1, n)
    y = (60 + 60 * a).astype(np.float32)
    t = np.arange(shape[1]) / 32.0
    x = 0.3 * rng.standard_normal((n, *shape))
    x[:, 0] += 2 * a[:, None] * np.sin(2 * np.pi * 1.5 * t[None, :] + rng.uniform(0, 2 * np.pi, (n, 1)))
    x = x.astype(np.float32)
    model = build_model(
        parse_spec("pulse_student", "width=4,fusion=8,dense=8"),
        BPM,
        shape,
        seed=0,
        target=target_scale(y[:280]),
        inputs=input_scale(x[:280]),
    )
    cfg = TrainConfig(epochs=6, batch_size=32, lr=3e-3, patience=0, device="cpu", seed=0)
    fit(model, x[:280], y[:280], x[280:320], y[280:320], cfg, task=BPM)
    return model.eval(), shape, x, y


def test_int8_regression_mae_against_float(tmp_path):
    model, shape, x, y = _trained_regressor()
    with torch.no_grad():
        float_mae = float(np.abs(model(torch.from_numpy(x[320:])).numpy()[:, 0] - y[320:]).mean())
    assert float_mae < 0.35 * y.std()  # learned: a constant guess is off by 0.87 std on average
    int8 = quantize_onnx_int8(export_onnx(model, shape, tmp_path / "m.onnx"), tmp_path / "q.onnx", x[:200])
    check = verify_onnx(int8, model, x[320:])
    assert check.task_kind == "regression" and check.label_agreement is None  # ScaledOutput: regression
    assert check.mae_vs_float is not None and 0 < check.mae_vs_float < 0.5  # BPM (1.6 with full-range weights)


def test_bundle_writes_models_and_check(trained, tmp_path):
    model, shape, x, _, _, _ = trained
    arch = parse_spec("ecg_cnn", "blocks=2,filters=8,kernel=5,dense=16")
    saved = SavedModel(model=model, family="ecg_cnn", arch=arch, task=CLASSES, input_shape=shape)
    out = export_onnx_bundle(saved, tmp_path / "out", x[:200], verify_windows=x[450:])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.onnx", "model_int8.onnx", "onnx_check.json"]
    doc = json.loads((tmp_path / "out" / "onnx_check.json").read_text())
    assert doc["fp32"]["max_abs_diff"] < 1e-4 and doc["int8"]["label_agreement"] >= 0.95
    assert doc["input"] == {"name": "windows", "shape": ["batch", 1, 128], "dtype": "float32"}
    assert out["fp32"] == doc["fp32"] and out["model_int8"].endswith("model_int8.onnx")
    assert OnnxCheck(**doc["int8"]).precision == "int8"
    fp32_only = export_onnx_bundle(saved, tmp_path / "fp32")
    assert fp32_only["model_int8"] is None and fp32_only["int8"] is None
    assert fp32_only["fp32"]["n_windows"] == 64 and fp32_only["fp32"]["label_agreement"] == 1.0


@pytest.mark.parametrize("missing", ["onnx", "onnxruntime"])
def test_missing_extra_is_one_line(missing, monkeypatch, tmp_path):
    model, shape, _ = _net("ecg_cnn")
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'biowear\[onnx\]'") as err:
        export_onnx(model, shape, tmp_path / "m.onnx")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "m.onnx").exists()


class KthSmallest(nn.Module):
    """A layer torch.onnx cannot export (aten::kthvalue)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.kthvalue(x, 2, dim=-1)[0]


def test_unexportable_layer_is_named(tmp_path):
    model = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), KthSmallest(), nn.Linear(4, 2))
    with pytest.raises(ConfigError, match=r"layer KthSmallest does not export to opset 17") as err:
        export_onnx(model, (1, 32), tmp_path / "m.onnx")
    assert "\n" not in str(err.value) and "kthvalue" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_bad_arguments(trained, tmp_path):
    model, shape, x, _, fp32, _ = trained
    with pytest.raises(ConfigError, match="valid options are uint8, int8"):
        quantize_onnx_int8(fp32, tmp_path / "q.onnx", x[:10], activations="int4")
    with pytest.raises(ConfigError, match=r"calibration windows have shape \(n, 1, 64\)"):
        quantize_onnx_int8(fp32, tmp_path / "q.onnx", x[:10, :, :64])
    with pytest.raises(ConfigError, match="NaN"):
        verify_onnx(fp32, model, np.full((2, *shape), np.nan, dtype=np.float32))
    with pytest.raises(ConfigError, match=r"input_shape must be \(channels, samples\)"):
        export_onnx(model, (1,), tmp_path / "m.onnx")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="does not exist"):
        verify_onnx(tmp_path / "none.onnx", model, x[:2])
    assert not (tmp_path / "q.onnx").exists()
