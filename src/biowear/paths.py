"""Where biowear finds data and keeps its caches.

The data root comes from ``BIOWEAR_DATA`` (default: the user data dir); prepared datasets are cached under
``BIOWEAR_CACHE`` (default: the user cache dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

DATA_ENV = "BIOWEAR_DATA"
CACHE_ENV = "BIOWEAR_CACHE"


def data_root() -> Path:
    """The folder holding one sub-folder per dataset (``mitdb/``, ``cudb/``, ...)."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else Path(user_data_dir("biowear")) / "data"


def cache_dir() -> Path:
    """The folder for prepared-dataset caches (created on demand by the writers)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path(user_cache_dir("biowear"))
