"""The results store: every evaluation in SQLite the moment it finishes; cached by content key.

An evaluation is keyed by (``train_key``, family, architecture key), where ``train_key`` hashes the prepared
data, the split and the training settings (seed included) and the key is the family's stable
:meth:`~biowear.models.Family.key`; any study or strategy that asks for the same network under the same key
reuses it instead of training again. Studies record which networks each strategy visited, in order.

Schema 2 (this release) stores the family name and the architecture as a dictionary, so any registered family
can be explored; schema-1 stores (ResNet-LSTM only) are refused with a message saying so.

Many writers: the schema is created inside one ``BEGIN IMMEDIATE`` transaction (two processes creating a new
store at once both succeed), writers wait for each other up to :data:`BUSY_TIMEOUT_S`, and the ``claims`` table
(additive: schema-2 stores gain it when first opened for writing) holds one lease per evaluation so that no
network is trained twice (see :mod:`biowear.search.claims`). WAL journaling needs every writer on one host
(shared memory); ``BIOWEAR_STORE_JOURNAL=delete`` selects the rollback journal for a store on a network disk
shared by several hosts (see docs/distributed.md).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from biowear.errors import BiowearError
from biowear.models import FAMILIES, family_for

FORMAT = "biowear-results-store"
SCHEMA_VERSION = 2
STATUSES: tuple[str, ...] = ("ok", "infeasible", "failed")
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write lock
JOURNAL_ENV = "BIOWEAR_STORE_JOURNAL"
JOURNAL_MODES: tuple[str, ...] = ("wal", "delete", "truncate", "persist")
CLAIMS_TABLE = """CREATE TABLE IF NOT EXISTS claims (train_key TEXT NOT NULL, family TEXT NOT NULL,
    arch_key TEXT NOT NULL, owner TEXT NOT NULL, expires_at REAL NOT NULL, attempts INTEGER NOT NULL,
    PRIMARY KEY (train_key, family, arch_key))"""
SCHEMA: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS evaluations (train_key TEXT NOT NULL, family TEXT NOT NULL, arch_key TEXT NOT NULL,
    status TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (train_key, family, arch_key))""",
    """CREATE TABLE IF NOT EXISTS visits (study TEXT NOT NULL, strategy TEXT NOT NULL, seq INTEGER NOT NULL,
    family TEXT NOT NULL, arch TEXT NOT NULL, train_key TEXT NOT NULL, PRIMARY KEY (study, strategy, seq))""",
    "CREATE TABLE IF NOT EXISTS studies (name TEXT PRIMARY KEY, config TEXT NOT NULL)",
    CLAIMS_TABLE,
)


class StoreError(BiowearError):
    """The store file is corrupt, foreign, or of another schema version."""


@dataclass(frozen=True)
class Evaluation:
    """One network evaluated (or skipped) under one training key.

    Attributes:
        arch: the architecture (any registered family's; :attr:`family` names it).
        train_key: hash of data, split and training settings.
        status: ``ok`` (trained), ``infeasible`` (violated a hardware limit; not trained) or ``failed``.
        metrics: test metrics (:meth:`Metrics.to_dict`), empty unless ``ok``.
        cost: params, storage_bytes, flops, macs, peak_ram_bytes (fp32).
        train_time_s, epochs: training effort.
        seed: training seed.
        data_key: the prepared dataset's fingerprint.
        reason: why it is infeasible/failed.
        model_path: saved weights, relative to the store's folder.
        created_at: UNIX time.
        curve: learning curve when the study records one: per epoch ``epoch``, ``train_loss``, ``val_loss``,
            ``val_accuracy`` (classification) or ``val_mae`` (regression), ``seconds`` (training time of the
            epoch) and ``test`` (test metrics of that epoch's weights).
    """

    arch: Any
    train_key: str
    status: str
    metrics: dict = field(default_factory=dict)
    cost: dict = field(default_factory=dict)
    train_time_s: float = 0.0
    epochs: int = 0
    seed: int = 0
    data_key: str = ""
    reason: str = ""
    model_path: str = ""
    created_at: float = field(default_factory=time.time)
    curve: tuple[dict, ...] = ()

    @property
    def family(self) -> str:
        """Name of the architecture's model family."""
        return family_for(self.arch).name

    @property
    def key(self) -> str:
        """The family's stable key of the architecture (model folder name, store row)."""
        return family_for(self.arch).key(self.arch)

    @property
    def genes(self) -> Any:
        """The architecture (name of earlier releases)."""
        return self.arch

    def to_json(self) -> str:
        d = {k: v for k, v in asdict(self).items() if k != "arch"}
        d.update(family=self.family, arch=arch_to_dict(self.arch), key=self.key)
        return json.dumps(d)

    @staticmethod
    def from_json(text: str) -> Evaluation:
        d = json.loads(text)
        arch = arch_from_dict(d.pop("family"), d.pop("arch"))
        d.pop("key", None)
        d["curve"] = tuple(d.get("curve", ()))
        return Evaluation(arch, **d)


def arch_to_dict(arch: Any) -> dict[str, Any]:
    return family_for(arch).to_dict(arch)


def arch_from_dict(family: str, d: dict[str, Any]) -> Any:
    return FAMILIES.get(family).from_dict(d)


def _row_key(arch: Any) -> tuple[str, str]:
    family = family_for(arch)
    return family.name, family.key(arch)


class Store:
    """A SQLite results store at ``path`` (created when missing).

    With ``read_only`` (``biowear report``) the file is opened through SQLite's ``mode=ro`` and never written:
    a missing or empty file is refused instead of given a schema, and a finished store in a read-only folder
    can still be read.

    Raises:
        StoreError: the file exists but is not a biowear store of this schema (corrupt or foreign), is empty or
            missing (read-only), or cannot be read or written for lack of permission.
    """

    def __init__(self, path: Path, read_only: bool = False):
        self.path, self.read_only = Path(path), read_only
        if read_only:
            self._db = self._open_read_only()
            return
        self._check_writable()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self._set_journal_mode()
            self._create()
            self._check()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable biowear results store ({exc}); "
                "move it away or choose another study folder"
            ) from exc

    def _check_writable(self) -> None:
        folder = next((p for p in (self.path.parent, *self.path.parent.parents) if p.exists()), None)
        targets = [t for t in (self.path if self.path.exists() else None, folder) if t is not None]
        target = next((t for t in targets if not os.access(t, os.W_OK)), None)
        if target is not None:  # SQLite writes beside the file (-wal, -shm): both must be writable
            raise StoreError(
                f"cannot write to {target}: permission denied (read-only); `biowear report` can still read a "
                "finished study there, or choose another --dir"
            )

    def _open_read_only(self) -> sqlite3.Connection:
        """A ``mode=ro`` connection after checking the file: present, readable, not empty, a biowear store."""
        if not self.path.is_file():
            raise StoreError(f"{self.path} does not exist; run `biowear explore` into that folder first")
        if not os.access(self.path, os.R_OK):
            raise StoreError(f"cannot read {self.path}: permission denied")
        if self.path.stat().st_size == 0:
            raise StoreError(f"{self.path} is empty, not a biowear results store")
        uri = self.path.absolute().as_uri() + "?mode=ro"
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                db.close()
                if wal.exists() and wal.stat().st_size > 0:
                    raise
                # a cleanly closed WAL store in a read-only folder: SQLite cannot make its -shm file there;
                # with no -wal content the main file is the whole store, read as immutable
                db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
            self._db = db
            self._check()
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"cannot read {self.path} ({exc}); check the permissions of the file and its folder"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable biowear results store ({exc}): the file is corrupt or not SQLite"
            ) from exc
        return db

    def _set_journal_mode(self) -> None:
        """WAL (one host: readers never wait for the writer) unless ``BIOWEAR_STORE_JOURNAL`` names another mode
        (``delete`` for a store on a network disk shared by several hosts); retried while another process holds
        the lock, which SQLite's busy handler does not cover for this pragma."""
        mode = os.environ.get(JOURNAL_ENV, "wal").strip().lower() or "wal"
        if mode not in JOURNAL_MODES:
            raise StoreError(
                f"{JOURNAL_ENV}={mode!r} is not a journal mode; valid options are {', '.join(JOURNAL_MODES)}"
            )
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute(f"PRAGMA journal_mode={mode}")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02 + random.random() * 0.05)

    def _create(self) -> None:
        """Create the schema in one write transaction, so concurrent creators of a new store both succeed (each
        sees no table or every table); a store of this schema only gains the additive tables it lacks (claims);
        anything else is left untouched for :meth:`_check` to refuse."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                for statement in SCHEMA:
                    db.execute(statement)
                db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("schema", str(SCHEMA_VERSION))])
            elif "meta" in tables and self._meta() == {"format": FORMAT, "schema": str(SCHEMA_VERSION)}:
                db.execute(CLAIMS_TABLE)  # additive: a schema-2 store written by an earlier release gains it
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _meta(self) -> dict[str, str]:
        rows = self._db.execute("SELECT key, value FROM meta WHERE key IN ('format', 'schema')").fetchall()
        return {str(k): str(v) for k, v in rows}

    def _check(self) -> None:
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a biowear results store (no meta table: {exc})") from exc
        if meta.get("format") != FORMAT:
            raise StoreError(f"{self.path} is a SQLite file but not a biowear results store")
        if meta.get("schema") != str(SCHEMA_VERSION):
            hint = (
                " (schema 1 predates model-family plugins: keep it with the biowear that wrote it, or explore again "
                "in a new --dir)"
                if meta.get("schema") == "1"
                else ""
            )
            raise StoreError(
                f"{self.path} has store schema {meta.get('schema')}, this biowear reads {SCHEMA_VERSION}{hint}"
            )

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------ evaluations
    def get(self, train_key: str, arch: Any) -> Evaluation | None:
        row = self._db.execute(
            "SELECT payload FROM evaluations WHERE train_key=? AND family=? AND arch_key=?",
            (train_key, *_row_key(arch)),
        ).fetchone()
        return Evaluation.from_json(row[0]) if row else None

    def put(self, evaluation: Evaluation) -> None:
        """Write one evaluation durably (autocommit)."""
        if evaluation.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        self._db.execute(
            "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?)",
            (evaluation.train_key, *_row_key(evaluation.arch), evaluation.status, evaluation.to_json()),
        )

    def evaluations(self, train_key: str, family: str | None = None) -> list[Evaluation]:
        """Every evaluation under ``train_key`` (of one family when given)."""
        if family is None:
            rows = self._db.execute("SELECT payload FROM evaluations WHERE train_key=?", (train_key,)).fetchall()
        else:
            rows = self._db.execute(
                "SELECT payload FROM evaluations WHERE train_key=? AND family=?", (train_key, family)
            ).fetchall()
        return [Evaluation.from_json(r[0]) for r in rows]

    # ------------------------------------------------------------ studies and visits
    def save_study(self, name: str, config: dict) -> None:
        row = self._db.execute("SELECT config FROM studies WHERE name=?", (name,)).fetchone()
        text = json.dumps(config, sort_keys=True, default=str)
        if row and row[0] != text:
            old = json.loads(row[0])
            changed = sorted(k for k in set(old) | set(config) if old.get(k) != json.loads(text).get(k))
            raise StoreError(
                f"study {name!r} already exists in {self.path} with a different configuration "
                f"(sections {', '.join(changed)} differ); use a new study name"
            )
        self._db.execute("INSERT OR IGNORE INTO studies VALUES (?, ?)", (name, text))

    def study_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM studies ORDER BY name")]

    def study_config(self, name: str) -> dict:
        row = self._db.execute("SELECT config FROM studies WHERE name=?", (name,)).fetchone()
        if not row:
            names = [r[0] for r in self._db.execute("SELECT name FROM studies")]
            raise StoreError(f"no study {name!r} in {self.path}; it holds: {', '.join(names) or 'none'}")
        return json.loads(row[0])

    def record_visit(self, study: str, strategy: str, seq: int, arch: Any, train_key: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO visits VALUES (?, ?, ?, ?, ?, ?)",
            (study, strategy, seq, family_for(arch).name, json.dumps(arch_to_dict(arch), sort_keys=True), train_key),
        )

    def visits(self, study: str, strategy: str) -> list[Any]:
        rows = self._db.execute(
            "SELECT family, arch FROM visits WHERE study=? AND strategy=? ORDER BY seq", (study, strategy)
        ).fetchall()
        return [arch_from_dict(family, json.loads(arch)) for family, arch in rows]

    def visit_keys(self, study: str, strategy: str) -> list[tuple[Any, str]]:
        """(architecture, training key) of each visit in order; the key tells a multi-fidelity budget apart."""
        rows = self._db.execute(
            "SELECT family, arch, train_key FROM visits WHERE study=? AND strategy=? ORDER BY seq", (study, strategy)
        ).fetchall()
        return [(arch_from_dict(family, json.loads(arch)), key) for family, arch, key in rows]

    def strategies(self, study: str) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT strategy FROM visits WHERE study=? ORDER BY strategy", (study,))
        return [r[0] for r in rows]

    # ------------------------------------------------------------ claims (leases) on evaluations
    def claim(
        self,
        train_key: str,
        arch: Any,
        owner: str,
        lease_s: float,
        finished: Callable[[Evaluation], bool] | None = None,
    ) -> bool:
        """Atomically take the lease on training ``arch`` under ``train_key`` for ``lease_s`` seconds.

        Succeeds when nobody holds it, the holder's lease expired (a dead worker: its attempt is counted), or
        ``owner`` already holds it; never while a finished evaluation exists (``finished``, default: status
        ``ok`` or ``infeasible``; failures are retried).
        """
        finished = finished or _finished
        family, arch_key = _row_key(arch)
        with self._write():
            row = self._db.execute(
                "SELECT payload FROM evaluations WHERE train_key=? AND family=? AND arch_key=?",
                (train_key, family, arch_key),
            ).fetchone()
            if row and finished(Evaluation.from_json(row[0])):
                return False
            held = self._db.execute(
                "SELECT owner, expires_at, attempts FROM claims WHERE train_key=? AND family=? AND arch_key=?",
                (train_key, family, arch_key),
            ).fetchone()
            now = time.time()
            if held and held[0] != owner and held[1] > now:
                return False
            attempts = (held[2] if held else 0) + (0 if held and held[0] == owner else 1)
            self._db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                (train_key, family, arch_key, owner, now + lease_s, attempts),
            )
            return True

    def renew(self, train_key: str, arch: Any, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s lease to ``lease_s`` seconds from now; False when it is no longer ours."""
        with self._write():
            cur = self._db.execute(
                "UPDATE claims SET expires_at=? WHERE train_key=? AND family=? AND arch_key=? AND owner=?",
                (time.time() + lease_s, train_key, *_row_key(arch), owner),
            )
            return cur.rowcount == 1

    def release(self, train_key: str, arch: Any, owner: str, evaluation: Evaluation | None = None) -> None:
        """Drop ``owner``'s lease, writing ``evaluation`` in the same transaction when given."""
        with self._write():
            if evaluation is not None:
                self.put(evaluation)
            self._db.execute(
                "DELETE FROM claims WHERE train_key=? AND family=? AND arch_key=? AND owner=?",
                (train_key, *_row_key(arch), owner),
            )

    def claim_of(self, train_key: str, arch: Any) -> Claim | None:
        """The current lease on ``arch`` (expired or not), or None."""
        row = self._db.execute(
            "SELECT owner, expires_at, attempts FROM claims WHERE train_key=? AND family=? AND arch_key=?",
            (train_key, *_row_key(arch)),
        ).fetchone()
        return Claim(*row) if row else None

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction (waits up to the busy timeout for other writers)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


@dataclass(frozen=True)
class Claim:
    """A lease on one evaluation: who holds it, until when (UNIX time, s) and how many owners took it."""

    owner: str
    expires_at: float
    attempts: int


def _finished(evaluation: Evaluation) -> bool:
    return evaluation.status in ("ok", "infeasible")
