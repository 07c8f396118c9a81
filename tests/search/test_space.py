from __future__ import annotations

import itertools

import pytest

from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, grid
from biowear.search import Constraints, Space, decode_raw, encode


def test_encode_decode_round_trip_over_the_whole_grid():
    full = Space()
    for genes in grid():
        bits = encode(genes)
        assert len(bits) == 9 and set(bits) <= {0, 1}
        assert full.decode(bits) == genes


def test_chromosome_layout_is_4_2_3_bits():
    assert encode(ResNetLSTMGenes(blocks=9, x=3, lstm_exp=6)) == (1, 0, 0, 1, 1, 0, 0, 1, 0)
    assert decode_raw((1, 1, 1, 1, 1, 1, 1, 0, 0)) == (15, 4, 8)


def test_invalid_decodes():
    full = Space()
    invalid = [bits for bits in itertools.product((0, 1), repeat=9) if full.decode(bits) is None]
    assert len(invalid) == 3 * 2**6  # LSTM codes 5..7 (z = 9..11) for every blocks/x combination
    bounded = Space(blocks=(0, 3), x=(1, 2), lstm_exp=(4, 5))
    assert bounded.decode(encode(ResNetLSTMGenes(4, 1, 4))) is None
    assert len(bounded.points) == 4 * 2 * 2
    with pytest.raises(ConfigError, match="9 bits"):
        decode_raw((1, 0))


def test_constraints_filter_points_and_explain():
    space = Space(blocks=(0, 6), constraints=Constraints(max_storage_bytes=200_000))
    assert space.feasible_points and all(space.cost(g).storage_bytes(32) <= 200_000 for g in space.feasible_points)
    big = ResNetLSTMGenes(6, 1, 8)
    assert "storage" in space.violation(big)
    ram = Space(blocks=(0, 6), constraints=Constraints(max_peak_ram_bytes=70_000))
    assert all(ram.cost(g).peak_activation_bytes(32) <= 70_000 for g in ram.feasible_points)


def test_impossible_constraints_fail_immediately():
    space = Space(constraints=Constraints(max_flops=10))
    with pytest.raises(ConfigError, match="no network of the space satisfies.*smallest achievable"):
        _ = space.feasible_points


@pytest.mark.parametrize("kwargs", [{"blocks": (3, 1)}, {"x": (0, 2)}, {"lstm_exp": (4, 9)}])
def test_bad_bounds(kwargs):
    with pytest.raises(ConfigError):
        Space(**kwargs)
