from __future__ import annotations

import pytest

from biowear.compress.config import CompressionConfig
from biowear.compress.search import CompressionGenes, CompressionSpace, search
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.search.objective import Objective
from biowear.search.strategies import GAConfig
from biowear.train import TrainConfig, fit
from tests.compress.helpers import synthetic_binary


@pytest.fixture(scope="module")
def task():
    data, split, arrays = synthetic_binary(("syn000", "syn003"))
    model = build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)
    fit(model, *arrays, TrainConfig(epochs=1))
    return model, data, split


def _exhaustive(task, space, directory, seen=None, finetune_epochs=0):
    model, data, split = task
    listener = None if seen is None else (lambda label, resumed: seen.append((label, resumed)))
    return search(
        model,
        data,
        split,
        TrainConfig(epochs=1),
        CompressionConfig(finetune_epochs=finetune_epochs),
        space,
        "exhaustive",
        directory=directory,
        progress=listener,
    )


def test_space_chromosomes_round_trip_and_canonicalise():
    space = CompressionSpace(("layer", "global"), (0.0, 0.5, 0.9), (2, 3, 4, 8))
    assert space.widths == (1, 2, 2)
    assert len(space.points) == 4 + 2 * 2 * 4  # the unpruned points exist once, whatever the method
    for genes in space.points:
        assert space.decode(space.encode(genes)) == genes
    assert space.decode((1, 1, 1, 0, 0)) is None  # sparsity index 3 lies beyond the grid
    assert space.decode((1, 0, 0, 0, 0)) == CompressionGenes("none", 0.0, 2)
    with pytest.raises(ConfigError, match="5 bits"):
        space.decode((1, 0))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"methods": ("random",)}, "valid options are: layer, global"),
        ({"sparsities": (0.5, 1.0)}, r"sparsities must be .* in \[0, 1\)"),
        ({"sparsities": (0.5, float("nan"))}, r"sparsities must be .* in \[0, 1\)"),
        ({"bits": (0, 4)}, r"each an integer in \[1, 8\]"),
        ({"bits": (2.7,)}, r"each an integer in \[1, 8\]"),
        ({"bits": ()}, "bits must be a non-empty"),
        ({"methods": ()}, "non-empty methods"),
    ],
)
def test_space_rejects_bad_grids(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        CompressionSpace(**kwargs)


def test_exhaustive_search_measures_every_point_and_resumes(task, tmp_path):
    space = CompressionSpace(("global",), (0.0, 0.6), (2, 4))
    seen: list[tuple[str, bool]] = []
    points = _exhaustive(task, space, tmp_path, seen)
    labels = [p.label() for p in points]
    assert labels == [
        "original",
        "kmeans q=2",
        "kmeans q=4",
        "prune-global+kmeans s=0.6 q=2",
        "prune-global+kmeans s=0.6 q=4",
    ]
    assert not any(resumed for _, resumed in seen)
    assert points[3].storage_bytes < points[1].storage_bytes  # pruning shrinks the 2-bit network further
    assert (tmp_path / "pruned" / "global-0.6.pt").exists()

    seen.clear()  # same setup again: everything comes from the resume file, nothing is re-measured
    again = _exhaustive(task, space, tmp_path, seen)
    assert [p.label() for p in again] == labels and all(resumed for _, resumed in seen)
    assert [p.quality for p in again] == [p.quality for p in points]
    with pytest.raises(ConfigError, match="another network or setup"):
        _exhaustive(task, space, tmp_path, finetune_epochs=1)


def test_genetic_strategies_search_the_space(task):
    model, data, split = task
    space = CompressionSpace(("layer", "global"), (0.0, 0.5, 0.8), (2, 3, 4, 6))
    ga = GAConfig(population=4, generations=1)
    train, config = TrainConfig(epochs=1), CompressionConfig(finetune_epochs=0, seed=1)
    points = search(model, data, split, train, config, space, "nsga2", ga=ga)
    assert 2 <= len(points) <= 1 + 8  # original + at most two generations of four
    assert all(p.bits in space.bits for p in points[1:])
    weighted = Objective(alpha=0.2, beta=0.8)
    points = search(
        model, data, split, train, CompressionConfig(finetune_epochs=0), space, "ga-tournament", weighted, ga=ga
    )
    assert len(points) >= 2
    with pytest.raises(ConfigError, match="single-objective"):
        search(model, data, split, train, config, space, "ga-roulette", Objective(mode="multi"), ga=ga)
    with pytest.raises(ConfigError, match="valid options are"):
        search(model, data, split, train, config, space, "simulated-annealing")
    with pytest.raises(ConfigError, match="one pruning schedule"):
        search(model, data, split, train, CompressionConfig(schedules=("one-shot", "iterative")), space)
