"""Label maps: annotation codes -> the user's output classes.

Three kinds of code can be mapped to a class:

* beat symbols of the WFDB/MIT-BIH table (``N``, ``V``, ``A``, ...), which label the beat they annotate;
* rhythm labels from rhythm-change annotations (``(VT``, ``(AFIB``, ``(VFL``, ...), which label every
  sample until the next rhythm change;
* ``[``, the start of a ventricular flutter/fibrillation episode (closed by ``]``).

Presets: ``binary`` (normal vs anomaly), ``aami5`` (ANSI/AAMI EC57 N/S/V/F/Q) and ``vf`` (binary plus
ventricular flutter/fibrillation episodes, e.g. from ``cudb``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from biowear.errors import ConfigError
from biowear.registry import Registry

#: Beat annotation symbols of the WFDB standard table (the codes that annotate a QRS complex).
BEAT_SYMBOLS: tuple[str, ...] = (
    "N",
    "L",
    "R",
    "B",
    "A",
    "a",
    "J",
    "S",
    "V",
    "r",
    "F",
    "e",
    "j",
    "n",
    "E",
    "/",
    "f",
    "Q",
    "?",
)
#: Non-beat annotation symbols of the WFDB table; they cannot label a window by themselves.
NON_BEAT_SYMBOLS: tuple[str, ...] = (
    "[",
    "!",
    "]",
    "x",
    "(",
    ")",
    "p",
    "t",
    "u",
    "`",
    "'",
    "^",
    "|",
    "~",
    "+",
    "s",
    "T",
    "*",
    "D",
    "=",
    '"',
    "@",
)
#: Rhythm labels used in the aux_note of ``+`` annotations of mitdb and cudb.
RHYTHM_LABELS: tuple[str, ...] = (
    "(AB",
    "(AFIB",
    "(AFL",
    "(B",
    "(BII",
    "(IVR",
    "(N",
    "(NOD",
    "(P",
    "(PREX",
    "(SBR",
    "(SVTA",
    "(T",
    "(VFL",
    "(VT",
    "(AF",
    "(VF",
)
#: The code that stands for a ``[`` ... ``]`` ventricular flutter/fibrillation episode.
VF_EPISODE = "["

_VALID_CODES = frozenset(BEAT_SYMBOLS) | frozenset(RHYTHM_LABELS) | {VF_EPISODE}


@dataclass(frozen=True)
class LabelMap:
    """A validated mapping from annotation codes to output classes.

    Args:
        name: a label for reports ("binary", "custom", ...).
        classes: class names in output-index order.
        codes: for each class, the codes mapped to it (beat symbols, rhythm labels or ``[``).
        priority: class names, highest priority first, used when a window holds several classes;
            default: every class except the first, in order, then the first (so any anomaly outranks
            the "normal" class listed first).

    Raises:
        ConfigError: empty or duplicate classes, an unknown code, a code mapped to two classes, or a
            priority that is not a permutation of the classes.
    """

    name: str
    classes: tuple[str, ...]
    codes: Mapping[str, frozenset[str]]
    priority: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.classes) < 2:
            raise ConfigError(f"label map {self.name!r} needs at least two classes, got {list(self.classes)}")
        if len(set(self.classes)) != len(self.classes):
            raise ConfigError(f"label map {self.name!r} has duplicate class names: {list(self.classes)}")
        if set(self.codes) != set(self.classes):
            raise ConfigError(f"label map {self.name!r}: every class needs a code list, and only those")
        owner: dict[str, str] = {}
        for cls in self.classes:
            if not self.codes[cls]:
                raise ConfigError(f"label map {self.name!r}: class {cls!r} has no annotation codes")
            for code in self.codes[cls]:
                if code not in _VALID_CODES:
                    raise ConfigError(
                        f"label map {self.name!r}: unknown annotation code {code!r} for class {cls!r}; "
                        f"valid beat codes are {' '.join(BEAT_SYMBOLS)}; rhythm labels are "
                        f"{' '.join(RHYTHM_LABELS)}; '[' is a ventricular flutter/fibrillation episode"
                    )
                if code in owner:
                    raise ConfigError(
                        f"label map {self.name!r}: code {code!r} is mapped to both {owner[code]!r} and "
                        f"{cls!r}; each code may belong to one class only"
                    )
                owner[code] = cls
        priority = self.priority or (*self.classes[1:], self.classes[0])
        if sorted(priority) != sorted(self.classes):
            raise ConfigError(f"label map {self.name!r}: priority {list(priority)} must list each class exactly once")
        object.__setattr__(self, "priority", tuple(priority))

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def beat_class(self, symbol: str) -> int:
        """Class index of a beat symbol, -1 when it is not mapped."""
        return self._beat_index.get(symbol, -1)

    def episode_class(self, code: str) -> int:
        """Class index of a rhythm label or ``[``, -1 when it is not mapped."""
        return self._episode_index.get(code, -1)

    @property
    def has_episodes(self) -> bool:
        """True when some class is defined by rhythm/episode codes."""
        return bool(self._episode_index)

    @cached_property
    def rank(self) -> tuple[int, ...]:
        """For each class index, its priority rank (0 = highest)."""
        return tuple(self.priority.index(c) for c in self.classes)

    @cached_property
    def _beat_index(self) -> dict[str, int]:
        return {code: i for i, c in enumerate(self.classes) for code in self.codes[c] if code in BEAT_SYMBOLS}

    @cached_property
    def _episode_index(self) -> dict[str, int]:
        return {code: i for i, c in enumerate(self.classes) for code in self.codes[c] if code not in BEAT_SYMBOLS}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (used in cache keys and saved configs)."""
        return {
            "name": self.name,
            "classes": list(self.classes),
            "codes": {c: sorted(self.codes[c]) for c in self.classes},
            "priority": list(self.priority),
        }


def make_label_map(name: str, mapping: Mapping[str, Sequence[str]], priority: Sequence[str] = ()) -> LabelMap:
    """Build a label map from ``{class: [codes...]}`` (class order = output order)."""
    return LabelMap(
        name=name,
        classes=tuple(mapping),
        codes={c: frozenset(v) for c, v in mapping.items()},
        priority=tuple(priority),
    )


_ANOMALY_BEATS = ("L", "R", "B", "A", "a", "J", "S", "V", "r", "F", "e", "j", "n", "E", "/", "f")

LABEL_MAPS: Registry[LabelMap] = Registry("label map")
LABEL_MAPS.register("binary", make_label_map("binary", {"normal": ["N"], "anomaly": _ANOMALY_BEATS}))
LABEL_MAPS.register(
    "aami5",
    make_label_map(
        "aami5",
        {
            "N": ["N", "L", "R", "B", "e", "j"],
            "S": ["A", "a", "J", "S", "n"],
            "V": ["V", "E", "r"],
            "F": ["F"],
            "Q": ["/", "f", "Q"],
        },
    ),
)
LABEL_MAPS.register(
    "vf",
    make_label_map(
        "vf",
        {"normal": ["N"], "anomaly": _ANOMALY_BEATS, "vf": [VF_EPISODE, "(VF", "(VFL"]},
        priority=("vf", "anomaly", "normal"),
    ),
)


def resolve_label_map(spec: str | LabelMap | Mapping[str, Sequence[str]]) -> LabelMap:
    """A label map from a preset name, an existing map, or a ``{class: [codes]}`` mapping."""
    if isinstance(spec, LabelMap):
        return spec
    if isinstance(spec, str):
        return LABEL_MAPS.get(spec)
    return make_label_map("custom", spec)
