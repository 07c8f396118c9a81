"""The settings of a compression run, shared by the grid sweep and the compression search.

One frozen :class:`CompressionConfig` says what to measure (the quality metric), how to prune (methods,
schedules, sparsities, fine-tuning budget), how to quantise (k-means bits, int8) and how to store (the
:class:`StorageFormat`). Its :meth:`CompressionConfig.to_dict` is part of a resumable run's content key, so a
run folder is never mixed with one of other settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from biowear.compress.importance import method_names, prune_method
from biowear.compress.int8 import Int8Config
from biowear.compress.prune import SCHEDULES
from biowear.compress.quantize import StorageFormat
from biowear.compress.rules import BITS, EPOCHS, SPARSITY, STEPS
from biowear.errors import ConfigError
from biowear.validate import Each, Interval, check

_TUPLES = ("methods", "schedules", "sparsities", "bits", "structured")


@dataclass(frozen=True)
class CompressionConfig:
    """What a compression sweep or search does.

    Args:
        metric: the quality metric (``accuracy``, ``macro_f1``, ``f1:<class>``, ... or, for regression, ``mae``,
            ``rmse``, ``pearson_r``, ``within_5``); None: the task's default (accuracy, or MAE).
        methods: pruning methods, each a name of :data:`~biowear.compress.importance.PRUNE_METHODS` (``layer``,
            ``global``, ``lamp``) or ``<importance>-<scope>`` (``lamp-layer``); see :func:`with_axes`.
        schedules: pruning schedules (``one-shot``, ``iterative``, ``multistage``); the search uses one.
        steps: stages of the iterative and multistage schedules.
        sparsities: unstructured pruning targets, each in (0, 1).
        bits: k-means bits, integers 1..8 (2**q shared values per layer).
        finetune_epochs: total fine-tuning epochs of every pruning schedule and structured pruning.
        storage: how weights are laid out in flash.
        int8: int8 settings; None measures no int8 variant.
        qat_epochs: epochs of int8 quantisation-aware training (0: post-training only; needs ``int8``).
        structured: channel ratios of structured pruning, each in (0, 1).
        seed: seed of the compression search's strategy (k-means and fine-tuning use the training seed).
        producers: names of the registered producers to run (None: every registered producer, in
            registration order; see :data:`biowear.compress.producers.PRODUCERS`).
        latency_threads: torch threads while timing latency (1: stable figures on a shared machine).

    Raises:
        ConfigError: an unknown method or schedule, a number outside its interval (NaN, non-integer bits such
            as 2.7 and sparsity 1.0 included), or ``qat_epochs`` without ``int8``.
    """

    metric: str | None = None
    methods: tuple[str, ...] = ("layer", "global", "lamp")
    schedules: tuple[str, ...] = ("one-shot",)
    steps: int = 3
    sparsities: tuple[float, ...] = (0.5, 0.7, 0.9)
    bits: tuple[int, ...] = (2, 4, 8)
    finetune_epochs: int = 2
    storage: StorageFormat = StorageFormat()
    int8: Int8Config | None = None
    qat_epochs: int = 0
    structured: tuple[float, ...] = ()
    seed: int = 0
    producers: tuple[str, ...] | None = None
    latency_threads: int = 1

    RULES = {
        "latency_threads": Interval(int, 1, None),
        "sparsities": Each(SPARSITY, distinct=True),
        "bits": Each(BITS, distinct=True),
        "structured": Each(SPARSITY, distinct=True),
        "steps": STEPS,
        "finetune_epochs": EPOCHS,
        "qat_epochs": EPOCHS,
        "seed": Interval(int, 0, None),
    }

    def __post_init__(self) -> None:
        for name in _TUPLES:
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise ConfigError(f"CompressionConfig.{name} must be a list, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        if self.producers is not None:
            object.__setattr__(self, "producers", tuple(self.producers))
        if self.metric is not None and not isinstance(self.metric, str):
            raise ConfigError(f"CompressionConfig.metric must be a metric name or None, got {self.metric!r}")
        check(self, self.RULES)
        object.__setattr__(self, "bits", tuple(int(b) for b in self.bits))
        for method in self.methods:
            prune_method(method)
        for schedule in self.schedules:
            SCHEDULES.get(schedule)
        if not isinstance(self.storage, StorageFormat):
            raise ConfigError(f"CompressionConfig.storage must be a StorageFormat, got {self.storage!r}")
        if self.int8 is not None and not isinstance(self.int8, Int8Config):
            raise ConfigError(f"CompressionConfig.int8 must be an Int8Config or None, got {self.int8!r}")
        if self.qat_epochs and self.int8 is None:
            raise ConfigError("CompressionConfig.qat_epochs needs int8 settings (int8=Int8Config())")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (the part of a run's content key that is not the network or the data)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in (*_TUPLES, "producers"):
            out[name] = None if out[name] is None else list(out[name])
        out["storage"] = asdict(self.storage)
        out["int8"] = None if self.int8 is None else asdict(self.int8)
        return out

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> CompressionConfig:
        """Inverse of :meth:`to_dict`.

        Raises:
            ConfigError: an unknown key (the message lists the valid ones) or an invalid value.
        """
        valid = [f.name for f in fields(CompressionConfig)]
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ConfigError(
                f"unknown compression setting(s) {', '.join(unknown)}; valid options are: {', '.join(valid)}"
            )
        kw = dict(d)
        if kw.get("storage") is not None:
            kw["storage"] = StorageFormat(**kw["storage"])
        if kw.get("int8") is not None:
            kw["int8"] = Int8Config(**kw["int8"])
        return CompressionConfig(**kw)


def with_axes(importances: Sequence[str], scopes: Sequence[str]) -> tuple[str, ...]:
    """The pruning methods of the cross product importance x scope, by name: ``with_axes(("magnitude", "lamp"),
    ("layer", "global"))`` is ``("layer", "global", "lamp-layer", "lamp")``."""
    return method_names(tuple(importances), tuple(scopes))
