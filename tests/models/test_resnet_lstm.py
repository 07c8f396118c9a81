from __future__ import annotations

import pytest
import torch

from biowear.cost import profile
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build, grid
from biowear.models.layers import SamePadConv1d


def test_grid_has_320_points():
    points = grid()
    assert len(points) == 320 == len(set(points))


def test_every_grid_point_builds_and_runs_forward_shape_only():
    """All 320 points build and run forward on the meta device (the largest have ~8.8e12 weights)."""
    for genes in grid():
        model = build(genes, 1, 3, device="meta")
        assert model(torch.empty(2, 1, 256, device="meta")).shape == (2, 3)


def _points_under_cap() -> list[ResNetLSTMGenes]:
    return [g for g in grid() if profile(build(g, 1, 2, device="meta"), (1, 256)).params <= 1_050_000]


def _runs_for_real(points: list[ResNetLSTMGenes]) -> None:
    x = torch.randn(1, 1, 256)
    for genes in points:
        model = build(genes, 1, 2, seed=0).eval()
        with torch.no_grad():
            out = model(x)
        assert out.shape == (1, 2) and torch.isfinite(out).all(), genes


def test_a_spread_of_capped_points_runs_for_real():
    """Every 9th of the 135 points under the paper's cap (1.05 M parameters) runs on real tensors."""
    points = _points_under_cap()
    assert len(points) == 135
    _runs_for_real(points[::9])


@pytest.mark.slow
def test_all_capped_points_run_for_real():
    """All 135 points under the cap run on real tensors (slow: about a minute on 2 cores)."""
    _runs_for_real(_points_under_cap())


def test_filters_and_subsampling_follow_the_paper():
    g = ResNetLSTMGenes(blocks=6, x=2, lstm_exp=5)
    assert [g.filters(i) for i in range(6)] == [32, 32, 64, 64, 128, 128]
    model = build(g, 1, 2, device="meta")
    shapes = [layer.output_shape for layer in profile(model, (1, 256)).layers if layer.name.endswith(".add")]
    assert shapes == [(32, 256), (32, 128), (64, 128), (64, 64), (128, 64), (128, 32)]
    assert model.lstm.hidden_size == 32


def test_same_padding_output_length():
    for length in (255, 256, 257):
        for stride in (1, 2):
            conv = SamePadConv1d(1, 1, 16, stride=stride)
            assert conv(torch.zeros(1, 1, length)).shape[-1] == -(-length // stride)


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone():
    g = ResNetLSTMGenes(2, 1, 4)
    state = torch.random.get_rng_state()
    a, b = build(g, 1, 2, seed=5), build(g, 1, 2, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = build(g, 1, 2, seed=6)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_parse_and_errors():
    g = ResNetLSTMGenes.parse("blocks=4, x=2, lstm=32")
    assert (g.blocks, g.x, g.lstm_cells) == (4, 2, 32) and g.label() == "blocks=4,x=2,lstm=32"
    with pytest.raises(ConfigError, match="valid values are \\[16, 32, 64, 128, 256\\]"):
        ResNetLSTMGenes.parse("blocks=4,x=2,lstm=48")
    with pytest.raises(ConfigError, match="blocks=16 is outside the space; valid values are 0..15"):
        ResNetLSTMGenes(16, 1, 4)
    with pytest.raises(ConfigError, match="lacks"):
        ResNetLSTMGenes.parse("blocks=4")
    with pytest.raises(ConfigError, match="integer"):
        ResNetLSTMGenes.parse("blocks=four,x=2,lstm=32")


def test_canonical_points_build_identical_networks():
    assert ResNetLSTMGenes(1, 4, 5).canonical() == ResNetLSTMGenes(1, 1, 5)
    assert ResNetLSTMGenes(3, 4, 5).canonical() == ResNetLSTMGenes(3, 3, 5)
    assert ResNetLSTMGenes(3, 2, 5).canonical() == ResNetLSTMGenes(3, 2, 5)
    distinct = {g.canonical() for g in grid()}
    for g in grid():
        c = g.canonical()
        assert [g.filters(i) for i in range(g.blocks)] == [c.filters(i) for i in range(c.blocks)]
    assert len(distinct) < 320


def test_family_default_architectures():
    from biowear.models import EcgCnnSpec, parse_spec

    assert parse_spec("resnet_lstm") == ResNetLSTMGenes(4, 2, 5)
    assert parse_spec("ecg_cnn") == EcgCnnSpec()
    assert parse_spec("ecg_cnn", "blocks=3") == EcgCnnSpec(blocks=3)
    with pytest.raises(ConfigError, match="valid options are: resnet_lstm, ecg_cnn"):
        parse_spec("transformer")
