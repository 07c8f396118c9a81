"""The recording-dataset protocol: a folder of one format, its records found by name pattern, each loaded as a
:class:`~biowear.data.recordings.model.Recording` (signals at their own rates, labels with their source).

Records are discovered in the folder rather than listed, so a user's folder of the same format, with other
file names or a subset of the records, loads the same way (``dataset.at(path)``, which ``bench --data-dir``
uses). The registered datasets read ``<data root>/<folder>/`` (``BIOWEAR_DATA``).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from biowear.data.fingerprint import content_fingerprint
from biowear.data.recordings.model import DatasetSummary, Recording, SignalSpec
from biowear.data.source import DataSource
from biowear.errors import ConfigError, DataError
from biowear.paths import DATA_ENV, data_root


def _natural(text: str) -> tuple:
    """Sort key putting ``S2`` before ``S10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


@dataclass(frozen=True)
class RecordingDataset(DataSource):
    """A folder of recordings in one format.

    Subclasses implement :meth:`discover` (record id -> its files) and :meth:`read`; they set
    :attr:`signal_specs`, :attr:`label_source`, :attr:`label_names` and :attr:`expected` (the layout, for error
    messages), and may override :meth:`subject_of` (default: the record id).

    Args:
        name: the registry name.
        description: one line for listings.
        folder: the sub-folder of the data root.
        root: the data root (None: ``BIOWEAR_DATA`` at the time of use).
        path: the dataset folder itself (overrides ``root``/``folder``; see :meth:`at`).
    """

    name: str
    description: str
    folder: str
    root: Path | None = None
    path: Path | None = None
    synthetic: bool = False

    #: What each signal is (rate, channels, unit), as declared; ``describe(probe=True)`` also measures it.
    signal_specs: tuple[SignalSpec, ...] = ()
    #: Where the labels come from.
    label_source: str = ""
    #: The label names the dataset uses.
    label_names: tuple[str, ...] = ()
    #: The expected layout, for error messages.
    expected: str = ""
    #: Caveats a user of the data must know (from the folder's README).
    notes: str = ""

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def discover(self, folder: Path) -> dict[str, tuple[Path, ...]]:
        """record id -> the files that make it up, for every record found in ``folder``."""

    @abstractmethod
    def read(self, record_id: str, files: tuple[Path, ...], folder: Path) -> Recording:
        """Load one record from its files."""

    def subject_of(self, record_id: str) -> str:
        """The subject (patient) of a record."""
        return record_id

    # ------------------------------------------------------------------ provided
    @property
    def fs_hz(self) -> float:
        """The first declared signal's rate (0 when it varies by file); see :meth:`describe` for all."""
        return float(next((s.fs_hz for s in self.signal_specs if s.fs_hz), 0.0))

    def directory(self, root: Path | None = None) -> Path:
        """The folder read: :attr:`path`, else ``<root>/<folder>``."""
        if self.path is not None:
            return Path(self.path).expanduser()
        return (root or self.root or data_root()) / self.folder

    def at(self, path: Path | str) -> RecordingDataset:
        """The same dataset read from another folder of the same format (a user's ``--data-dir``)."""
        return replace(self, path=Path(path).expanduser())

    def index(self, root: Path | None = None) -> dict[str, tuple[Path, ...]]:
        """record id -> files, sorted by id.

        Raises:
            DataError: the folder does not exist or holds no record (saying what layout is expected).
        """
        folder = self.directory(root)
        if not folder.is_dir():
            hint = "" if self.path is not None else f" (data root {folder.parent}, set by {DATA_ENV})"
            raise DataError(f"{self.name}: folder {folder} does not exist{hint}; expected {self.expected}")
        found = self.discover(folder)
        if not found:
            held = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
            raise DataError(
                f"{self.name}: no record found in {folder}; expected {self.expected}; the folder holds: "
                f"{', '.join(held[:12]) or 'nothing'}" + (" ..." if len(held) > 12 else "")
            )
        return dict(sorted(found.items(), key=lambda item: _natural(item[0])))

    def record_ids(self) -> tuple[str, ...]:
        return tuple(self.index())

    def group_of(self, record_id: str) -> str:
        return self.subject_of(record_id)

    def subjects(self) -> tuple[str, ...]:
        """The distinct subjects, in record order."""
        return tuple(dict.fromkeys(self.subject_of(r) for r in self.record_ids()))

    def available(self, root: Path | None = None) -> bool:
        try:
            return bool(self.index(root))
        except DataError:
            return False

    def load_recording(self, record_id: str, root: Path | None = None) -> Recording:
        """Load one record.

        Raises:
            ConfigError: an unknown record (listing the valid ones).
            DataError: missing or bad files (one message naming the file and the problem).
        """
        index = self.index(root)
        if record_id not in index:
            raise ConfigError(
                f"dataset {self.name!r} has no record {record_id!r}; valid records are: {' '.join(index)}"
            )
        return self.read(record_id, index[record_id], self.directory(root))

    def recordings(self, record_ids: Sequence[str] | None = None, root: Path | None = None) -> Iterator[Recording]:
        """Load ``record_ids`` (default all) one at a time."""
        for rid in record_ids if record_ids is not None else self.record_ids():
            yield self.load_recording(rid, root)

    def fingerprint(self, root: Path | None = None) -> str:
        """sha256 of every record file, and of every file in a record's folder (memoised by path, mtime, size)."""
        paths = {p for files in self.index(root).values() for p in files}
        files = sorted(
            {f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])}
        )
        return content_fingerprint(files, salt=f"recordings:{self.name}")

    def describe(self, root: Path | None = None, probe: bool = False) -> DatasetSummary:
        """Sampling rates, channels, subjects and label source.

        Args:
            root: the data root.
            probe: also load the first record and report each signal's rate and sample count as read.
        """
        available = self.available(root)
        records = tuple(self.index(root)) if available else ()
        measured: dict[str, tuple[float, int]] = {}
        if probe and records:
            rec = self.load_recording(records[0], root)
            measured = {k: (s.fs_hz, s.n_samples) for k, s in rec.signals.items()}
        return DatasetSummary(
            name=self.name,
            folder=str(self.directory(root)),
            available=available,
            records=records,
            subjects=tuple(dict.fromkeys(self.subject_of(r) for r in records)),
            signals=self.signal_specs,
            label_source=self.label_source,
            labels=self.label_names,
            notes=self.notes,
            measured=measured,
        )

    def check_rate(self, fs_hz: float, expected_hz: float | None, where: str, what: str) -> None:
        """Raise :class:`DataError` when a file's rate differs from the one this dataset expects."""
        if expected_hz is not None and abs(fs_hz - expected_hz) > 1e-6 * expected_hz:
            raise DataError(
                f"{where}: {what} is sampled at {fs_hz:g} Hz but dataset {self.name!r} expects {expected_hz:g} Hz "
                f"(a dataset built with expected_fs_hz=None accepts any rate)"
            )
