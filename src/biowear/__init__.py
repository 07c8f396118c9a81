"""biowear: hardware-aware bio-signal deep learning for wearables."""

from __future__ import annotations

from biowear.errors import BiowearError, ConfigError, DataError

__version__ = "0.1.0"
__all__ = ["BiowearError", "ConfigError", "DataError", "__version__"]
