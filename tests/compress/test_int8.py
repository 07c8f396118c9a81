from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from biowear.compress.int8 import Int8Config, deployable, int8_storage_bytes, qat_int8, quantize_int8
from biowear.errors import ConfigError
from biowear.models import EcgCnnSpec, ResNetLSTMGenes, build, build_spec
from biowear.train import TrainConfig, evaluate, fit


@pytest.fixture(scope="module")
def trained(task):
    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)  # block 1 has stride 2 and a channel-padded shortcut
    fit(model, *task[2], TrainConfig(epochs=2, batch_size=64))
    return model.eval()


def _logits(net: nn.Module, x: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return net(torch.from_numpy(x))


@pytest.mark.parametrize("family", ["resnet_lstm", "ecg_cnn"])
def test_deployable_rewrite_is_the_same_function(family):
    if family == "resnet_lstm":
        model, shape = build(ResNetLSTMGenes(3, 1, 4), 2, 3, seed=0), (2, 100)  # odd length after stride 2
    else:
        model, shape = build_spec(EcgCnnSpec(), 1, 5, 187, seed=0), (1, 187)
    model.eval()
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype(np.float32)
    torch.testing.assert_close(_logits(deployable(model, shape), x), _logits(model, x), atol=1e-5, rtol=1e-4)


def test_ptq_runs_int8_kernels_close_to_float(task, trained):
    data, split, arrays = task
    before = torch.backends.quantized.engine
    q = quantize_int8(trained, arrays[0], Int8Config(calibration_windows=256))
    assert torch.backends.quantized.engine == before  # the engine is set only while quantising and running
    kinds = {type(m).__module__ for m in q.modules()}
    assert any(k.startswith("torch.ao.nn.intrinsic.quantized") for k in kinds)  # fused int8 conv + ReLU
    assert any(k.startswith("torch.ao.nn.quantized.dynamic") for k in kinds)  # int8 LSTM
    x = data.x[split.test][:300]
    ref, out = _logits(trained, x), _logits(q, x)
    assert float((out - ref).norm() / ref.norm()) < 0.1
    assert float((out.argmax(1) == ref.argmax(1)).float().mean()) >= 0.97


def test_int8_storage_is_a_quarter_of_float_plus_scales(trained):
    q = quantize_int8(trained, np.random.default_rng(0).normal(size=(32, 1, 128)).astype(np.float32))
    weights = sum(p.numel() for n, p in trained.named_parameters() if n.endswith(("weight", "_l0")) and p.dim() > 1)
    fp32 = 4 * sum(p.numel() for p in trained.parameters())
    stored = int8_storage_bytes(q)
    assert weights <= stored < weights + 0.1 * fp32  # int8 weights + per-channel scales, biases, BN, qparams
    f = quantize_int8(trained, np.zeros((8, 1, 128), np.float32), Int8Config(lstm="float"))
    lstm = sum(p.numel() for p in trained.lstm.lstm.parameters())
    assert int8_storage_bytes(f) > stored + 2.5 * lstm  # a float LSTM stores 4 bytes per value, not 1
    edgeless = copy.deepcopy(trained)
    with torch.no_grad():  # pruned edge taps must still count: storage follows the true kernel width
        for m in edgeless.modules():
            if isinstance(m, nn.Conv1d):
                m.weight[:, :, 0] = 0.0
                m.weight[:, :, -1] = 0.0
    calib = np.random.default_rng(0).normal(size=(32, 1, 128)).astype(np.float32)
    assert int8_storage_bytes(quantize_int8(edgeless, calib)) == stored


def test_qat_fine_tunes_fake_quantised_and_converts(task, trained):
    data, split, arrays = task
    small = tuple(a[:600] for a in arrays)
    q = qat_int8(trained, small, TrainConfig(epochs=1, batch_size=64), epochs=1)
    assert q.method == "qat"
    x = data.x[split.test][:200]
    ref = _logits(trained, x)
    assert float((_logits(q, x).argmax(1) == ref.argmax(1)).float().mean()) >= 0.9
    for p in trained.parameters():  # the float model is left alone
        assert p.dtype == torch.float32


class _DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        if x.sum() > 0:  # control flow on values: not traceable
            x = -x
        return self.fc(x.flatten(1))


def test_bad_input_gets_clear_errors(trained):
    with pytest.raises(ConfigError, match="NaN"):
        quantize_int8(trained, np.full((4, 1, 128), np.nan, np.float32))
    with pytest.raises(ConfigError, match=r"non-empty \(N, C, L\)"):
        quantize_int8(trained, np.zeros((0, 1, 128), np.float32))
    with pytest.raises(ConfigError, match="valid options are"):
        Int8Config(engine="tensorrt")
    with pytest.raises(ConfigError, match="dynamic, float"):
        Int8Config(lstm="static")
    with pytest.raises(ConfigError, match="cannot trace _DataDependent"):
        quantize_int8(_DataDependent(), np.ones((4, 1, 8), np.float32))


def test_int8_network_without_float_parameters_evaluates(task):
    """An LSTM-only network quantises to packed int8 weights only (no float parameters left)."""
    data, split, arrays = task
    model = build(ResNetLSTMGenes(0, 1, 4), 1, 2, seed=0).eval()
    q = quantize_int8(model, arrays[0][:64])
    assert next(q.parameters(), None) is None
    metrics = evaluate(q, data.x[split.test], data.y[split.test], data.classes)
    reference = evaluate(model, data.x[split.test], data.y[split.test], data.classes)
    assert abs(metrics.accuracy - reference.accuracy) < 0.02


def test_qat_graph_keeps_dropout_a_module_that_eval_turns_off():
    """The fast-mask Dropout of training is handed to FX as torch's own module, so the QAT-prepared graph keeps
    it as a module (not a dropout call frozen in training mode) and evaluation is deterministic."""
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    from biowear.compress.int8 import _qconfig_mapping
    from biowear.models.layers import Dropout

    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)
    assert any(type(m) is Dropout for m in model.modules())
    net = deployable(model, (1, 64))
    assert not any(type(m) is Dropout for m in net.modules())
    assert sum(type(m) is nn.Dropout for m in net.modules()) == sum(type(m) is Dropout for m in model.modules())
    prepared = prepare_qat_fx(net.train(), _qconfig_mapping("fbgemm", True), (torch.zeros(1, 1, 64),))
    assert not [n for n in prepared.graph.nodes if n.op == "call_function" and "dropout" in str(n.target)]
    prepared.eval().apply(torch.ao.quantization.disable_observer)  # observers would move the scales
    x = torch.randn(4, 1, 64)
    assert torch.equal(prepared(x), prepared(x))
