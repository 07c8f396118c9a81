"""Records, datasets, label maps, windowing, splits and prepared (cached) datasets."""

from __future__ import annotations

from biowear.data.datasets import DATASETS, Dataset, get_dataset
from biowear.data.labels import LABEL_MAPS, LabelMap, make_label_map, resolve_label_map
from biowear.data.prepare import DataConfig, PreparedDataset, prepare
from biowear.data.record import Annotations, Record
from biowear.data.splits import DS1, DS2, Split, SplitConfig, make_split
from biowear.data.synthetic import SyntheticECGConfig, generate_record
from biowear.data.windows import WindowConfig

__all__ = [
    "DATASETS",
    "DS1",
    "DS2",
    "LABEL_MAPS",
    "Annotations",
    "DataConfig",
    "Dataset",
    "LabelMap",
    "PreparedDataset",
    "Record",
    "Split",
    "SplitConfig",
    "SyntheticECGConfig",
    "WindowConfig",
    "generate_record",
    "get_dataset",
    "make_label_map",
    "make_split",
    "prepare",
    "resolve_label_map",
]
