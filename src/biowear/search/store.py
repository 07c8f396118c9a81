"""The results store: every evaluation in SQLite the moment it finishes; cached by content key.

An evaluation is keyed by (``train_key``, family, architecture key), where ``train_key`` hashes the prepared
data, the split and the training settings (seed included) and the key is the family's stable
:meth:`~biowear.models.Family.key`; any study or strategy that asks for the same network under the same key
reuses it instead of training again. Studies record which networks each strategy visited, in order.

Schema 2 (this release) stores the family name and the architecture as a dictionary, so any registered family
can be explored; schema-1 stores (ResNet-LSTM only) are refused with a message saying so.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from biowear.errors import BiowearError
from biowear.models import FAMILIES, family_for

FORMAT = "biowear-results-store"
SCHEMA_VERSION = 2
STATUSES: tuple[str, ...] = ("ok", "infeasible", "failed")


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
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            if existed:
                self._check()
            else:
                self._create()
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

    def _create(self) -> None:
        self._db.executescript(
            """
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE evaluations (train_key TEXT NOT NULL, family TEXT NOT NULL, arch_key TEXT NOT NULL,
                                      status TEXT NOT NULL, payload TEXT NOT NULL,
                                      PRIMARY KEY (train_key, family, arch_key));
            CREATE TABLE visits (study TEXT NOT NULL, strategy TEXT NOT NULL, seq INTEGER NOT NULL,
                                 family TEXT NOT NULL, arch TEXT NOT NULL, train_key TEXT NOT NULL,
                                 PRIMARY KEY (study, strategy, seq));
            CREATE TABLE studies (name TEXT PRIMARY KEY, config TEXT NOT NULL);
            """
        )
        self._db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", FORMAT), ("schema", str(SCHEMA_VERSION))])

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
