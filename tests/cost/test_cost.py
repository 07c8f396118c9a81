from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from biowear.cost import profile
from biowear.cost.grid import grid_costs, points_under_cap
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.models.layers import Add, LastStepLSTM, SamePadConv1d


def test_conv_counts_by_hand():
    # Cin=2, Cout=3, k=16, L=32, stride 2 -> Lout=16
    r = profile(nn.Sequential(SamePadConv1d(2, 3, 16, stride=2)), (2, 32))
    (layer,) = r.layers
    assert layer.params == 3 * 2 * 16 + 3
    assert layer.output_shape == (3, 16)
    assert layer.macs == 16 * 3 * 2 * 16
    assert layer.flops == 2 * layer.macs + 3 * 16


def test_linear_bn_relu_pool_counts_by_hand():
    model = nn.Sequential(nn.BatchNorm1d(4), nn.ReLU(), nn.MaxPool1d(2, 2), nn.Flatten(), nn.Linear(4 * 5, 3))
    r = profile(model, (4, 10))
    bn, relu, pool, _, fc = r.layers
    assert (bn.params, bn.buffers, bn.flops) == (8, 8, 2 * 40)
    assert relu.flops == 40 and pool.flops == 20
    assert fc.params == 20 * 3 + 3 and fc.macs == 60 and fc.flops == 123
    assert r.storage_bytes(32) == (8 + 8 + 63) * 4


def test_lstm_counts_by_hand():
    model = nn.Sequential(LastStepLSTM(input_size=6, hidden_size=4))
    (layer,) = profile(model, (6, 10)).layers
    assert layer.params == 4 * 4 * (6 + 4) + 2 * 4 * 4 == sum(p.numel() for p in model.parameters())
    assert layer.macs == 10 * 4 * 4 * (6 + 4)
    assert layer.flops == 2 * layer.macs + 10 * (2 * 4 * 4 + 9 * 4)
    assert layer.output_shape == (4,)


@pytest.mark.parametrize("point", [(0, 1, 4), (2, 2, 5), (5, 1, 6), (9, 3, 7), (15, 4, 8)])
def test_whole_network_against_independent_counters(point):
    genes = ResNetLSTMGenes(*point)
    model = build(genes, 1, 4, seed=0)
    r = profile(model, (1, 256))
    assert r.params == sum(p.numel() for p in model.parameters())
    # torch's own FLOP counter sees convolutions and the dense layer (2 FLOPs per MAC, no bias); it does not
    # count LSTMs, whose MACs are checked by hand above.
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, 1, 256))
    conv_linear_macs = sum(layer.macs for layer in r.layers if layer.kind in ("SamePadConv1d", "Linear"))
    assert 2 * conv_linear_macs == counter.get_total_flops()
    lstm = next(layer for layer in r.layers if layer.kind == "LastStepLSTM")
    steps = 256 // 2 ** (genes.blocks // 2)
    channels = genes.filters(genes.blocks - 1) if genes.blocks else 32
    assert lstm.macs == steps * 4 * genes.lstm_cells * (channels + genes.lstm_cells)


def test_meta_and_real_profiles_agree():
    genes = ResNetLSTMGenes(3, 2, 5)
    a = profile(build(genes, 1, 2, device="meta"), (1, 256))
    b = profile(build(genes, 1, 2, seed=0), (1, 256))
    assert (a.params, a.macs, a.flops, a.peak_activation_elems) == (b.params, b.macs, b.flops, b.peak_activation_elems)


def test_peak_ram_of_a_chain_and_of_a_residual_join():
    chain = nn.Sequential(SamePadConv1d(1, 8, 3), nn.ReLU(), SamePadConv1d(8, 2, 3))
    # conv1 holds input (1x100) + output (8x100); relu holds 800 in + 800 out; conv2 holds 800 + 200
    assert profile(chain, (1, 100)).peak_activation_elems == 1600

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.add = nn.ReLU(), nn.ReLU(), Add()

        def forward(self, x):
            return self.add(self.b(self.a(x)), x)

    # while b runs, x (kept for the join), a's output and b's output are live: 3 x 50
    assert profile(Res(), (5, 10)).peak_activation_elems == 150


def test_storage_arithmetic_with_bits_and_sparsity():
    model = nn.Sequential(nn.Linear(100, 10, bias=False))
    r = profile(model, (100,))
    assert r.storage_bytes(32) == 4000 and r.storage_bytes(8) == 1000
    assert r.storage_bytes(8, sparsity=0.9, fmt="bitmask") == (100 * 8 + 1000) / 8
    assert r.storage_bytes(8, sparsity=0.9, fmt="csr") == (100 * 8 + 100 * 16) / 8
    with torch.no_grad():
        model[0].weight[:, :50] = 0
    r = profile(model, (100,))
    assert r.sparsity == 0.5 and r.layers[0].effective_macs == 500
    with pytest.raises(ConfigError):
        r.storage_bytes(0)
    with pytest.raises(ConfigError):
        r.storage_bytes(8, sparsity=1.0, fmt="bitmask")
    with pytest.raises(ConfigError, match="valid options are: dense, bitmask, csr"):
        r.storage_bytes(8, fmt="coo")


def test_unknown_layer_is_refused():
    with pytest.raises(ConfigError, match="no rule for layer"):
        profile(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 8, 8))


def test_paper_reduction_320_to_135_reproduced_by_a_parameter_cap():
    """BioNetExplorer keeps 135 of 320 points; a cap of about 1.05 M parameters reproduces that exactly."""
    costs = grid_costs((1, 256), 2)
    assert len(costs) == 320
    assert points_under_cap(costs, 1.05e6) == 135
    assert points_under_cap(costs, float("inf")) == 320


def test_kachuee_cnn_against_independent_counters():
    from biowear.models import EcgCnnSpec, build_spec

    model = build_spec(EcgCnnSpec(), 1, 5, 187, seed=0)
    r = profile(model, (1, 187))
    assert r.params == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.zeros(1, 1, 187))
    assert 2 * r.macs == counter.get_total_flops()  # only convolutions and dense layers carry MACs here
    pools = [layer.output_shape for layer in r.layers if layer.kind == "MaxPool1d"]
    assert pools == [(32, 92), (32, 44), (32, 20), (32, 8), (32, 2)]
