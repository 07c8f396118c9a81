"""Where biowear finds data and keeps its caches.

The data root comes from ``BIOWEAR_DATA`` (default: the user data dir); prepared datasets are cached under
``BIOWEAR_CACHE`` (default: the user cache dir).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

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


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file whole or not at all: ``write(fh)`` fills a temporary file beside ``path`` (binary mode),
    which is synced and renamed over ``path``, so a crash or a full disk leaves the old file or none, never a
    half-written one. The parent folder is created; the temporary file is removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
