"""Contract suites: every registered strategy on every kind of space, and every space's own contract.

Spaces: the architecture space of each registered model family (small bounds) and the compression space.
"""

from __future__ import annotations

import pytest

from biowear.models import FAMILIES
from biowear.search import STRATEGIES, ArchitectureSpace, SearchSpace
from biowear.search.strategies import GAConfig
from biowear.testing import check_search_space, check_strategy

#: Small bounds per family, so the contract runs in seconds; a family without an entry uses its full grid.
SMALL_BOUNDS = {"resnet_lstm": {"blocks": (0, 5), "x": (1, 2), "lstm_exp": (4, 6)}}


def _architecture_space(name: str) -> ArchitectureSpace:
    return ArchitectureSpace(name, SMALL_BOUNDS.get(name, {}), FAMILIES.get(name).example_input_shape, 2)


def _compression_space():
    from biowear.compress.search import CompressionSpace

    space = CompressionSpace(sparsities=(0.0, 0.5, 0.8), bits=(2, 4, 8))
    if not isinstance(space, SearchSpace):
        missing = [m for m in ("chromosome_length", "canonical", "violation", "sample") if not hasattr(space, m)]
        pytest.skip(f"CompressionSpace does not implement the SearchSpace protocol yet (lacks {', '.join(missing)})")
    return space


SPACES = {f"arch:{name}": (lambda name=name: _architecture_space(name)) for name in FAMILIES.names()}
SPACES["compression"] = _compression_space


@pytest.mark.parametrize("space_name", list(SPACES))
def test_space_contract(space_name):
    check_search_space(SPACES[space_name]())


@pytest.mark.parametrize("space_name", list(SPACES))
@pytest.mark.parametrize("strategy", STRATEGIES.names())
def test_strategy_contract(strategy, space_name):
    space = SPACES[space_name]()
    asked = check_strategy(STRATEGIES.get(strategy), space, ga=GAConfig(population=6, generations=2))
    if strategy == "exhaustive":
        assert sorted(map(repr, asked)) == sorted(map(repr, space.feasible_points))


@pytest.mark.parametrize("space_name", list(SPACES))
@pytest.mark.parametrize("strategy", [s for s in STRATEGIES.names() if STRATEGIES.get(s).multi_objective_capable])
def test_multi_objective_strategy_contract(strategy, space_name):
    check_strategy(STRATEGIES.get(strategy), SPACES[space_name](), n_objectives=2)


def test_bounded_space_decodes_outside_the_bounds_to_none():
    space = ArchitectureSpace("ecg_cnn", {"blocks": (1, 2), "filters": (8, 16)}, (1, 128), 2)
    assert len(space.points) == 2 * 2 * 2 and space.chromosome_length == 3 + 2 + 1
    full = ArchitectureSpace("ecg_cnn", {}, (1, 128), 2)
    outside = full.encode(full.family_obj.from_genes({"blocks": 3, "filters": 32, "dense": 16}))
    assert full.decode(outside) is not None and space.decode(outside) is None
    assert full.decode((1, 1, 1, 0, 0, 0)) is None  # blocks index 7 lies beyond the 5-value grid
