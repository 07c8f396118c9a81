"""Any folder of WFDB records as a dataset: records discovered from ``*.hea`` files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from biowear.data.datasets import Dataset
from biowear.data.fingerprint import content_fingerprint
from biowear.data.record import Record
from biowear.data.wfdb_source import read_wfdb_record
from biowear.errors import DataError


@dataclass(frozen=True)
class WFDBFolderDataset(Dataset):
    """The WFDB records of one folder, at any sampling rate and with any number of channels.

    A record is a ``<name>.hea`` header with its ``<name>.dat`` signal and ``<name>.<annotator>`` annotation
    file; headers lacking either are skipped. Records are sorted by name. Channels are chosen by name with
    ``DataConfig.channels`` (otherwise the first ``n_channels``).

    Args:
        name: the dataset name (records are addressed as ``name/record``).
        path: the folder.
        annotator: annotation file extension (``atr`` for PhysioNet reference annotations).
        invalid_samples: ``mask`` (bridge invalid samples and drop the windows over them) or ``error``.

    Raises:
        DataError: (when used) the folder does not exist or holds no complete record.
    """

    name: str
    path: Path
    annotator: str = "atr"
    invalid_samples: str = "mask"
    beats_classified: bool = True
    synthetic: bool = False
    preferred_channels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).expanduser())

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"WFDB folder {self.path} ({len(self.record_ids())} records, annotator {self.annotator})"

    @cached_property
    def _records(self) -> tuple[str, ...]:
        if not self.path.is_dir():
            raise DataError(f"dataset {self.name!r}: folder {self.path} does not exist")
        found = tuple(
            sorted(
                h.stem
                for h in self.path.glob("*.hea")
                if h.with_suffix(".dat").is_file() and h.with_suffix(f".{self.annotator}").is_file()
            )
        )
        if not found:
            headers = sorted(h.name for h in self.path.glob("*.hea"))
            raise DataError(
                f"dataset {self.name!r}: no complete WFDB record (.hea + .dat + .{self.annotator}) in {self.path}; "
                f"headers found: {', '.join(headers) or 'none'}"
            )
        return found

    @cached_property
    def _fs_hz(self) -> float:
        import wfdb

        first = self.record_ids()[0]
        try:
            return float(wfdb.rdheader(str(self.path / first)).fs)
        except Exception as exc:  # wfdb raises many unrelated types for corrupt headers
            raise DataError(f"dataset {self.name!r}: cannot read header {self.path / first}.hea ({exc})") from exc

    @property
    def fs_hz(self) -> float:  # type: ignore[override]
        return self._fs_hz

    def record_ids(self) -> tuple[str, ...]:
        return self._records

    def available(self, root: Path | None = None) -> bool:
        try:
            return bool(self.record_ids())
        except DataError:
            return False

    def load(self, record_id: str, root: Path | None = None) -> Record:
        self.check_records((record_id,))
        return read_wfdb_record(
            self.path, record_id, self.name, annotator=self.annotator, invalid_samples=self.invalid_samples
        )

    def _files(self) -> list[Path]:
        return [self.path / f"{r}{ext}" for r in self.record_ids() for ext in (".hea", ".dat", f".{self.annotator}")]

    def fingerprint(self, root: Path | None = None) -> str:
        """sha256 of every record file (memoised by path, mtime and size): edited data is never served stale."""
        return content_fingerprint(self._files(), salt=f"wfdb-folder:{self.annotator}")
