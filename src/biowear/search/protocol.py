"""The search-space protocol every strategy works on, and the one ask/tell driver.

A space is a finite set of hashable points (architectures, compression settings, ...) with a binary
chromosome for the genetic strategies. Strategies only ever use this protocol, so any registered space
(architecture exploration of any model family, compression search) is searched by the same code.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

P = TypeVar("P", bound=Hashable)
#: Fitness of a point: one value (weighted phi) or two (quality, hardware score), all maximised.
Fitness = tuple[float, ...]


@dataclass(frozen=True)
class Budgeted(Generic[P]):
    """A request to evaluate ``point`` at a training budget (``budget`` epochs) instead of the full one.

    Multi-fidelity strategies ask for these; the evaluator trains ``point`` for ``budget`` epochs, continuing
    from its longest shorter run when there is one, and stores each fidelity separately.
    """

    point: P
    budget: int


def canonical_request(request: Any, canonical: Callable[[Any], Any]) -> Any:
    """``canonical`` applied to a point, or to the point inside a :class:`Budgeted` request."""
    if isinstance(request, Budgeted):
        return Budgeted(canonical(request.point), request.budget)
    return canonical(request)


@runtime_checkable
class SearchSpace(Protocol[P]):
    """What a strategy needs of a space.

    ``points`` are every point inside the user's bounds; ``feasible_points`` those that satisfy the hardware
    constraints (never empty: a space with none raises at construction or on first access). ``encode`` gives
    a fixed-length 0/1 chromosome, ``decode`` inverts it and returns None for a chromosome outside the
    bounds. ``canonical`` maps points that build the identical network (or setting) to one representative.
    """

    @property
    def points(self) -> tuple[P, ...]: ...

    @property
    def feasible_points(self) -> tuple[P, ...]: ...

    @property
    def chromosome_length(self) -> int: ...

    def encode(self, point: P) -> tuple[int, ...]: ...

    def decode(self, bits: Sequence[int]) -> P | None: ...

    def canonical(self, point: P) -> P: ...

    def violation(self, point: P) -> str | None: ...

    def sample(self, rng: random.Random) -> P: ...


class AskTell(Protocol[P]):
    """The strategy side of the driver (see :class:`biowear.search.strategies.Strategy`)."""

    def ask(self) -> list[P]: ...

    def tell(self, results: Mapping[P, Fitness]) -> None: ...

    @property
    def done(self) -> bool: ...


def optimize(
    strategy: AskTell[P],
    evaluate: Callable[[list[P]], Mapping[P, Fitness]],
    canonical: Callable[[P], P] = lambda p: p,
) -> int:
    """Drive ``strategy`` until it is done: the one ask/tell loop of exploration and compression search.

    Each round the asked points (or :class:`Budgeted` requests) are reduced to distinct canonical points,
    ``evaluate`` scores them (it may read a cache, skip infeasible ones, or train on an executor), and every asked
    point is told the fitness of its canonical point.

    Returns:
        The number of rounds run.

    Raises:
        KeyError: ``evaluate`` returned no fitness for an asked point (a bug in the evaluator).
    """
    rounds = 0
    while not strategy.done:
        asked = strategy.ask()
        distinct = list(dict.fromkeys(canonical_request(p, canonical) for p in asked))
        scores = evaluate(distinct) if distinct else {}
        strategy.tell({p: scores[canonical_request(p, canonical)] for p in asked})
        rounds += 1
    return rounds
