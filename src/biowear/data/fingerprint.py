"""Content fingerprints of data files: sha256 of the bytes, memoised by (path, mtime_ns, size).

The memo is a small JSON file next to the prepared-dataset cache (``<cache>/fingerprints.json``); a file whose
modification time or size changed is hashed again, so a cache is never served for edited data. The memo is
written atomically and an unreadable memo is ignored (it is only a speed-up).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path

from biowear.errors import DataError
from biowear.paths import atomic_write, cache_dir

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def _memo_path() -> Path:
    return cache_dir() / "fingerprints.json"


def _read_memo(path: Path) -> dict[str, list]:
    try:
        memo = json.loads(path.read_text())
        return memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_memo(path: Path, memo: dict[str, list]) -> None:
    try:
        atomic_write(path, lambda fh: fh.write(json.dumps(memo, sort_keys=True).encode()))
    except OSError as exc:  # a read-only cache only costs re-hashing
        log.warning("cannot write the fingerprint memo %s (%s)", path, exc)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_digests(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 hex digest of each file, keyed by its resolved path (memoised, see the module docstring).

    Raises:
        DataError: a file does not exist or cannot be read.
    """
    memo_path = _memo_path()
    memo = _read_memo(memo_path)
    out: dict[str, str] = {}
    changed = False
    for p in paths:
        path = Path(p).resolve()
        try:
            st = path.stat()
            key = str(path)
            hit = memo.get(key)
            if isinstance(hit, list) and len(hit) == 3 and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
                out[key] = str(hit[2])
                continue
            digest = _sha256(path)
        except OSError as exc:
            raise DataError(f"cannot read data file {path} to fingerprint it ({exc})") from exc
        memo[key] = [st.st_mtime_ns, st.st_size, digest]
        out[key] = digest
        changed = True
    if changed:
        _write_memo(memo_path, memo)
    return out


def content_fingerprint(paths: Iterable[Path], salt: str = "") -> str:
    """One short hash of the names (not folders) and contents of ``paths``, plus ``salt``; order-independent."""
    digests = file_digests(paths)
    h = hashlib.sha256(salt.encode())
    for path, digest in sorted((Path(p).name, d) for p, d in digests.items()):
        h.update(f"{path}:{digest};".encode())
    return h.hexdigest()[:16]
