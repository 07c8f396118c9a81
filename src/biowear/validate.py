"""Declarative validation of configuration fields: intervals and choices, one message shape.

A frozen config dataclass declares its constraints once, next to the fields, and calls :func:`check` in
``__post_init__``::

    @dataclass(frozen=True)
    class TrainConfig:
        epochs: int = 20
        lr: float = 1e-3

        RULES = {"epochs": Interval(int, 1, None), "lr": Interval(float, 0, None, closed="neither")}

        def __post_init__(self) -> None:
            check(self, self.RULES)

Every failure is a :class:`ConfigError` of the form ``<owner>.<field> must be <rule>, got <value>``; CLI help
and error texts use the same :meth:`Rule.describe`. Non-finite numbers (NaN, inf) and non-integers where an
integer is required are always refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from biowear.errors import ConfigError


class Rule:
    """A constraint on one value."""

    def ok(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Rule):
    """A finite number of ``type_`` (int or float) within ``[low, high]``; None leaves a side open.

    Args:
        closed: which ends are included: ``both``, ``left``, ``right`` or ``neither``.
        optional: None is accepted as well.
    """

    type_: type = float
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    optional: bool = False

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) or not isinstance(value, Real):
            return False
        if self.type_ is int and not (isinstance(value, Integral) or float(value).is_integer()):
            return False
        v = float(value)
        if not math.isfinite(v):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (v < self.low or (v == self.low and not left)):
            return False
        if self.high is not None and (v > self.high or (v == self.high and not right)):
            return False
        return True

    def describe(self) -> str:
        kind = "an integer" if self.type_ is int else "a finite number"
        lo = "(" if self.closed in ("right", "neither") else "["
        hi = ")" if self.closed in ("left", "neither") else "]"
        if self.low is None and self.high is None:
            text = kind
        elif self.high is None:
            text = f"{kind} {'>=' if lo == '[' else '>'} {self.low:g}"
        elif self.low is None:
            text = f"{kind} {'<=' if hi == ']' else '<'} {self.high:g}"
        else:
            text = f"{kind} in {lo}{self.low:g}, {self.high:g}{hi}"
        return text + (" or None" if self.optional else "")


@dataclass(frozen=True)
class Options(Rule):
    """One of a fixed set of names, or of a registry's names (``names`` may be a callable so that plugins
    registered later are accepted)."""

    names: Iterable[str] | Callable[[], Iterable[str]]
    optional: bool = False

    def choices(self) -> list[str]:
        return list(self.names() if callable(self.names) else self.names)

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.optional
        return isinstance(value, str) and value in self.choices()

    def describe(self) -> str:
        return "one of " + ", ".join(self.choices()) + (" or None" if self.optional else "")


@dataclass(frozen=True)
class Each(Rule):
    """Every item of a sequence satisfies ``rule`` (and, with ``non_empty``, there is at least one)."""

    rule: Rule
    non_empty: bool = False
    distinct: bool = False

    def ok(self, value: Any) -> bool:
        if isinstance(value, str) or not isinstance(value, Iterable):
            return False
        items = list(value)
        if self.non_empty and not items:
            return False
        if self.distinct and len(set(items)) != len(items):
            return False
        return all(self.rule.ok(v) for v in items)

    def describe(self) -> str:
        extra = (" non-empty" if self.non_empty else "") + (" distinct" if self.distinct else "")
        return f"a{extra} list of values, each {self.rule.describe()}"


def check_value(owner: str, name: str, value: Any, rule: Rule) -> None:
    """Raise :class:`ConfigError` ``<owner>.<name> must be <rule>, got <value>`` when ``value`` breaks ``rule``."""
    if not rule.ok(value):
        raise ConfigError(f"{owner}.{name} must be {rule.describe()}, got {value!r}")


def check(obj: Any, rules: Mapping[str, Rule], owner: str | None = None) -> None:
    """Check each named attribute of ``obj`` against its rule (see the module docstring)."""
    owner = owner or type(obj).__name__
    for name, rule in rules.items():
        check_value(owner, name, getattr(obj, name), rule)


def _tuple_like(hint: Any) -> bool:
    import types
    import typing

    origin = typing.get_origin(hint)
    if origin is tuple:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_tuple_like(a) for a in typing.get_args(hint))
    return False


def _dataclass_in(hint: Any) -> type | None:
    import dataclasses
    import types
    import typing

    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for a in typing.get_args(hint):
            found = _dataclass_in(a)
            if found is not None:
                return found
    return None


def _only(hint: Any, nested: type) -> bool:
    """True when ``hint`` admits nothing but the dataclass ``nested`` (and None)."""
    import typing

    return all(a is nested or a is type(None) for a in (typing.get_args(hint) or (hint,)))


def build(cls: type, values: Mapping[str, Any], section: str | None = None) -> Any:
    """Construct the config dataclass ``cls`` from a parsed TOML/JSON table.

    Lists become tuples where the field is a tuple, nested tables become nested config dataclasses, and every
    problem is a one-line :class:`ConfigError` naming the section and key: an unknown key (listing the valid
    ones), a value of the wrong type, or a value the dataclass's own validation refuses.
    """
    import dataclasses
    import typing

    section = section or cls.__name__
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{section}] must be a table of key = value entries, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(
            f"[{section}] has unknown key(s) {', '.join(unknown)}; valid keys are: {', '.join(sorted(names))}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        hint = hints.get(key)
        nested = _dataclass_in(hint)
        if nested is not None and isinstance(value, Mapping):
            value = build(nested, value, f"{section}.{key}")
        elif nested is not None and value is not None and not isinstance(value, nested) and _only(hint, nested):
            raise ConfigError(
                f"[{section}] {key} must be a table ([{section}.{key}]) of key = value entries, got {value!r}; "
                f"valid keys are: {', '.join(sorted(f.name for f in dataclasses.fields(nested) if f.init))}"
            )
        elif isinstance(value, list) and _tuple_like(hint):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{section}] has a value of the wrong type ({exc}); see the documented keys") from None
