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


def _point_of(request: Any) -> Any:
    from biowear.search.protocol import Budgeted

    return request.point if isinstance(request, Budgeted) else request


def _drive(strategy: Any, space: Any, fitness: _Fitness, max_rounds: int) -> list[Any]:
    feasible = set(space.feasible_points)
    asked: list[Any] = []
    rounds = 0
    while not strategy.done:
        batch = list(strategy.ask())
        assert len(batch) == len(set(batch)), f"{type(strategy).__name__}.ask repeated a point in one batch"
        points = [_point_of(p) for p in batch]  # a multi-fidelity request carries its point
        bad = [p for p in points if p not in feasible]
        assert not bad, f"{type(strategy).__name__} asked infeasible or out-of-bounds points {bad[:3]}"
        asked.extend(batch)
        strategy.tell({r: fitness(p, space.encode(p)) for r, p in zip(batch, points, strict=True)})
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


def check_family(family: Any, input_shape: tuple[int, int] | None = None, n_outputs: Sequence[int] = (2, 1)) -> None:
    """Check that a :class:`biowear.models.Family` keeps its contract, on one sample of ``input_shape`` (default:
    the family's ``example_input_shape``).

    The default parses from None, labels parse back, keys are stable and filesystem-safe, dictionaries round-trip
    through JSON, genes round-trip, ``canonical`` is idempotent, networks build on ``meta`` and on the CPU with
    output ``(B, n_outputs)``, the cost profile runs and counts the CPU network's parameters, a seeded build is
    reproducible and leaves the global RNG alone, and ``prunable`` names modules of the network.
    """
    from biowear.cost import profile

    input_shape = input_shape or family.example_input_shape
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


# =====================================================================================================  data
def check_dataset(dataset: Any, max_records: int = 2) -> None:
    """Check a dataset plugin (the :class:`biowear.data.Dataset` protocol) the way ``prepare`` uses it.

    Checks: distinct string record names, a positive finite sampling rate, a description, a stable
    fingerprint, a group per record, records that load as finite :class:`~biowear.data.Record` objects of
    this dataset, and a one-line error (listing valid records) for an unknown record.
    """
    import math

    import numpy as np

    from biowear.data.record import Record
    from biowear.errors import DataError

    name = getattr(dataset, "name", type(dataset).__name__)
    ids = tuple(dataset.record_ids())
    assert ids, f"{name}: record_ids() is empty"
    assert all(isinstance(r, str) and r for r in ids), f"{name}: record names must be non-empty strings"
    assert len(set(ids)) == len(ids), f"{name}: record names repeat"
    fs = float(dataset.fs_hz)
    assert math.isfinite(fs) and fs > 0, f"{name}: fs_hz must be positive, got {fs}"
    assert isinstance(getattr(dataset, "description", None), str), f"{name}: needs a one-line description"
    fp = dataset.fingerprint()
    assert isinstance(fp, str) and fp and fp == dataset.fingerprint(), f"{name}: fingerprint() must be stable"
    for rid in ids:
        group = dataset.group_of(rid)
        assert isinstance(group, str) and group, f"{name}: group_of({rid!r}) must be a non-empty string"
    if hasattr(dataset, "load_arrays"):  # an already-windowed array dataset
        arrays = dataset.load_arrays()
        assert arrays.x.ndim == 3 and len(arrays.x) == len(arrays.y), f"{name}: arrays must be (n, channels, samples)"
        assert np.all(np.isfinite(arrays.x)), f"{name}: arrays hold NaN/inf"
        return
    for rid in ids[:max_records]:
        rec = dataset.load(rid)
        assert isinstance(rec, Record), f"{name}: load({rid!r}) must return a Record, got {type(rec).__name__}"
        assert rec.record_id == rid and rec.dataset == name, (
            f"{name}: load({rid!r}) names {rec.dataset}/{rec.record_id}"
        )
        assert rec.n_samples > 0 and np.all(np.isfinite(rec.signal)), f"{name}: record {rid} is empty or not finite"
    try:
        dataset.load("no-such-record-\u2603")
    except (ConfigError, DataError) as exc:
        assert ids[0] in str(exc) or "valid" in str(exc), f"{name}: an unknown record's error lists no valid records"
    else:
        raise AssertionError(f"{name}: load() of an unknown record must raise ConfigError/DataError")


# =====================================================================================================  bench
def check_app(app_cls: type, seed: int = 0) -> None:
    """Check a BiomedBench application plugin: declared inputs, quick preparation, deterministic decisions on
    its test windows, positive static memory, clear errors for a bad window, and fixed-point mode when declared.
    """
    import tempfile
    from dataclasses import replace
    from pathlib import Path

    import numpy as np

    from biowear.bench.app import App, AppOutput
    from biowear.errors import DataError

    assert issubclass(app_cls, App), f"{app_cls.__name__} must subclass biowear.bench.app.App"
    info = app_cls.info
    assert info.signals and info.name, f"{app_cls.__name__}: info must name the app and declare its signals"
    with tempfile.TemporaryDirectory() as empty:
        app = app_cls().prepare(seed=seed, data_root=Path(empty), quick=True)
    assert app.test_windows, f"{info.name}: prepare(quick=True) made no test windows"
    first = [app.run(w) for w in app.test_windows[:3]]
    assert all(isinstance(o, AppOutput) and isinstance(o.decision, (int, np.integer)) for o in first), (
        f"{info.name}: run() must return AppOutput with an integer decision"
    )
    assert [o.decision for o in first] == [app.run(w).decision for w in app.test_windows[:3]], (
        f"{info.name}: decisions differ between two runs of the same window"
    )
    assert int(app.static_bytes()) > 0, f"{info.name}: static_bytes() must be positive"
    window = app.test_windows[0]
    spec = info.signals[0]
    bad = dict(window.signals)
    bad[spec.name] = np.asarray(bad[spec.name])[:, : max(1, spec.samples // 2)]
    try:
        app.run(replace(window, signals=bad))
    except DataError:
        pass
    else:
        raise AssertionError(f"{info.name}: a too-short {spec.name} window must raise DataError")
    if app.supports_fixed:
        out = app.run(window, fixed=True)
        assert isinstance(out, AppOutput), f"{info.name}: fixed-point run must return AppOutput"


# =====================================================================================================  compress
def check_producer(producer: Any, config: Any = None, input_shape: tuple[int, int] = (1, 64)) -> None:
    """Check a compression producer on a small seeded network and random data, the way a sweep calls it
    (protocol, the settings it reads, distinct variant labels, what it produces, the base left untouched)."""
    import numpy as np

    from biowear.compress.config import CompressionConfig
    from biowear.compress.producers import ProduceContext
    from biowear.compress.producers import check_producer as _check
    from biowear.data.task import Task
    from biowear.models import EcgCnnSpec
    from biowear.train import TrainConfig, build_model

    config = config or CompressionConfig(sparsities=(0.5,), bits=(2,), finetune_epochs=1, structured=(0.5,))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, *input_shape)).astype(np.float32)
    y = (x[:, 0, :4].mean(axis=1) > 0).astype(np.int64)
    base = build_model(EcgCnnSpec(blocks=1, filters=4, kernel=3, dense=8), Task.classification(("a", "b")),
                       input_shape, seed=0)  # fmt: skip
    context = ProduceContext(config, TrainConfig(epochs=1, batch_size=16), (x, y, x, y), input_shape)
    _check(producer, config, base, context)
