"""Shared fixtures: an isolated cache, seeded synthetic records, and the real-data gate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from biowear.data import SyntheticECGConfig, generate_record
from biowear.data.datasets import get_dataset


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prepared datasets go to a per-session folder, never the user's cache."""
    os.environ["BIOWEAR_CACHE"] = str(tmp_path_factory.mktemp("biowear-cache"))


@pytest.fixture
def short_record():
    """A seeded 60 s single-lead synthetic record at 360 Hz."""
    return generate_record("syn-test", seed=7, config=SyntheticECGConfig(duration_s=60.0))


def require_dataset(name: str) -> Path:
    """Skip (or, with BIOWEAR_REQUIRE_REAL_DATA=1 as in CI, fail) when a real dataset is absent."""
    ds = get_dataset(name)
    if not ds.available():
        msg = f"real dataset {name!r} not found under BIOWEAR_DATA={os.environ.get('BIOWEAR_DATA', '<unset>')}"
        if os.environ.get("BIOWEAR_REQUIRE_REAL_DATA") == "1":
            pytest.fail(msg + " but BIOWEAR_REQUIRE_REAL_DATA=1")
        pytest.skip(msg)
    return ds.directory()  # type: ignore[attr-defined]


def cli_exit_code(args: list[str]) -> int:
    """Run the console entry point (``biowear.cli.main``) with ``args``; its exit status (0 when it returns)."""
    import sys

    from biowear.cli import main

    old = sys.argv
    sys.argv = ["biowear", *args]
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = old
    return 0
