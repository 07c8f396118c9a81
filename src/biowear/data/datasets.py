"""The dataset protocol and registry: names -> objects that list, load and download records.

A dataset is a :class:`Dataset`: record names, a loader returning :class:`Record` objects, a sampling rate,
a fingerprint for cache keys, and the group (subject) of each record for group splits; or an array-style
:class:`~biowear.data.arrays.WindowDataset` whose windows are already cut (``load_arrays``; its records are
its groups). The built-ins are registered in :data:`DATASETS` (the heart-rate datasets ``ieee_spc2015``,
``ppg_dalia`` and ``wesad_hr`` of :mod:`biowear.data.hr` are window datasets); any WFDB folder
(:class:`biowear.data.folder.WFDBFolderDataset`) and ``.npz`` arrays (:mod:`biowear.data.arrays`) are given as
``DataConfig.sources``.
"""

from __future__ import annotations

import hashlib
import socket
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

from biowear.data.arrays import WindowDataset
from biowear.data.fingerprint import content_fingerprint
from biowear.data.hr.datasets import PPGDaliaDataset, SPC2015Dataset, WESADHRDataset
from biowear.data.record import Record
from biowear.data.source import DataSource
from biowear.data.synthetic import SyntheticECGConfig, generate_record
from biowear.data.wfdb_source import read_wfdb_record
from biowear.errors import ConfigError, DataError
from biowear.paths import DATA_ENV, data_root
from biowear.registry import Registry

MITDB_RECORDS: tuple[str, ...] = (
    "100",
    "101",
    "102",
    "103",
    "104",
    "105",
    "106",
    "107",
    "108",
    "109",
    "111",
    "112",
    "113",
    "114",
    "115",
    "116",
    "117",
    "118",
    "119",
    "121",
    "122",
    "123",
    "124",
    "200",
    "201",
    "202",
    "203",
    "205",
    "207",
    "208",
    "209",
    "210",
    "212",
    "213",
    "214",
    "215",
    "217",
    "219",
    "220",
    "221",
    "222",
    "223",
    "228",
    "230",
    "231",
    "232",
    "233",
    "234",
)
CUDB_RECORDS: tuple[str, ...] = tuple(f"cu{i:02d}" for i in range(1, 36))


class Dataset(DataSource):
    """A named collection of records (the dataset protocol).

    Subclasses implement :meth:`record_ids`, :meth:`load` and :meth:`fingerprint`; they may override
    :meth:`group_of` (the subject of a record, for group splits; default: the record itself),
    :meth:`content_fingerprint` and :meth:`available`.

    Attributes:
        name: registry (or source) name; records are addressed as ``name/record``.
        description: one line for ``biowear data list``.
        fs_hz: native sampling frequency (of the first record when records differ; each record is resampled
            from its own rate).
        beats_classified: False when beat annotations carry no morphology class (then only rhythm and
            episode codes label windows, e.g. ``cudb``).
        synthetic: True for generated data.
        preferred_channels: channel names tried first when one lead is used.
    """

    name: str
    description: str
    fs_hz: float
    beats_classified: bool = True
    synthetic: bool = False
    preferred_channels: tuple[str, ...] = ()

    @abstractmethod
    def record_ids(self) -> tuple[str, ...]:
        """All record names of the dataset."""

    @abstractmethod
    def load(self, record_id: str, root: Path | None = None) -> Record:
        """Load one record (``root``: the data root; default from ``BIOWEAR_DATA``)."""

    def check_records(self, record_ids: tuple[str, ...]) -> None:
        """Raise :class:`ConfigError` naming any unknown record."""
        known = set(self.record_ids())
        unknown = [r for r in record_ids if r not in known]
        if unknown:
            raise ConfigError(
                f"dataset {self.name!r} has no record(s) {', '.join(unknown)}; valid records are: "
                f"{' '.join(self.record_ids())}"
            )


@dataclass
class WFDBDataset(Dataset):
    """A PhysioNet database stored as WFDB files in ``<data root>/<name>/``."""

    name: str
    description: str
    fs_hz: float
    records: tuple[str, ...]
    physionet_db: str
    beats_classified: bool = True
    preferred_channels: tuple[str, ...] = ()
    invalid_samples: str = "mask"

    def directory(self, root: Path | None = None) -> Path:
        return (root or data_root()) / self.name

    def record_ids(self) -> tuple[str, ...]:
        return self.records

    def available(self, root: Path | None = None) -> bool:
        d = self.directory(root)
        return all((d / f"{r}.hea").is_file() and (d / f"{r}.dat").is_file() for r in self.records)

    def load(self, record_id: str, root: Path | None = None) -> Record:
        self.check_records((record_id,))
        d = self.directory(root)
        if not (d / f"{record_id}.hea").is_file():
            raise DataError(
                f"record {record_id!r} of {self.name} is missing: expected {d / record_id}.hea/.dat/.atr. "
                f"Run `biowear data download {self.name}` or point {DATA_ENV} at a folder holding "
                f"{self.name}/"
            )
        return read_wfdb_record(d, record_id, self.name, invalid_samples=self.invalid_samples)

    def content_fingerprint(self, root: Path | None = None) -> str:
        """sha256 of every present .hea/.dat/.atr file (memoised by path, mtime and size)."""
        d = self.directory(root)
        files = [d / f"{r}{ext}" for r in self.records for ext in (".hea", ".dat", ".atr")]
        return content_fingerprint([p for p in files if p.is_file()], salt=self.name)

    def fingerprint(self, root: Path | None = None) -> str:
        """Sizes and headers of the files (kept as the cache key's data identity; contents are checked by
        :meth:`content_fingerprint` when a cache file is read)."""
        d = self.directory(root)
        h = hashlib.sha256(self.name.encode())
        for r in self.records:
            for ext in (".hea", ".dat", ".atr"):
                p = d / f"{r}{ext}"
                h.update(f"{r}{ext}:{p.stat().st_size if p.exists() else -1}".encode())
            hea = d / f"{r}.hea"
            if hea.exists():
                h.update(hea.read_bytes())
        return h.hexdigest()[:16]

    def download(self, root: Path | None = None, timeout_s: float = 10.0) -> Path:
        """Download the database from PhysioNet with ``wfdb.dl_database`` into the data root.

        Raises:
            DataError: PhysioNet cannot be reached (checked first, within ``timeout_s``) or the
                download fails; the message says where to put the files by hand.
        """
        import wfdb

        target = self.directory(root)
        try:
            socket.create_connection(("physionet.org", 443), timeout=timeout_s).close()
        except OSError as exc:
            raise DataError(
                f"cannot reach physionet.org to download {self.name} ({exc}). Download the PhysioNet "
                f"database '{self.physionet_db}' elsewhere and copy its .hea/.dat/.atr files to {target}"
            ) from exc
        target.mkdir(parents=True, exist_ok=True)
        try:
            wfdb.dl_database(self.physionet_db, dl_dir=str(target), records=list(self.records))
        except Exception as exc:
            raise DataError(f"download of {self.name} from PhysioNet failed: {exc}") from exc
        return target


@dataclass
class SyntheticECGDataset(Dataset):
    """Generated multi-class ECG records (see :mod:`biowear.data.synthetic`); always available."""

    name: str = "synthetic_ecg"
    description: str = "SYNTHETIC multi-class ECG (N, A, V, F, paced) generated by biowear; no real patients"
    n_records: int = 16
    seed: int = 0
    config: SyntheticECGConfig = SyntheticECGConfig()
    synthetic: bool = True

    @property
    def fs_hz(self) -> float:  # type: ignore[override]
        return self.config.fs_hz

    def record_ids(self) -> tuple[str, ...]:
        return tuple(f"syn{i:03d}" for i in range(self.n_records))

    def load(self, record_id: str, root: Path | None = None) -> Record:
        self.check_records((record_id,))
        index = self.record_ids().index(record_id)
        return generate_record(record_id, seed=self.seed * 1_000_003 + index, config=self.config)

    def fingerprint(self, root: Path | None = None) -> str:
        text = f"{self.name}:{self.n_records}:{self.seed}:{self.config}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


DATASETS: Registry[Dataset | WindowDataset] = Registry("dataset")
DATASETS.register(
    "mitdb",
    WFDBDataset(
        name="mitdb",
        description="MIT-BIH Arrhythmia Database: 48 two-lead 30-min records, 360 Hz, beat annotations",
        fs_hz=360.0,
        records=MITDB_RECORDS,
        physionet_db="mitdb",
        preferred_channels=("MLII",),
    ),
)
DATASETS.register(
    "cudb",
    WFDBDataset(
        name="cudb",
        description="CU Ventricular Tachyarrhythmia Database: 35 one-lead 8.5-min records, 250 Hz, VF/flutter episodes",
        fs_hz=250.0,
        records=CUDB_RECORDS,
        physionet_db="cudb",
        beats_classified=False,
    ),
)
DATASETS.register("synthetic_ecg", SyntheticECGDataset())
DATASETS.register("ieee_spc2015", SPC2015Dataset())
DATASETS.register("ppg_dalia", PPGDaliaDataset())
DATASETS.register("wesad_hr", WESADHRDataset())


def get_dataset(name: str) -> Dataset | WindowDataset:
    """The registered dataset called ``name`` (error lists the valid names): records, or windows already cut."""
    return DATASETS.get(name)
