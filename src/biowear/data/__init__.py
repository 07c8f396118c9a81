"""Records, datasets (built-ins, WFDB folders, ``.npz`` arrays, the heart-rate datasets of
:mod:`biowear.data.hr`), tasks, label maps, windowing, splits and prepared (cached) datasets.

Importing the package loads neither ``wfdb`` nor scikit-learn (they are imported where used), so CLI help
texts can read the registries cheaply.
"""

from __future__ import annotations

from biowear.data.array_prepare import from_arrays
from biowear.data.arrays import ArrayData, ArrayDataset, WindowDataset, load_npz, save_npz, validate_arrays
from biowear.data.config import FILTERS, NORMALISATIONS, DataConfig
from biowear.data.datasets import DATASETS, Dataset, get_dataset
from biowear.data.folder import WFDBFolderDataset
from biowear.data.labels import LABEL_MAPS, LabelMap, code_kind, make_label_map, resolve_label_map
from biowear.data.prepare import prepare, select_channels
from biowear.data.prepared import PreparedDataset
from biowear.data.record import Annotations, Record
from biowear.data.splits import DS1, DS2, SPLIT_KINDS, Split, SplitConfig, make_split
from biowear.data.synthetic import SyntheticECGConfig, generate_record
from biowear.data.task import TASK_KINDS, Task
from biowear.data.windows import WINDOW_KINDS, WINDOW_RULES, WindowConfig, WindowKind

__all__ = [
    "Annotations",
    "ArrayData",
    "ArrayDataset",
    "DATASETS",
    "DS1",
    "DS2",
    "DataConfig",
    "Dataset",
    "FILTERS",
    "LABEL_MAPS",
    "LabelMap",
    "NORMALISATIONS",
    "PreparedDataset",
    "Record",
    "SPLIT_KINDS",
    "Split",
    "SplitConfig",
    "SyntheticECGConfig",
    "TASK_KINDS",
    "Task",
    "WFDBFolderDataset",
    "WINDOW_KINDS",
    "WINDOW_RULES",
    "WindowDataset",
    "WindowConfig",
    "WindowKind",
    "code_kind",
    "from_arrays",
    "generate_record",
    "get_dataset",
    "load_npz",
    "make_label_map",
    "make_split",
    "prepare",
    "resolve_label_map",
    "save_npz",
    "select_channels",
    "validate_arrays",
]
