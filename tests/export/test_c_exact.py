"""The generated C equals the numpy reference bit for bit: host gcc for every network, Cortex-M4 under QEMU."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from biowear.export.c_export import MANIFEST, export_c
from biowear.export.quantize import weight_bytes
from biowear.export.reference import classes, run_int
from biowear.train.target import ScaledInput, ScaledOutput
from tests.export.conftest import needs_cc
from tests.export.nets import NETWORKS, network, share_values, windows

IDS = [n[0] for n in NETWORKS]
pytestmark = needs_cc


@pytest.mark.parametrize("name, arch, shape", NETWORKS, ids=IDS)
def test_host_c_equals_the_reference_on_every_window(tmp_path, name, arch, shape):
    net = network(arch, shape)
    x = windows(shape, 48)
    record, q = export_c(net, shape, tmp_path, x[:32], check=x[32:])
    assert record.host_exact and record.host_windows == 16
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["arena_bytes"] == manifest["liveness_peak_bytes"] == record.arena_bytes
    # the int8 network still classifies like the float one on most windows (the codes are not degenerate)
    float_labels = net(torch.from_numpy(x[32:])).argmax(1).numpy()
    assert (classes(run_int(q, x[32:])) == float_labels).mean() >= 0.8
    source = re.sub(r"/\*.*?\*/", "", (tmp_path / "model.c").read_text(), flags=re.S)  # code, not comments
    assert not re.search(r"\b(float|double|malloc|free|printf)\b", source)
    assert re.findall(r"#include <(\w+)\.h>", source) == ["stdint", "string"]


@pytest.mark.parametrize("sparsity", [0.0, 0.6])
def test_packed_kmeans_weights_are_decoded_exactly_and_save_flash(tmp_path, sparsity):
    _, arch, shape = NETWORKS[5]
    net = share_values(network(arch, shape), 7.5, sparsity)  # 16 shared values, as 4-bit k-means leaves them
    x = windows(shape, 40)
    dense, qd = export_c(net, shape, tmp_path / "int8", x[:24], check=x[24:])
    packed, qp = export_c(net, shape, tmp_path / "kmeans", x[:24], weights="kmeans", check=x[24:])
    assert packed.host_exact
    layouts = {v for op in packed.ops for v in op["packed_layout"].values()}
    assert max(b for op in packed.ops for b in op["packed_bits"].values()) == 4
    assert ("bitmask" in layouts) == bool(sparsity)  # small tensors may stay dense (the row index costs 4 B a row)
    bound = 0.55 if not sparsity else 0.45  # 4 bits a weight; with 60 % zeros 1 + 0.4 x 4 bits a weight
    assert weight_bytes(qp)["weights"] < bound * weight_bytes(qd)["weights"]


def test_regression_model_prints_its_value_in_the_target_unit(tmp_path):
    from biowear.export import build

    _, arch, shape = NETWORKS[6]
    net = ScaledOutput(ScaledInput(network(arch, shape, n_outputs=1), [0.1] * 4, [2.0] * 4), 80.0, 15.0).eval()
    x = windows(shape, 24) * 2
    record, q = export_c(net, shape, tmp_path, x[:16], check=x[16:])
    assert record.host_exact
    values = build.predict_host(tmp_path, x[16:])
    assert np.allclose(values, q.decode(run_int(q, x[16:]))[:, 0], atol=1e-3)
    assert np.abs(values - net(torch.from_numpy(x[16:])).detach().numpy()[:, 0]).max() < 0.05 * 15.0


@pytest.mark.mcu
@pytest.mark.parametrize("name, arch, shape", NETWORKS, ids=IDS)
def test_cortex_m4_build_equals_the_reference_under_qemu(tmp_path, mcu_toolchain, name, arch, shape):
    net = network(arch, shape)
    x = windows(shape, 36)
    record, q = export_c(net, shape, tmp_path, x[:32], check=x[32:], mcu=True, mcu_windows=4)
    assert record.mcu_exact and record.mcu_windows == 4
    mcu = record.mcu
    assert mcu["bss"] >= record.arena_bytes
    assert mcu["rodata"] + mcu["text"] + mcu["data"] >= sum(record.weight_bytes.values())
    assert mcu["stack_bytes"] > 0
    assert 0 < mcu["stack_high_water_bytes"] <= mcu["stack_bytes"]  # the static worst case bounds the measured one


@pytest.mark.mcu
def test_cortex_m4_decodes_packed_sparse_weights_like_the_reference(tmp_path, mcu_toolchain):
    _, arch, shape = NETWORKS[2]
    net = share_values(network(arch, shape), 3.5, 0.5, seed=1)
    x = windows(shape, 36)
    record, _ = export_c(net, shape, tmp_path, x[:32], weights="kmeans", check=x[32:], mcu=True, mcu_windows=4)
    assert record.mcu_exact and "bitmask" in {v for op in record.ops for v in op["packed_layout"].values()}


def test_inputs_far_outside_the_calibration_saturate_in_c_as_in_the_reference(tmp_path):
    """A lead that is silent in every calibration window gives a huge requantisation factor; a window where it is
    not silent must saturate (C clamps its 64-bit products to int32, like the reference) rather than wrap."""
    net = torch.nn.Sequential(torch.nn.Conv1d(2, 1, 1), torch.nn.Flatten(), torch.nn.Linear(8, 2)).eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[[1e-8], [1.0]]]))
        net[0].bias.zero_()
    calib = windows((2, 8), 16)
    calib[:, 1] = 0.0
    record, q = export_c(net, (2, 8), tmp_path, calib, check=windows((2, 8), 8, seed=5))
    assert record.host_exact


def test_channels_with_a_zero_or_tiny_batch_norm_factor_export_as_constants(tmp_path):
    _, arch, shape = NETWORKS[2]
    net = network(arch, shape)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight[::2] = 0.0
                m.weight[1::4] = 1e-7
    share_values(net, 7.5)
    x = windows(shape, 40)
    want = net(torch.from_numpy(x[24:])).detach().numpy()
    for weights in ("int8", "kmeans"):
        record, q = export_c(net, shape, tmp_path / weights, x[:24], weights=weights, check=x[24:])
        assert record.host_exact
        got = q.decode(run_int(q, x[24:]))
        assert np.abs(got - want).max() < 0.1 * np.abs(want).max(), weights
