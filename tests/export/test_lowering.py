"""Lowering equals PyTorch; every integer kernel against float within its quantisation error; the arena."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.export.arena import plan_arena, tensor_bytes
from biowear.export.floatsim import run_float, run_op
from biowear.export.graph import lower
from biowear.export.packing import unpack
from biowear.export.quantize import QOp, quantize_graph
from biowear.export.reference import input_codes
from biowear.export.reference import run_op as run_int_op
from biowear.models import build_spec
from biowear.models.pulse import PulseStudentArch, PulseTeacherArch
from biowear.models.resnet_lstm import ResNetLSTMGenes
from biowear.train.target import ScaledInput, ScaledOutput
from tests.export.nets import NETWORKS, network, windows

IDS = [n[0] for n in NETWORKS]


@pytest.mark.parametrize("name, arch, shape", NETWORKS, ids=IDS)
def test_lowered_graph_equals_pytorch(name, arch, shape):
    net = network(arch, shape)
    x = windows(shape, 6)
    want = net(torch.from_numpy(x)).detach().double().numpy()
    assert np.abs(run_float(lower(net, shape), x) - want).max() < 1e-5


def test_input_and_target_scales_are_part_of_the_graph():
    _, arch, shape = NETWORKS[1]
    net = ScaledOutput(ScaledInput(network(arch, shape, n_outputs=1), [0.3], [2.0]), 70.0, 12.0).eval()
    x = windows(shape, 4) * 3 + 1
    graph = lower(net, shape)
    assert graph.input_scale is not None and graph.target_scale == pytest.approx((70.0, 12.0))
    assert np.abs(run_float(graph, x) - net(torch.from_numpy(x)).detach().numpy()).max() < 1e-4


def test_unsupported_layers_are_named():
    teacher = build_spec(PulseTeacherArch(), 4, 1, 256, seed=0)
    with pytest.raises(ConfigError, match=r"'fusion\.attn' \(MultiheadAttention\).*supported layers are: Conv1d"):
        lower(teacher, (4, 256))
    odd = nn.Sequential(nn.Conv1d(1, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(4 * 14, 2))
    with pytest.raises(ConfigError, match=r"'1' \(GELU\)"):
        lower(odd, (1, 16))
    grouped = nn.Sequential(nn.Conv1d(4, 4, 3, groups=2), nn.Flatten(), nn.Linear(4 * 14, 2))
    with pytest.raises(ConfigError, match="grouped convolution"):
        lower(grouped, (4, 16))


def _real_weights(qop: QOp, key: str, unit: np.ndarray, s_in: float) -> np.ndarray:
    w = qop.ints[key] if key not in qop.packed else unpack(qop.packed[key], np.asarray(qop.ints[key]).size)
    w = np.asarray(w, dtype=np.float64).reshape(np.asarray(qop.ints[key]).shape)
    return w * (unit / s_in).reshape((-1,) + (1,) * (w.ndim - 1))


def _float_twin(qop: QOp) -> QOp:
    """The op with the weights and biases its integers stand for (dequantised), to isolate kernel arithmetic."""
    op = copy.deepcopy(qop.op)
    i, p, s_in = qop.ints, op.params, qop.inp[0].scale

    def unit(m: str, s: str, scale: float) -> np.ndarray:
        return np.asarray(i[m], dtype=np.float64) * 2.0 ** (np.asarray(i[s], dtype=np.float64) - 31) * scale

    if op.kind in ("conv", "dense"):
        u = unit("multiplier", "shift", qop.out.scale)
        w = _real_weights(qop, "weight", u, s_in)
        p.update(weight=w.transpose(0, 2, 1) if w.ndim == 3 else w, bias=i["bias"] * u, out_scale=np.ones(len(u)))
    elif op.kind == "lstm":
        ux, uh = unit("multiplier_x", "shift_x", 2.0**-12), unit("multiplier_h", "shift_h", 2.0**-12)
        p.update(w_ih=_real_weights(qop, "w_ih", ux, s_in), w_hh=_real_weights(qop, "w_hh", uh, 2.0**-7),
                 bias=i["bias"] * ux)  # fmt: skip
    return op


#: Largest error of each kernel, in output steps, against float on the same (dequantised) inputs and weights.
STEPS = {"conv": 0.51, "dense": 0.51, "affine": 1.01, "add": 1.01, "avgpool": 0.51, "maxpool": 0.0,
         "rows_to_batch": 0.0, "rows_to_channels": 0.0, "lstm": 3.0}  # fmt: skip


@pytest.mark.parametrize("weights", ["int8", "kmeans"])
@pytest.mark.parametrize("name, arch, shape", [NETWORKS[2], NETWORKS[5], NETWORKS[6]], ids=[IDS[2], IDS[5], IDS[6]])
def test_every_integer_kernel_matches_float_within_its_quantisation_error(name, arch, shape, weights):
    net = network(arch, shape)
    if weights == "kmeans":  # few distinct values per weight tensor, as k-means leaves them
        with torch.no_grad():
            for p in net.parameters():
                if p.dim() > 1:
                    p.copy_(torch.round(p / p.abs().max() * 7) / 7 * p.abs().max())
    x = windows(shape, 24)
    q = quantize_graph(lower(net, shape), x[:16], weights)
    assert weights == "int8" or any(qop.packed for qop in q.ops)
    g = q.graph
    values = {g.input: input_codes(q, x[16:]).astype(np.int64).transpose(0, 2, 1)[:, None]}
    seen = set()
    for qop in q.ops:
        ints = [values[t] for t in qop.op.inputs]
        out = run_int_op(qop, ints, g.shapes[qop.op.output])
        values[qop.op.output] = out
        real_in = [(v - qp.zero_point) * qp.scale for v, qp in zip(ints, qop.inp)]
        want = run_op(_float_twin(qop), real_in, g.shapes[qop.op.output])
        o = qop.out
        low, high = (int(qop.ints["act_min"]) - o.zero_point) * o.scale, (127 - o.zero_point) * o.scale
        if qop.kind == "lstm":
            low, high = -1.0, 127 / 128
        err = np.abs((out - o.zero_point) * o.scale - np.clip(want, low, high)).max()
        assert err <= STEPS[qop.kind] * o.scale + 1e-9, (qop.kind, qop.op.source, err / o.scale)
        seen.add(qop.kind)
    assert seen >= {"conv", "dense"}


def test_weights_are_within_half_a_step_of_float_per_channel():
    _, arch, shape = NETWORKS[2]
    net = network(arch, shape)
    q = quantize_graph(lower(net, shape), windows(shape, 8))
    conv = next(qop for qop in q.ops if qop.kind == "conv")
    w = conv.op.params["weight"] * conv.op.params["out_scale"][:, None, None]
    step = np.abs(w).reshape(len(w), -1).max(axis=1) / 127
    back = conv.ints["weight"].transpose(0, 2, 1) * step[:, None, None]
    assert np.all(np.abs(back - w) <= step[:, None, None] / 2 + 1e-12)


ARENA_CASES = [
    *NETWORKS,
    ("resnet-b2-L101", ResNetLSTMGenes(2, 1, 4), (1, 101)),  # odd lengths: uneven tensor sizes along the chain
    ("resnet-b6-L187", ResNetLSTMGenes(6, 1, 4), (1, 187)),
    ("pulse-pool1", PulseStudentArch(width=3, kernel=3, pool=1, fusion=16, dense=0), (4, 37)),
]


@pytest.mark.parametrize("name, arch, shape", ARENA_CASES, ids=[c[0] for c in ARENA_CASES])
def test_arena_equals_the_liveness_peak_and_no_live_tensors_overlap(name, arch, shape):
    graph = lower(network(arch, shape), shape)
    plan = plan_arena(graph)
    assert plan.size_bytes == plan.peak_bytes
    inner = list(plan.offsets)
    for a in inner:
        assert plan.sizes[a] >= tensor_bytes(graph.shapes[a])
        for b in inner:
            live_together = (
                a != b and plan.lifetimes[a][0] <= plan.lifetimes[b][1] and plan.lifetimes[b][0] <= plan.lifetimes[a][1]
            )
            if live_together:
                apart = (
                    plan.offsets[a] + plan.sizes[a] <= plan.offsets[b]
                    or plan.offsets[b] + plan.sizes[b] <= plan.offsets[a]
                )
                assert apart, (a, b)


def test_mse_ranges_clip_heavy_tails_and_never_quantise_worse_than_minmax():
    from biowear.export.quantize import Calibration

    rng = np.random.default_rng(0)

    def mse(q, values):
        back = (np.clip(np.round(values / q.scale) + q.zero_point, -128, 127) - q.zero_point) * q.scale
        return np.mean((back - values) ** 2)

    for values in (rng.standard_t(2, 20000), rng.standard_normal(20000), rng.uniform(0, 3, 20000)):
        cal = Calibration({"t": (values.min(), values.max())}, {"t": values}, {})
        wide, tight = cal.qparams("t", "minmax"), cal.qparams("t", "mse")
        assert wide.scale == pytest.approx((values.max() - min(values.min(), 0)) / 255)
        assert tight.scale <= wide.scale and mse(tight, values) <= mse(wide, values)
    heavy = rng.standard_t(2, 20000)
    cal = Calibration({"t": (heavy.min(), heavy.max())}, {"t": heavy}, {})
    assert cal.qparams("t", "mse").scale < 0.97 * cal.qparams("t", "minmax").scale
    flat = rng.uniform(-1, 1, 5000)
    cal = Calibration({"u": (-1.0, 1.0)}, {"u": flat}, {})
    assert cal.qparams("u", "mse").scale == pytest.approx(cal.qparams("u", "minmax").scale)  # nothing to clip


def test_every_resnet_lstm_grid_point_that_fits_1_mb_of_flash_lowers_with_an_optimal_arena():
    """The C export covers the whole part of the 320-point grid an MCU with 1 MB of flash (Apollo3 Blue) can
    hold at int8: every distinct network lowers, and its arena equals its liveness peak."""
    from biowear.cost import profile
    from biowear.models.resnet_lstm import grid

    fitting = 0
    for genes in grid():
        if genes != genes.canonical():
            continue
        if profile(build_spec(genes, 1, 5, 128, device="meta"), (1, 128)).storage_bytes(8) > 1_000_000:
            continue
        plan = plan_arena(lower(build_spec(genes, 1, 5, 128, seed=0).eval(), (1, 128)))
        assert plan.size_bytes == plan.peak_bytes, genes
        fitting += 1
    assert fitting == 88
