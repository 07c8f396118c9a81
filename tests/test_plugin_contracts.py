"""biowear.testing's contract checks run on every registered dataset, BiomedBench app and compression producer,
and on the path-given datasets (a WFDB folder, a .npz file); a broken plugin is caught by them."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.bench.apps import APPS
from biowear.compress.producers import PRODUCERS, Produced, Variant
from biowear.data import DATASETS, DataConfig
from biowear.data.sines import sine_windows
from biowear.testing import check_app, check_dataset, check_producer
from tests.conftest import require_dataset
from tests.data.folder_helpers import write_folder


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=() if DATASETS.get(n).synthetic else pytest.mark.realdata) for n in DATASETS.names()]
)
def test_registered_datasets(name):
    dataset = DATASETS.get(name)
    if not dataset.synthetic:
        require_dataset(name)  # skips here, fails in CI when the data root lacks it
    check_dataset(dataset)


def test_path_given_datasets(tmp_path):
    folder = write_folder(tmp_path / "folder")
    np.savez(tmp_path / "sines.npz", **sine_windows(n_windows=40, window_samples=64))
    cfg = DataConfig(sources={"mine": str(folder), "sines": str(tmp_path / "sines.npz")}, datasets=("mine",))
    check_dataset(cfg.dataset("mine"))
    check_dataset(cfg.dataset("sines"))


@pytest.mark.parametrize("name", APPS.names())
def test_registered_apps(name):
    check_app(APPS.get(name))


@pytest.mark.parametrize("name", PRODUCERS.names())
def test_registered_producers(name):
    check_producer(PRODUCERS.get(name))


class _Mutating:
    """A producer that breaks the contract: it changes the network it was given."""

    name, reads, refinable, refines = "mutating", ("bits",), False, False

    def variants(self, config):
        return (Variant("mutating", 0.0, None),)

    def produce(self, base, variant, context):
        for p in base.parameters():
            p.data.mul_(0.5)
        return Produced(base)


class _Repeating(_Mutating):
    def variants(self, config):
        return (Variant("rep", 0.0, None), Variant("rep", 0.0, None))


class _NotADataset:
    name, description, fs_hz = "broken", "a dataset whose fingerprint changes", 100.0

    def __init__(self):
        self.calls = 0

    def record_ids(self):
        return ("a",)

    def fingerprint(self):
        self.calls += 1
        return str(self.calls)

    def group_of(self, record_id):
        return record_id


def test_broken_plugins_are_caught():
    with pytest.raises(AssertionError, match="changed the network it started from"):
        check_producer(_Mutating())
    with pytest.raises(AssertionError, match="repeats a variant label"):
        check_producer(_Repeating())
    with pytest.raises(AssertionError, match="fingerprint"):
        check_dataset(_NotADataset())
