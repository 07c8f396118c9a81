"""biowear: hardware-aware bio-signal deep learning for wearables.

The public API (see the README's example) is loaded lazily, so ``import biowear`` and the command line start
fast and ``import biowear.data`` loads nothing from the layers above it:

* explore: :func:`create_study` -> :class:`~biowear.api.ExplorationStudy` (``optimize``, ``pareto_front``);
* compress: :func:`compress_model` -> :class:`~biowear.api.CompressionResult` (``best``, ``save``);
* models: :func:`load_model`, :func:`save_model`, :func:`predict`, :class:`Network` (fit/predict);
* data: :func:`load_data`, :func:`data_config`, :func:`sine_windows` (SYNTHETIC arrays);
* configuration objects and the plugin registries (:data:`DATASETS`, :data:`FAMILIES`, :data:`STRATEGIES`,
  :data:`PRODUCERS`, :data:`LABEL_MAPS`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from biowear.errors import BiowearError, ConfigError, DataError

__version__ = "0.2.0"

_LAZY: dict[str, str] = {
    "create_study": "biowear.api",
    "compress_model": "biowear.api",
    "load_data": "biowear.api",
    "data_config": "biowear.api",
    "predict": "biowear.api",
    "export_model": "biowear.api",
    "ExplorationStudy": "biowear.api",
    "ParetoNetwork": "biowear.api",
    "CompressionResult": "biowear.api",
    "load_model": "biowear.api",  # the API module imports biowear.compress, which registers the int8 kind
    "save_model": "biowear.train",
    "build_model": "biowear.train",
    "SavedModel": "biowear.train",
    "TrainConfig": "biowear.train",
    "Network": "biowear.estimator",
    "DataConfig": "biowear.data",
    "SplitConfig": "biowear.data",
    "WindowConfig": "biowear.data",
    "DATASETS": "biowear.data",
    "LABEL_MAPS": "biowear.data",
    "Task": "biowear.data.task",
    "sine_windows": "biowear.data.sines",
    "FAMILIES": "biowear.models",
    "Constraints": "biowear.search",
    "Objective": "biowear.search",
    "GAConfig": "biowear.search",
    "STRATEGIES": "biowear.search",
    "CompressionConfig": "biowear.compress.config",
    "PRODUCERS": "biowear.compress.producers",
}

__all__ = ["BiowearError", "ConfigError", "DataError", "__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'biowear' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
