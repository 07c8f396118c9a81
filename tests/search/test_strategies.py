"""Contract suite: every registered strategy must pass these."""

from __future__ import annotations

import pytest

from biowear.search import STRATEGIES, Constraints, Objective, Space, make_strategy
from biowear.search.protocol import Budgeted
from biowear.search.strategies import GAConfig
from tests.search.conftest import fake_quality

SPACE = Space(blocks=(0, 7), x=(1, 4), lstm_exp=(4, 8), constraints=Constraints(max_storage_bytes=2_000_000))


def drive(name: str, seed: int, n_objectives: int = 1) -> list:
    strategy = make_strategy(name, SPACE, n_objectives, seed, GAConfig(population=12, generations=4))
    asked, rounds = [], 0
    while not strategy.done:
        batch = strategy.ask()
        assert len(batch) == len(set(batch)), "a batch repeats a network"
        points = {r: r.point if isinstance(r, Budgeted) else r for r in batch}  # multi-fidelity requests
        asked.extend(points.values())
        if n_objectives == 1:
            fitness = {r: (0.5 * fake_quality(g) + 0.5 * (1 - SPACE.cost(g).params / 2e6),) for r, g in points.items()}
        else:
            fitness = {r: (fake_quality(g), 1 - SPACE.cost(g).params / 2e6) for r, g in points.items()}
        strategy.tell(fitness)
        rounds += 1
        assert rounds < 100
    assert strategy.ask() == []
    return asked


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_only_feasible_points_inside_the_space_are_asked(name):
    asked = drive(name, seed=1)
    assert asked
    feasible = set(SPACE.feasible_points)
    assert all(g in feasible for g in asked)


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_same_seed_same_candidate_sequence(name):
    assert drive(name, seed=5) == drive(name, seed=5)


@pytest.mark.parametrize("name", ["random", "ga-roulette", "ga-tournament", "nsga2", "spea2"])
def test_different_seeds_explore_differently(name):
    assert drive(name, seed=1) != drive(name, seed=2)


def test_strategies_leave_the_global_rng_alone():
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    drive("nsga2", seed=0)
    assert random.random() == expected


def test_exhaustive_and_random_sizes():
    n = len(SPACE.feasible_points)
    assert sorted(drive("exhaustive", 0)) == sorted(SPACE.feasible_points)
    assert len(drive("random", 0)) == max(1, round(0.1 * n))


@pytest.mark.parametrize("name", ["nsga2", "spea2"])
def test_multi_objective_mode(name):
    assert drive(name, seed=0, n_objectives=2)


def test_single_objective_strategies_refuse_multi_mode():
    with pytest.raises(Exception, match="single-objective.*nsga2, spea2, asha"):
        make_strategy("ga-roulette", SPACE, n_objectives=2)


def test_ga_improves_on_its_initial_population():
    strategy = make_strategy("ga-tournament", SPACE, 1, 0, GAConfig(population=16, generations=6))
    scores = []
    while not strategy.done:
        batch = strategy.ask()
        fit = {g: (fake_quality(g),) for g in batch}
        if batch:
            scores.append(max(f[0] for f in fit.values()))
        strategy.tell(fit)
    assert scores[-1] >= scores[0]


def test_objective_validation_and_phi():
    obj = Objective(alpha=0.2, beta=0.8)
    assert obj.phi(0.9, 0.5) == pytest.approx(0.2 * 0.9 + 0.8 * 0.5)
    assert Objective.hardware_score(25, 100) == 0.75
    with pytest.raises(Exception, match="sum to 1"):
        Objective(alpha=0.6, beta=0.6)
    with pytest.raises(Exception, match="target_class"):
        Objective(metric="f1")
    with pytest.raises(Exception, match="valid options are: accuracy"):
        Objective(metric="auc")
    with pytest.raises(Exception, match="valid options are: exhaustive, random, ga-roulette"):
        make_strategy("bayes", SPACE)
