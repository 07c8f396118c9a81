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


#: Registered datasets the shared data root cannot hold (no public copy of their files; see its README): skipped
#: even in CI. Their loaders are tested on files the tests write in the real format (tests/data/test_hr_pickles.py).
NOT_IN_SHARED_DATA: dict[str, str] = {
    "ppg_dalia": "the PPG-DaLiA subject pickles SX.pkl (the shared copy holds only S3's raw E4 export)",
    "wesad_hr": "the WESAD subject pickles SX/SX.pkl with the chest ECG (the shared copy holds the E4 CSVs only)",
}


def require_dataset(name: str) -> Path:
    """Skip (or, with BIOWEAR_REQUIRE_REAL_DATA=1 as in CI, fail) when a real dataset is absent; datasets of
    :data:`NOT_IN_SHARED_DATA` are always skipped when absent."""
    ds = get_dataset(name)
    if not ds.available():
        msg = f"real dataset {name!r} not found under BIOWEAR_DATA={os.environ.get('BIOWEAR_DATA', '<unset>')}"
        if name in NOT_IN_SHARED_DATA:
            pytest.skip(f"{msg}; no public copy of {NOT_IN_SHARED_DATA[name]} exists")
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
