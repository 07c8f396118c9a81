"""Contract checks for plugins, in the spirit of scikit-learn's ``check_estimator``: run one on your plugin and
it raises ``AssertionError`` naming the first broken promise.

Sections: search (strategies, search spaces), models (families). Dataset, app and compression-producer checks
follow in their own sections.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Hashable, Sequence
from itertools import islice, product
from typing import Any

import torch

from biowear.errors import ConfigError

# =====================================================================================================  search
_Fitness = Callable[[Any, Sequence[int]], tuple[float, ...]]


def _default_fitness(n_objectives: int) -> _Fitness:
    """A deterministic landscape read from the chromosome (binary fraction), so any space can be scored."""

    def fitness(point: Any, bits: Sequence[int]) -> tuple[float, ...]:
        value = sum(b / 2 ** (i + 1) for i, b in enumerate(bits))
        return (value,) if n_objectives == 1 else (value, 1.0 - value)

    return fitness


def check_search_space(space: Any, max_chromosomes: int = 4096, seed: int = 0) -> None:
    """Check that ``space`` keeps the :class:`biowear.search.protocol.SearchSpace` contract.

    Points are distinct and hashable, feasible points a non-empty subset with no violation (the others have
    one), encode gives ``chromosome_length`` bits that decode back, every chromosome decodes to None or a point
    of the space (all of them when there are at most ``max_chromosomes``, else a seeded sample), a wrong-length
    chromosome raises :class:`ConfigError`, ``canonical`` is idempotent and ``sample`` is seeded and feasible.
    """
    from biowear.search.protocol import SearchSpace

    assert isinstance(space, SearchSpace), f"{type(space).__name__} lacks SearchSpace members"
    points = tuple(space.points)
    assert points, "the space has no points"
    assert all(isinstance(p, Hashable) for p in points), "points must be hashable"
    assert len(set(points)) == len(points), "points repeat"
    feasible = tuple(space.feasible_points)
    assert feasible and set(feasible) <= set(points), "feasible points must be a non-empty subset of points"
    for p in points:
        v = space.violation(p)
        assert (v is None) == (p in set(feasible)), f"violation({p!r}) = {v!r} disagrees with feasible_points"
    n = space.chromosome_length
    assert isinstance(n, int) and n > 0, "chromosome_length must be a positive integer"
    for p in points:
        bits = tuple(space.encode(p))
        assert len(bits) == n and set(bits) <= {0, 1}, f"encode({p!r}) is not {n} bits of 0/1"
        assert space.decode(bits) == p, f"decode(encode({p!r})) = {space.decode(bits)!r}"
        c = space.canonical(p)
        assert space.canonical(c) == c, f"canonical is not idempotent at {p!r}"
    inside = set(points)
    if 2**n <= max_chromosomes:
        chromosomes: Any = product((0, 1), repeat=n)
    else:
        rng = random.Random(seed)
        chromosomes = (tuple(rng.randint(0, 1) for _ in range(n)) for _ in range(max_chromosomes))
    for bits in chromosomes:
        d = space.decode(bits)
        assert d is None or d in inside, f"decode({bits}) = {d!r} lies outside the space"
    try:
        space.decode((0,) * (n + 1))
    except ConfigError:
        pass
    else:
        raise AssertionError("decode must raise ConfigError for a chromosome of the wrong length")
    a = [space.sample(random.Random(seed)) for _ in range(2)]
    assert a[0] == a[1], "sample with equally seeded generators must agree"
    assert all(p in set(feasible) for p in a), "sample must return feasible points"


def _drive(strategy: Any, space: Any, fitness: _Fitness, max_rounds: int) -> list[Any]:
    feasible = set(space.feasible_points)
    asked: list[Any] = []
    rounds = 0
    while not strategy.done:
        batch = list(strategy.ask())
        assert len(batch) == len(set(batch)), f"{type(strategy).__name__}.ask repeated a point in one batch"
        bad = [p for p in batch if p not in feasible]
        assert not bad, f"{type(strategy).__name__} asked infeasible or out-of-bounds points {bad[:3]}"
        asked.extend(batch)
        strategy.tell({p: fitness(p, space.encode(p)) for p in batch})
        rounds += 1
        assert rounds <= max_rounds, f"{type(strategy).__name__} not done after {max_rounds} rounds"
    assert list(strategy.ask()) == [], "a done strategy must ask for nothing"
    return asked


def check_strategy(
    strategy_cls: type,
    space: Any,
    n_objectives: int = 1,
    seed: int = 0,
    fitness: _Fitness | None = None,
    max_rounds: int = 200,
    **settings: Any,
) -> list[Any]:
    """Check a strategy class on ``space``: ask returns distinct feasible points, tell accepts their fitness, the
    strategy finishes within ``max_rounds``, and the same seed gives the same sequence.

    Args:
        strategy_cls: a :class:`biowear.search.strategies.Strategy` subclass (built via ``configured``).
        settings: ``ga`` (a :class:`GAConfig`) and ``random_fraction`` handed to ``configured``.

    Returns:
        The asked points, in order.
    """
    from biowear.search.strategies import GAConfig

    ga = settings.get("ga", GAConfig(population=8, generations=3))
    fraction = settings.get("random_fraction", 0.3)
    fit = fitness or _default_fitness(n_objectives)
    runs = [
        _drive(strategy_cls.configured(space, n_objectives, seed, ga, fraction), space, fit, max_rounds)
        for _ in range(2)
    ]
    assert runs[0], f"{strategy_cls.__name__} asked for nothing"
    assert runs[0] == runs[1], f"{strategy_cls.__name__} with the same seed asked a different sequence"
    return runs[0]


# =====================================================================================================  models
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]+$")


def _sample_archs(family: Any, limit: int = 4) -> list[Any]:
    """The default and the smallest grid point, then a few more grid points (for shape-only checks)."""
    genes = family.genes()
    smallest = family.from_genes({g.name: g.values[0] for g in genes})
    names = [g.name for g in genes]
    others = (family.from_genes(dict(zip(names, combo))) for combo in product(*(g.values for g in genes)))
    out = [family.default(), smallest]
    for arch in islice(others, 0, None, 7):
        if len(out) >= limit:
            break
        if arch not in out:
            out.append(arch)
    return out


def check_family(family: Any, input_shape: tuple[int, int] = (1, 128), n_outputs: Sequence[int] = (2, 1)) -> None:
    """Check that a :class:`biowear.models.Family` keeps its contract.

    The default parses from None, labels parse back, keys are stable and filesystem-safe, dictionaries round-trip
    through JSON, genes round-trip, ``canonical`` is idempotent, networks build on ``meta`` and on the CPU with
    output ``(B, n_outputs)``, the cost profile runs and counts the CPU network's parameters, a seeded build is
    reproducible and leaves the global RNG alone, and ``prunable`` names modules of the network.
    """
    from biowear.cost import profile

    assert isinstance(family.name, str) and family.name, "a family needs a name"
    default = family.default()
    assert isinstance(default, family.arch_type), "default() must return the family's architecture type"
    assert family.parse(None) == default, "parse(None) must give the default"
    genes = family.genes()
    assert genes and len({g.name for g in genes}) == len(genes), "genes must be non-empty with distinct names"
    keys = set()
    for arch in _sample_archs(family):
        text = family.label(arch)
        assert family.parse(text) == arch, f"parse(label) does not round-trip: {text!r}"
        key = family.key(arch)
        assert key == family.key(family.parse(text)) and _SAFE_KEY.match(key), f"key {key!r} unstable or unsafe"
        keys.add(key)
        d = json.loads(json.dumps(family.to_dict(arch)))
        assert family.from_dict(d) == arch, "to_dict/from_dict does not round-trip"
        c = family.canonical(arch)
        assert family.canonical(c) == c, "canonical is not idempotent"
        values = family.gene_values(arch)
        if all(values[g.name] in g.values for g in genes) and family.from_genes(values) == arch:
            assert family.gene_values(family.from_genes(values)) == values, "gene values do not round-trip"
        for n in n_outputs:
            meta = family.build(arch, input_shape, n, device="meta")
            out = meta(torch.zeros((2, *input_shape), device="meta"))
            assert tuple(out.shape) == (2, n), f"meta output {tuple(out.shape)} != (2, {n})"
            profile(meta, input_shape, family.cost_rules() or None)
    assert len(keys) == len(_sample_archs(family)), "distinct architectures must have distinct keys"
    for arch in _sample_archs(family)[:2]:
        for n in n_outputs:
            torch.manual_seed(1234)
            expected = torch.rand(1).item()
            torch.manual_seed(1234)
            model = family.build(arch, input_shape, n, seed=0)
            assert torch.rand(1).item() == expected, "a seeded build must leave the global RNG alone"
            again = family.build(arch, input_shape, n, seed=0)
            for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
                assert torch.equal(a, b), f"seeded build differs at {name}"
            model.eval()
            with torch.no_grad():
                out = model(torch.zeros((2, *input_shape)))
            assert tuple(out.shape) == (2, n) and torch.isfinite(out).all(), f"CPU output {tuple(out.shape)}"
            cost = profile(model, input_shape, family.cost_rules() or None)
            assert cost.params == sum(p.numel() for p in model.parameters()), "profile misses parameters"
            plan = family.prunable(model)
            names = dict(model.named_modules())
            listed = [*plan.output, *plan.keep_width, *(n for pair in plan.recurrent for n in pair)]
            missing = [n for n in listed if n not in names]
            assert not missing, f"prunable names modules the network lacks: {missing}"
            family.prune_ignore(model)


__all__ = ["check_family", "check_search_space", "check_strategy"]
