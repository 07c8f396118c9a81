"""A study's full configuration, from a TOML file and/or keyword overrides."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from biowear.data import DataConfig, SplitConfig
from biowear.errors import ConfigError
from biowear.models import FAMILIES
from biowear.search.multifidelity import ASHAConfig
from biowear.search.objective import Objective
from biowear.search.space import Constraints, resolve_bounds
from biowear.search.strategies import GAConfig
from biowear.train import TrainConfig
from biowear.validate import Interval, Rule, build

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")


def check_study_name(name: object) -> str:
    """``name`` when it is a safe study name (it names files in the study folder).

    Raises:
        ConfigError: anything but 1-128 ASCII letters, digits, ``-``, ``_`` and ``.``, not starting with ``.``.
    """
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ConfigError(
            f"study name {name!r} is not allowed: use 1-128 letters, digits, '-', '_' or '.', not starting "
            "with '.' (it names files inside the study folder)"
        )
    return name


@dataclass(frozen=True)
class StudyConfig:
    """Everything a study needs; saved beside its results.

    Args:
        name: study name inside the store and in file names: letters, digits, ``-``, ``_``, ``.``, not starting
            with ``.`` (:func:`check_study_name`).
        data, split, train: the dataset, split and training recipe shared by every network.
        family: the registered model family explored (``[study] family``).
        bounds: inclusive ``(low, high)`` value bounds per gene of the family (``[space]``); genes not named
            span their full grid. Resolved at construction (every gene present).
        constraints: hardware and quality limits.
        objective: what the search maximises.
        ga: genetic-algorithm settings.
        random_fraction: share of the feasible space the ``random`` strategy trains.
        seed: seed of the strategies.
        asha: settings of the multi-fidelity ``asha`` strategy (``[asha]``).
        curves: record learning curves (``[study] curves = true``): every epoch's validation and test quality and
            training time are stored with each evaluation (what a tabular benchmark needs); they never steer
            training.
    """

    name: str = "study"
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    family: str = "resnet_lstm"
    bounds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    constraints: Constraints = field(default_factory=Constraints)
    objective: Objective = field(default_factory=Objective)
    ga: GAConfig = field(default_factory=GAConfig)
    random_fraction: float = 0.1
    seed: int = 0
    curves: bool = False
    asha: ASHAConfig = field(default_factory=ASHAConfig)

    def __post_init__(self) -> None:
        check_study_name(self.name)
        if not isinstance(self.curves, bool):
            raise ConfigError(f"[study] curves must be true or false, got {self.curves!r}")
        FAMILIES.get(self.family)
        object.__setattr__(self, "bounds", resolve_bounds(self.family, self.bounds))

    def to_dict(self) -> dict[str, Any]:
        """The configuration in the sectioned layout of a study TOML file (round-trips through
        :func:`study_config_from_dict`)."""
        return {
            "study": {"name": self.name, "family": self.family, **({"curves": True} if self.curves else {})},
            "data": asdict(self.data),
            "split": asdict(self.split),
            "train": asdict(self.train),
            "space": {k: list(v) for k, v in self.bounds.items()},
            "constraints": asdict(self.constraints),
            "objective": asdict(self.objective),
            "ga": asdict(self.ga),
            "strategy": {"random_fraction": self.random_fraction, "seed": self.seed},
            # only when set, so the saved configuration of a study from before multi-fidelity search is unchanged
            **({"asha": asdict(self.asha)} if self.asha != ASHAConfig() else {}),
        }


_SECTIONS = {
    "data": DataConfig,
    "split": SplitConfig,
    "train": TrainConfig,
    "constraints": Constraints,
    "objective": Objective,
    "ga": GAConfig,
    "asha": ASHAConfig,
}


def study_config_from_dict(doc: dict[str, Any]) -> StudyConfig:
    """Build a :class:`StudyConfig` from a parsed TOML document (sections as in the class)."""
    top = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    study = doc.get("study", {})
    space = doc.get("space", {})
    strategy = doc.get("strategy", {})
    known = set(_SECTIONS) | {"study", "space", "strategy"}
    unknown = sorted(k for k, v in doc.items() if isinstance(v, dict) and k not in known)
    if unknown or top:
        raise ConfigError(
            f"unknown section(s)/key(s) {', '.join(unknown + sorted(top))}; valid sections are: "
            f"{', '.join(sorted(known))}"
        )
    kwargs: dict[str, Any] = {k: build(cls, doc.get(k, {}), k) for k, cls in _SECTIONS.items()}
    unknown_study = sorted(set(study) - {"name", "family", "curves"})
    if unknown_study:
        raise ConfigError(
            f"[study] has unknown key(s) {', '.join(unknown_study)}; valid keys are: curves, family, name"
        )
    if "curves" in study:
        kwargs["curves"] = study["curves"]
    if "family" in study:
        if not isinstance(study["family"], str):
            raise ConfigError(f"[study] family must be a name, one of {', '.join(FAMILIES.names())}")
        kwargs["family"] = study["family"]
    bad = sorted(k for k, v in space.items() if not isinstance(v, list))
    if bad:
        raise ConfigError(
            f"[space] {bad[0]} needs two integers [low, high], got {space[bad[0]]!r} (e.g. {bad[0]} = [0, 4])"
        )
    kwargs["bounds"] = {k: tuple(v) for k, v in space.items()}
    unknown_strategy = sorted(set(strategy) - {"random_fraction", "seed"})
    if unknown_strategy:
        raise ConfigError(
            f"[strategy] has unknown key(s) {', '.join(unknown_strategy)}; valid keys are: random_fraction, seed"
        )
    if "random_fraction" in strategy:
        rule = Interval(float, 0, 1, closed="right")
        kwargs["random_fraction"] = float(_typed("strategy", "random_fraction", strategy["random_fraction"], rule))
    if "seed" in strategy:
        kwargs["seed"] = int(_typed("strategy", "seed", strategy["seed"], Interval(int, 0, None)))
    if "name" in study:
        if not isinstance(study["name"], str):
            raise ConfigError(f"[study] name must be a string, got {study['name']!r}")
        kwargs["name"] = study["name"]
    return StudyConfig(**kwargs)


def _typed(section: str, key: str, value: Any, rule: Rule) -> Any:
    """``value`` when it satisfies ``rule``; else a one-line :class:`ConfigError` naming ``[section] key``."""
    if not rule.ok(value):
        raise ConfigError(f"[{section}] {key} must be {rule.describe()}, got {value!r}")
    return value


def load_study_config(path: Path) -> StudyConfig:
    """Read a TOML study file.

    Raises:
        ConfigError: missing file, text that is not UTF-8 or not TOML, no (or an empty) ``[data]`` section (an
            empty file would otherwise silently run the default full study), unknown sections/keys or invalid
            values; the message starts with the file's path.
    """
    if not Path(path).is_file():
        raise ConfigError(f"study config {path} does not exist")
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        cfg = study_config_from_dict(doc)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not doc.get("data"):
        raise ConfigError(
            f"{path} has no [data] section; a study names its data explicitly, e.g. [data] datasets = "
            '["mitdb"] records = ["100", "101"] (see examples/*.toml)'
        )
    return cfg
