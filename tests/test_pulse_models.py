"""The PULSE families (cross-attention teacher, modality-wise student): shapes, structure, exact cost rules of the
new layers against torch's FLOP counter and hand counts, and the int8 student (PTQ) under the 37.9 kB goal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from biowear.compress.int8 import Int8Config, int8_storage_bytes, quantize_int8
from biowear.cost import profile
from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import FAMILIES, PulseStudentArch, PulseTeacherArch, build_spec
from biowear.models.layers import RowsToBatch, RowsToChannels, Transpose
from biowear.train import build_model

SHAPE = (4, 256)  # PPG + acc x/y/z, 8 s at 32 Hz
TEACHER, STUDENT = FAMILIES.get("pulse_teacher"), FAMILIES.get("pulse_student")


def _windows(n: int, shape=SHAPE, seed: int = 0) -> np.ndarray:
    """Seeded windows: a sinusoidal 'pulse' of random rate on row 0, noise on every row."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype(np.float32)
    x[:, 0] += 3 * np.sin(np.arange(shape[1]) * rng.uniform(0.1, 0.6, size=(n, 1))).astype(np.float32)
    return x


def _with_batch_statistics(model: nn.Module, x: np.ndarray) -> nn.Module:
    """Set every batch norm's running statistics from ``x`` (an untrained net then has non-trivial outputs)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.momentum = None  # cumulative average: one pass gives the batch statistics
    with torch.no_grad():
        model.train()(torch.from_numpy(x))
    return model.eval()


def _counted_macs(model: nn.Module, x: torch.Tensor) -> int:
    """MACs torch's FLOP counter sees (mm/bmm/addmm/conv at 2 FLOPs per MAC); attention on the math backend, whose
    matmuls it sees (it does not count the CPU flash kernel)."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(x)
    total = counter.get_total_flops()
    assert total % 2 == 0
    return total // 2


# ----------------------------------------------------------------------------------------------- the families
def test_default_architectures_and_sizes():
    assert TEACHER.default() == PulseTeacherArch(width=16, kernel=5, pool=2, heads=4, dense=32)
    assert STUDENT.default() == PulseStudentArch(width=7, kernel=5, pool=2, fusion=32, dense=16)
    teacher, student = TEACHER.build(TEACHER.default(), SHAPE, 1, seed=0), STUDENT.build(STUDENT.default(), SHAPE, 1)
    convs = [m.out_channels for m in teacher.extractor.modules() if isinstance(m, nn.Conv1d)]
    assert convs == [32] * 3 + [48] * 3 + [64] * 3  # the paper's 32/48/64
    dilations = [m.dilation[0] for m in teacher.extractor.modules() if isinstance(m, nn.Conv1d)]
    assert dilations == [1, 2, 4] * 3
    n_teacher = sum(p.numel() for p in teacher.parameters())
    n_student = sum(p.numel() for p in student.parameters())
    assert (n_teacher, n_student) == (117_617, 23_482)
    assert 4.8 <= n_teacher / n_student <= 5.2  # about 5x fewer, as in PULSE


@pytest.mark.parametrize("family", [TEACHER, STUDENT], ids=lambda f: f.name)
def test_shapes_embedding_and_model_rate(family):
    for shape in (SHAPE, (4, 128)):  # 32 Hz and a 16 Hz model rate
        model = family.build(family.default(), shape, 1, seed=0).eval()
        seen: list[torch.Tensor] = []
        model.embedding.register_forward_hook(lambda m, i, o, seen=seen: seen.append(o))
        with torch.no_grad():
            out = model(torch.from_numpy(_windows(3, shape)))
        assert out.shape == (3, 1) and seen[0].shape == (3, model.out.in_features)
        assert isinstance(model.embedding, nn.Identity) and dict(model.named_modules())["embedding"] is model.embedding


def test_text_form_round_trips_and_bad_architectures_are_refused():
    assert TEACHER.parse("heads=2") == PulseTeacherArch(heads=2)
    assert TEACHER.label(TEACHER.default()) == "width=16,kernel=5,pool=2,heads=4,dense=32"
    assert STUDENT.key(STUDENT.default()) == "pulse_student-7-5-2-32-16"
    for bad in ("kernel=4", "heads=3", "width=0", "pool=0", "dense=-1", "depth=2", "heads=x"):
        with pytest.raises(ConfigError):
            TEACHER.parse(bad)
    with pytest.raises(ConfigError, match="fusion"):
        PulseStudentArch(fusion=0)
    with pytest.raises(ConfigError, match="accelerometer row"):
        TEACHER.build(TEACHER.default(), (1, 256), 1)
    with pytest.raises(ConfigError, match="too short"):
        STUDENT.build(STUDENT.default(), (4, 7), 1)


def test_student_builds_for_a_single_row_and_genes_span_the_defaults():
    assert STUDENT.build(STUDENT.default(), (1, 128), 1)(torch.zeros(2, 1, 128)).shape == (2, 1)
    for family in (TEACHER, STUDENT):
        assert family.from_genes(family.gene_values(family.default())) == family.default()


# ----------------------------------------------------------------------------------------------- structure
def test_temporal_filters_are_shared_across_rows():
    model = STUDENT.build(STUDENT.default(), SHAPE, 1, seed=0)
    model = _with_batch_statistics(model, _windows(16))
    x = torch.from_numpy(_windows(2, seed=1))
    with torch.no_grad():
        together = model.extractor(x)  # (B*R, C, T')
        for r in range(4):
            alone = model.extractor(x[:, r : r + 1])  # one row through the same filters
            torch.testing.assert_close(together[r::4], alone)


def test_modality_wise_convolution_is_a_conv2d_spanning_the_rows():
    model = STUDENT.build(STUDENT.default(), SHAPE, 1, seed=0).eval()
    rows, channels = 4, model.extractor.out_channels
    features = torch.randn(2 * rows, channels, 32)  # (B*R, C, T') as the extractor returns it
    conv2d = nn.Conv2d(channels, model.fusion.out_channels, (rows, 1))
    with torch.no_grad():
        w = model.fusion.weight[:, :, 0].reshape(-1, rows, channels)  # input channel r*C + c
        conv2d.weight.copy_(w.permute(0, 2, 1).unsqueeze(-1))  # (F, C, R, 1)
        conv2d.bias.copy_(model.fusion.bias)
        as_2d = features.reshape(2, rows, channels, 32).permute(0, 2, 1, 3)  # (B, C, R, T')
        torch.testing.assert_close(model.fusion(model.stack(features)), conv2d(as_2d)[:, :, 0], rtol=1e-5, atol=1e-5)


def test_teacher_queries_are_ppg_and_keys_are_the_accelerometer_rows():
    model = _with_batch_statistics(TEACHER.build(TEACHER.default(), SHAPE, 1, seed=0), _windows(16))
    x = torch.from_numpy(_windows(2, seed=2))
    calls = []
    model.fusion.attn.register_forward_hook(lambda m, i, o: calls.append(i))
    with torch.no_grad():
        out = model(x)
        features = model.extractor(x).reshape(2, 4, 64, 32).transpose(2, 3)  # (B, R, T', E)
        query, key, value = calls[0]
        torch.testing.assert_close(query, features[:, 0])
        torch.testing.assert_close(key, torch.cat([features[:, r] for r in (1, 2, 3)], dim=1))  # row-major tokens
        assert value is key
        # no positional encoding: the order of the accelerometer rows does not matter, the PPG does
        torch.testing.assert_close(model(x[:, [0, 3, 1, 2]]), out, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(model(torch.flip(x, dims=(1,))), out)


# ----------------------------------------------------------------------------------------------- cost rules
@pytest.mark.parametrize(
    "dims", [dict(lq=32, lk=96, e=64, h=4), dict(lq=5, lk=7, e=12, h=3, kdim=8, vdim=6, bias=False)]
)
def test_attention_rule_against_the_flop_counter_and_by_hand(dims):
    lq, lk, e, h = dims["lq"], dims["lk"], dims["e"], dims["h"]
    kdim, vdim, bias = dims.get("kdim", e), dims.get("vdim", e), dims.get("bias", True)

    class Cross(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(e, h, bias=bias, kdim=kdim, vdim=vdim, batch_first=True)

        def forward(self, x):  # x: (1, lq + lk, e); the key/value rows are projected to kdim/vdim by slicing
            return self.attn(x[:, :lq], x[:, lq:, :kdim], x[:, lq:, :vdim], need_weights=False)[0]

    model = Cross()
    (layer,) = profile(model, (lq + lk, e)).layers
    macs = lq * e * e + lk * kdim * e + lk * vdim * e + lq * e * e + 2 * lq * lk * e
    assert layer.macs == macs == _counted_macs(model, torch.zeros(1, lq + lk, e))
    assert layer.params == sum(p.numel() for p in model.parameters()) == 2 * e * e + kdim * e + vdim * e + bias * 4 * e
    biases = (2 * lq * e + 2 * lk * e) if bias else 0
    assert layer.flops == 2 * macs + biases + lq * e + 3 * h * lq * lk  # + scaling of Q, softmax
    assert layer.output_shape == (lq, e)
    assert layer.workspace_elems == 2 * lq * e + 2 * lk * e + lq * lk


def test_layernorm_pooling_and_reshape_rules_by_hand():
    model = nn.Sequential(nn.LayerNorm(6), Transpose(), nn.AdaptiveAvgPool1d(3))
    norm, swap, pool = profile(model, (10, 6)).layers  # 10 tokens of width 6 -> (6, 10) -> 3 bins of 4 (overlapping)
    assert (norm.params, norm.macs, norm.flops) == (12, 0, 7 * 60 + 3 * 10)
    assert (swap.flops, swap.output_shape) == (0, (6, 10))
    assert (pool.flops, pool.output_shape) == (6 * (4 + 4 + 4), (6, 3))  # bins [0,4), [3,7), [6,10)
    x = torch.randn(1, 6, 10)
    torch.testing.assert_close(
        nn.AdaptiveAvgPool1d(3)(x), torch.stack([x[..., 0:4].mean(-1), x[..., 3:7].mean(-1), x[..., 6:10].mean(-1)], -1)
    )
    pooled = profile(nn.Sequential(nn.AvgPool1d(4)), (3, 17)).layers[0]
    assert (pooled.flops, pooled.output_shape) == (4 * 3 * 4, (3, 4))  # 3 adds + 1 division per output
    fold = nn.Sequential(RowsToBatch(), nn.Conv1d(1, 2, 3, padding=1), RowsToChannels(4))
    a, conv, b = profile(fold, (4, 8)).layers
    assert a.output_shape == (4, 1, 8) and b.output_shape == (8, 8) and a.flops == b.flops == 0
    assert conv.macs == 4 * 2 * 8 * 3  # the conv runs once per row of the one sample


@pytest.mark.parametrize(
    "family, arch",
    [
        (TEACHER, TEACHER.default()),
        (TEACHER, PulseTeacherArch(width=8, kernel=3, heads=2, dense=0)),
        (STUDENT, STUDENT.default()),
        (STUDENT, PulseStudentArch(width=4, kernel=7, pool=4, fusion=16, dense=0)),
    ],
    ids=["teacher", "teacher-small", "student", "student-small"],
)
def test_whole_networks_against_independent_counters(family, arch):
    model = family.build(arch, SHAPE, 1, seed=0)
    report = profile(model, SHAPE, family.cost_rules() or None)
    assert report.params == sum(p.numel() for p in model.parameters())
    assert report.macs == _counted_macs(model, torch.zeros(1, *SHAPE))
    meta = profile(family.build(arch, SHAPE, 1, device="meta"), SHAPE)
    assert (meta.params, meta.macs, meta.flops, meta.peak_activation_elems) == (
        report.params,
        report.macs,
        report.flops,
        report.peak_activation_elems,
    )


def test_modality_wise_convolution_cost_by_hand():
    model = STUDENT.build(STUDENT.default(), SHAPE, 1)
    layer = next(layer for layer in profile(model, SHAPE).layers if layer.name == "fusion")
    rows, channels, steps, fused = 4, 28, 256 // 8, 32
    assert layer.params == rows * channels * fused + fused
    assert layer.macs == steps * fused * rows * channels and layer.output_shape == (fused, steps)


# ----------------------------------------------------------------------------------------------- int8 student
@pytest.fixture(scope="module")
def int8_student():
    task = Task.regression("heart_rate", "BPM")
    model = build_model(STUDENT.default(), task, SHAPE, seed=0, target=(80.0, 15.0))
    model = _with_batch_statistics(model, _windows(64))
    return model, quantize_int8(model, _windows(128, seed=3), Int8Config(calibration_windows=128))


def test_int8_student_runs_int8_kernels_close_to_float(int8_student):
    model, q = int8_student
    kinds = {type(m).__module__ + "." + type(m).__name__ for m in q.modules()}
    assert not any(k == "torch.nn.modules.conv.Conv1d" for k in kinds)  # every convolution runs in int8
    assert not any(k == "torch.nn.modules.linear.Linear" for k in kinds)
    x = torch.from_numpy(_windows(64, seed=4))
    with torch.no_grad():
        ref, out = model(x), q(x)
    assert float((out - ref).abs().max()) < 0.5  # BPM
    assert float((out - ref).abs().mean()) < 0.2


def test_int8_student_storage_is_under_the_pulse_figure(int8_student):
    model, q = int8_student
    stored = int8_storage_bytes(q)
    float_bytes = profile(model.net, SHAPE).storage_bytes(32)
    weights = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1)
    assert weights <= stored <= 37_900  # int8 weights + per-channel scales + int32-sized biases + qparams
    assert stored < 0.3 * float_bytes


def test_spec_helpers_build_the_pulse_families():
    net = build_spec(PulseTeacherArch(width=8, heads=2), 4, 1, 64, seed=0)
    assert net(torch.zeros(2, 4, 64)).shape == (2, 1)


def test_structured_pruning_keeps_the_student_working():
    from biowear.compress.structured import structured_prune

    model = STUDENT.build(STUDENT.default(), SHAPE, 1, seed=0)
    structured_prune(model, SHAPE, 0.5)
    assert model.extractor.block2.conv2.out_channels == 28 and model.fusion.in_channels == 4 * 28  # kept width
    assert model.fusion.out_channels < 32 and model(torch.zeros(2, *SHAPE)).shape == (2, 1)
    assert profile(model, SHAPE).params == sum(p.numel() for p in model.parameters())
