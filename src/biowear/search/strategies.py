"""Search strategies behind one ask/tell interface: exhaustive, random and four genetic algorithms.

The genetic algorithms (Prabakaran et al. 2021, Sec. III; population 30, 5 generations, one-point
crossover p = 0.4, per-gene mutation p = 0.11) use DEAP's operators on biowear's own individuals; DEAP's global
``creator`` is not touched. A chromosome that decodes outside the space gets fitness 0 and is never
trained; a hardware-infeasible network gets fitness 0 too (the study records it without training). The
initial population is drawn from the feasible points (encoded), not from random bit strings.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from deap import base, tools

from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.search.protocol import Fitness, SearchSpace
from biowear.validate import Interval, Options, Rule, check

Point = Hashable


#: Mutation operators of the genetic strategies (DEAP's), by name; each mutates a chromosome in place.
MUTATIONS: Registry[Callable[..., object]] = Registry("mutation")
MUTATIONS.register("flipbit", tools.mutFlipBit)  # flip each bit with probability indpb
MUTATIONS.register("shuffle", tools.mutShuffleIndexes)  # swap each position with probability indpb


@dataclass(frozen=True)
class GAConfig:
    """Genetic-algorithm settings (defaults from BioNetExplorer).

    Args:
        population: individuals per generation.
        generations: generations after the initial population.
        cx_prob: probability that a pair of parents undergoes one-point crossover.
        mut_prob: probability that an offspring is exposed to mutation (default 1: every offspring).
        mut_indpb: per-gene (bit) mutation probability; the paper's "mutation p = 0.11" is read as this,
            following its wording that the offspring's genes undergo mutation with probability 0.11. (Reading
            it per individual, with one expected bit flip, left the GAs almost unable to leave their initial
            population in a bounded space: measured on real MIT-BIH, see the issue notes.)
        mutation: ``flipbit`` (flip each bit with ``mut_indpb``) or ``shuffle`` (DEAP mutShuffleIndexes).
        tournament_size: contestants per tournament (``ga-tournament``).
    """

    population: int = 30
    generations: int = 5
    cx_prob: float = 0.4
    mut_prob: float = 1.0
    mut_indpb: float = 0.11
    mutation: str = "flipbit"
    tournament_size: int = 3

    RULES: ClassVar[dict[str, Rule]] = {
        "population": Interval(int, 2, None),
        "generations": Interval(int, 0, None),
        "cx_prob": Interval(float, 0, 1),
        "mut_prob": Interval(float, 0, 1),
        "mut_indpb": Interval(float, 0, 1),
        "mutation": Options(lambda: MUTATIONS.names()),
        "tournament_size": Interval(int, 2, None),
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)


class Strategy(ABC):
    """Proposes networks (``ask``) and learns their fitness (``tell``) until ``done``.

    Args:
        space: any :class:`~biowear.search.protocol.SearchSpace` (its feasible points are what may be evaluated).
        n_objectives: 1 (weighted phi) or 2 (quality, hardware score).
        seed: seed of the strategy's own random generator.
    """

    name = "strategy"
    multi_objective_capable = False

    def __init__(self, space: SearchSpace, n_objectives: int = 1, seed: int = 0):
        if n_objectives not in (1, 2):
            raise ConfigError("n_objectives must be 1 or 2")
        if n_objectives == 2 and not self.multi_objective_capable:
            capable = ", ".join(n for n in STRATEGIES.names() if STRATEGIES.get(n).multi_objective_capable)
            raise ConfigError(f"strategy {self.name} is single-objective; mode 'multi' needs one of: {capable}")
        self.space, self.n_objectives, self.seed = space, n_objectives, seed
        self.rng = random.Random(seed)

    @classmethod
    def configured(
        cls, space: SearchSpace, n_objectives: int, seed: int, ga: GAConfig | None, random_fraction: float, **extra
    ) -> Strategy:
        """An instance from the study-level settings (each strategy takes the ones it uses; ``extra`` holds
        those of other strategies, such as ``asha`` settings and the full budget ``max_epochs``)."""
        return cls(space, n_objectives, seed)

    @abstractmethod
    def ask(self) -> list[Point]:
        """The next networks to evaluate (distinct); empty once the strategy is done."""

    @abstractmethod
    def tell(self, results: Mapping[Point, Fitness]) -> None:
        """Fitness of (at least) every network returned by the last ``ask``."""

    @property
    @abstractmethod
    def done(self) -> bool:
        """True when no more networks will be asked for."""


class Exhaustive(Strategy):
    """Every feasible point of the space, once (fitness is not used, so any number of objectives works)."""

    name = "exhaustive"
    multi_objective_capable = True

    def __init__(self, space: SearchSpace, n_objectives: int = 1, seed: int = 0):
        super().__init__(space, n_objectives, seed)
        self._pending = list(space.feasible_points)
        self._asked = False

    def ask(self) -> list[Point]:
        if self._asked:
            return []
        self._asked = True
        return list(self._pending)

    def tell(self, results: Mapping[Point, Fitness]) -> None:
        pass

    @property
    def done(self) -> bool:
        return self._asked


class RandomSearch(Exhaustive):
    """A seeded random ``fraction`` of the feasible points (default 10%, at least one)."""

    name = "random"

    def __init__(self, space: SearchSpace, n_objectives: int = 1, seed: int = 0, fraction: float = 0.1):
        super().__init__(space, n_objectives, seed)
        if not 0 < fraction <= 1:
            raise ConfigError(f"random fraction must be in (0, 1], got {fraction}")
        k = max(1, round(fraction * len(self._pending)))
        self._pending = self.rng.sample(self._pending, k)

    @classmethod
    def configured(
        cls, space: SearchSpace, n_objectives: int, seed: int, ga: GAConfig | None, random_fraction: float, **extra
    ) -> Strategy:
        return cls(space, n_objectives, seed, random_fraction)


class _Fitness(base.Fitness):
    weights = (1.0,)


class _Fitness2(base.Fitness):
    weights = (1.0, 1.0)


class _Individual(list):
    """A chromosome (list of bits) carrying a DEAP fitness."""

    def __init__(self, bits: Sequence[int], n_objectives: int):
        super().__init__(bits)
        self.fitness = _Fitness() if n_objectives == 1 else _Fitness2()


class _Genetic(Strategy):
    """Shared generational loop: evaluate population -> select -> crossover -> mutate -> next generation."""

    def __init__(self, space: SearchSpace, n_objectives: int = 1, seed: int = 0, config: GAConfig | None = None):
        super().__init__(space, n_objectives, seed)
        self.config = config or GAConfig()
        self._feasible = set(space.feasible_points)
        self.generation = 0
        self.parents: list[_Individual] = []
        # The initial population encodes random feasible points: in a user-bounded space most random 9-bit
        # strings decode outside it. Offspring that decode outside still get fitness 0 and are not trained.
        feasible = list(space.feasible_points)
        self.population = [
            self._individual(space.encode(self.rng.choice(feasible))) for _ in range(self.config.population)
        ]
        self._waiting = True  # population awaits fitness

    @classmethod
    def configured(
        cls, space: SearchSpace, n_objectives: int, seed: int, ga: GAConfig | None, random_fraction: float, **extra
    ) -> Strategy:
        return cls(space, n_objectives, seed, ga)

    def _individual(self, bits: Sequence[int]) -> _Individual:
        return _Individual(bits, self.n_objectives)

    def _clone(self, ind: _Individual) -> _Individual:
        new = self._individual(ind)
        if ind.fitness.valid:
            new.fitness.values = ind.fitness.values
        return new

    def _decode(self, ind: _Individual) -> Point | None:
        genes = self.space.decode(ind)
        return genes if genes in self._feasible else None

    def ask(self) -> list[Point]:
        if self.done or not self._waiting:
            return []
        out: list[Point] = []
        for ind in self.population:
            genes = self._decode(ind)
            if genes is not None and genes not in out:
                out.append(genes)
        return out

    def tell(self, results: Mapping[Point, Fitness]) -> None:
        zero = (0.0,) * self.n_objectives
        with_state = random.getstate()
        random.seed(self.rng.random())  # DEAP's operators draw from the module RNG: seed it from ours
        try:
            for ind in self.population:
                genes = self._decode(ind)
                ind.fitness.values = results.get(genes, zero) if genes is not None else zero
            if self.generation >= self.config.generations:
                self.generation += 1
                self._waiting = False
                return
            self.population = self._next_generation()
            self.generation += 1
        finally:
            random.setstate(with_state)

    def _vary(self, parents: list[_Individual]) -> list[_Individual]:
        """One-point crossover and mutation on clones of ``parents`` (DEAP's varAnd order)."""
        offspring = [self._clone(p) for p in parents]
        for i in range(1, len(offspring), 2):
            if random.random() < self.config.cx_prob:
                tools.cxOnePoint(offspring[i - 1], offspring[i])
                del offspring[i - 1].fitness.values, offspring[i].fitness.values
        for ind in offspring:
            if random.random() < self.config.mut_prob:
                MUTATIONS.get(self.config.mutation)(ind, indpb=self.config.mut_indpb)
                del ind.fitness.values
        return offspring

    @abstractmethod
    def _next_generation(self) -> list[_Individual]: ...

    @property
    def done(self) -> bool:
        return self.generation > self.config.generations


class GARoulette(_Genetic):
    """Generational GA with fitness-proportionate (roulette-wheel) selection."""

    name = "ga-roulette"

    def _next_generation(self) -> list[_Individual]:
        pop = self.population
        if sum(ind.fitness.values[0] for ind in pop) <= 0:  # roulette needs some positive fitness
            parents = [self.rng.choice(pop) for _ in pop]
        else:
            parents = tools.selRoulette(pop, len(pop))
        return self._vary(parents)


class GATournament(_Genetic):
    """Generational GA with tournament selection."""

    name = "ga-tournament"

    def _next_generation(self) -> list[_Individual]:
        return self._vary(tools.selTournament(self.population, len(self.population), self.config.tournament_size))


class _Elitist(_Genetic):
    """(mu + lambda) GA: parents and offspring compete for survival through ``survival``; mates are picked by
    binary tournament on survival order (earlier survivors rank higher)."""

    multi_objective_capable = True

    @staticmethod
    @abstractmethod
    def survival(individuals: list[_Individual], k: int) -> list[_Individual]: ...

    def _next_generation(self) -> list[_Individual]:
        survivors = self.survival(self.parents + self.population, len(self.population))
        self.parents = survivors
        rank = {id(ind): i for i, ind in enumerate(survivors)}
        mates = [min(self.rng.sample(survivors, 2), key=lambda ind: rank[id(ind)]) for _ in survivors]
        return self._vary(mates)


class NSGA2(_Elitist):
    """NSGA-II (Deb et al. 2002): survival by non-dominated sorting and crowding distance."""

    name = "nsga2"
    survival = staticmethod(tools.selNSGA2)


class SPEA2(_Elitist):
    """SPEA-2 (Zitzler et al. 2001): survival of an archive chosen by strength and density."""

    name = "spea2"
    survival = staticmethod(tools.selSPEA2)


STRATEGIES: Registry[type[Strategy]] = Registry("strategy")
for _cls in (Exhaustive, RandomSearch, GARoulette, GATournament, NSGA2, SPEA2):
    STRATEGIES.register(_cls.name, _cls)


def make_strategy(
    name: str,
    space: SearchSpace,
    n_objectives: int = 1,
    seed: int = 0,
    ga: GAConfig | None = None,
    random_fraction: float = 0.1,
    **extra: object,
) -> Strategy:
    """Instantiate a registered strategy by name (error lists the valid names); ``extra`` settings (e.g.
    ``asha=ASHAConfig(...)``, ``max_epochs=9``) reach the strategies that use them."""
    return STRATEGIES.get(name).configured(space, n_objectives, seed, ga, random_fraction, **extra)


__all__ = ["Fitness", "GAConfig", "STRATEGIES", "Strategy", "make_strategy"]
