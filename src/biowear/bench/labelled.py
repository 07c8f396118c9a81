"""Windows of an application cut from real recordings, with their labels and subjects (the harness's unit)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from biowear.bench.app import Window
from biowear.errors import ConfigError


@dataclass(frozen=True)
class LabelledWindows:
    """Windows cut from real recordings, with their labels and subjects (see the module docstring).

    Raises:
        ConfigError: lengths differ, a label is outside ``classes``, or a window is missing.
    """

    windows: list[Window]
    labels: np.ndarray
    groups: np.ndarray
    classes: tuple[str, ...]
    dataset: str
    label_source: str
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", np.asarray(self.labels, dtype=np.int64))
        object.__setattr__(self, "groups", np.asarray(self.groups).astype(str))
        object.__setattr__(self, "meta", {k: np.asarray(v) for k, v in self.meta.items()})
        n = len(self.windows)
        if n == 0:
            raise ConfigError(f"{self.dataset}: no window was cut from the recordings")
        for what, arr in (("labels", self.labels), ("groups", self.groups), *self.meta.items()):
            if len(arr) != n:
                raise ConfigError(f"{self.dataset}: {n} windows but {len(arr)} {what}")
        if self.labels.min() < 0 or self.labels.max() >= len(self.classes):
            raise ConfigError(f"{self.dataset}: labels must index classes {self.classes}")

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def subjects(self) -> tuple[str, ...]:
        """The distinct groups in window order."""
        return tuple(dict.fromkeys(self.groups.tolist()))

    def subset(self, idx: np.ndarray) -> LabelledWindows:
        """The windows at ``idx`` (an index array), with their labels, groups and meta."""
        idx = np.asarray(idx, dtype=np.int64)
        return LabelledWindows(
            [self.windows[i] for i in idx],
            self.labels[idx],
            self.groups[idx],
            self.classes,
            self.dataset,
            self.label_source,
            {k: v[idx] for k, v in self.meta.items()},
            self.notes,
        )

    def class_counts(self) -> dict[str, int]:
        return {c: int(np.sum(self.labels == i)) for i, c in enumerate(self.classes)}
