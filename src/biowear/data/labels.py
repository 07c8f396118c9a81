"""Label maps: annotation codes -> the user's output classes.

How a code is recognised (see :func:`code_kind`):

* ``[``: a ventricular flutter/fibrillation episode, from ``[`` to the closing ``]``;
* a code starting with ``(`` (``(VT``, ``(AFIB``, ...): a WFDB rhythm label, read from the aux note of
  rhythm-change (``+``) annotations; it labels every sample until the next ``+`` annotation carrying an aux
  note (the MIT-BIH rhythm convention);
* ``aux:TEXT`` (``aux:Relax``, ``aux:Stress``): an episode keyed by the aux note ``TEXT`` on any annotation
  symbol (e.g. ``"`` comments marking protocol stages); it lasts until the next annotation of the same symbol
  carrying a non-empty aux note;
* every other code is a beat symbol, which labels the beat it annotates: the WFDB table (``N``, ``V``, ...)
  or any code a folder uses (``Z``). The WFDB non-beat symbols (``+``, ``~``, ``"``, ...) are refused as
  beat codes; write ``aux:TEXT`` to use their notes. A code that never occurs in the prepared records is
  reported at preparation time, naming the codes that do occur.

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
#: Prefix of codes keyed by an annotation's aux note on any symbol (``aux:Relax``).
AUX_PREFIX = "aux:"
#: The WFDB rhythm-change symbol whose aux notes carry ``(``-rhythm labels.
RHYTHM_SYMBOL = "+"

CODE_KINDS: Registry[str] = Registry("annotation code kind")
CODE_KINDS.register("beat", "a beat symbol (N, V, ... or any code a folder uses): labels the annotated beat")
CODE_KINDS.register("rhythm", "(LABEL: a rhythm label on '+' annotations, until the next '+' with a note")
CODE_KINDS.register("aux", "aux:TEXT: an aux note on any symbol, until the next note on that symbol")
CODE_KINDS.register("vf", "'[': a ventricular flutter/fibrillation episode, until ']'")


def code_kind(code: str) -> str:
    """How ``code`` is read: ``vf`` (``[``), ``rhythm`` (``(...``), ``aux`` (``aux:TEXT``) or ``beat``."""
    if code == VF_EPISODE:
        return "vf"
    if code.startswith("("):
        return "rhythm"
    if code.startswith(AUX_PREFIX):
        return "aux"
    return "beat"


def episode_key(code: str) -> tuple[str | None, str]:
    """(symbol or None for any, aux text) that starts an episode of a rhythm or ``aux:`` code."""
    if code_kind(code) == "rhythm":
        return RHYTHM_SYMBOL, code
    return None, code[len(AUX_PREFIX) :]


def _code_problem(code: str) -> str | None:
    kind = code_kind(code)
    if kind == "beat" and (not code or code in NON_BEAT_SYMBOLS or code != code.strip()):
        return (
            f"{code!r} is not a beat code (WFDB non-beat symbols {' '.join(NON_BEAT_SYMBOLS)} mark events, "
            f"not beats; write aux:TEXT for an episode keyed by an aux note)"
        )
    if kind == "aux" and not code[len(AUX_PREFIX) :].strip():
        return f"{code!r} names no aux note; write aux:TEXT, e.g. aux:Relax"
    return None


@dataclass(frozen=True)
class LabelMap:
    """A validated mapping from annotation codes to output classes.

    Args:
        name: a label for reports ("binary", "custom", ...).
        classes: class names in output-index order.
        codes: for each class, the codes mapped to it (beat symbols, ``(`` rhythm labels, ``aux:TEXT`` or
            ``[``; see the module docstring).
        priority: class names, highest priority first, used when a window holds several classes;
            default: every class except the first, in order, then the first (so any anomaly outranks
            the "normal" class listed first).

    Raises:
        ConfigError: empty or duplicate classes, a malformed code (a non-beat WFDB symbol, an empty
            ``aux:``), a code mapped to two classes, or a priority that is not a permutation of the classes.
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
                problem = _code_problem(code)
                if problem:
                    raise ConfigError(f"label map {self.name!r}: invalid annotation code for class {cls!r}: {problem}")
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
        """Class index of a rhythm label, ``aux:TEXT`` code or ``[``, -1 when it is not mapped."""
        return self._episode_index.get(code, -1)

    def episode_codes(self) -> tuple[str, ...]:
        """The mapped rhythm and ``aux:`` codes (not ``[``), in class order."""
        return tuple(code for code in self._episode_index if code_kind(code) in ("rhythm", "aux"))

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
        return {code: i for i, c in enumerate(self.classes) for code in self.codes[c] if code_kind(code) == "beat"}

    @cached_property
    def _episode_index(self) -> dict[str, int]:
        return {
            code: i for i, c in enumerate(self.classes) for code in sorted(self.codes[c]) if code_kind(code) != "beat"
        }

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
