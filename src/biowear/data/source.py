"""What every dataset answers, whether it holds records (:class:`~biowear.data.datasets.Dataset`) or windows
that are already cut (:class:`~biowear.data.arrays.WindowDataset`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class DataSource(ABC):
    """The shared part of the two dataset protocols: a fingerprint for cache keys and the defaults of groups and
    availability. Subclasses implement :meth:`record_ids` and :meth:`fingerprint`."""

    @abstractmethod
    def record_ids(self) -> tuple[str, ...]:
        """The records (or, for cut windows, the groups) the dataset holds."""

    @abstractmethod
    def fingerprint(self, root: Path | None = None) -> str:
        """A short hash identifying the data (used in cache keys, and so in training keys)."""

    def content_fingerprint(self, root: Path | None = None) -> str:
        """A hash of the data's bytes, checked when a cache file is read (default: :meth:`fingerprint`)."""
        return self.fingerprint(root)

    def group_of(self, record_id: str) -> str:
        """The group (subject, session) of a record; records of one group stay in one split part."""
        return record_id

    def available(self, root: Path | None = None) -> bool:
        """True when every record can be loaded without a download."""
        return True
