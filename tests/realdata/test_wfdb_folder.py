"""A folder of MIT-BIH records copied under new names, with ``V`` remapped to a code MIT-BIH does not use."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from biowear.data import DataConfig, WindowConfig, prepare
from tests.conftest import require_dataset

pytestmark = pytest.mark.realdata

#: MIT-BIH record -> new name (records whose first signal is MLII, with normal and ventricular beats).
RENAMED = {"100": "r1", "106": "r2", "119": "r3"}


def copy_remapped(source: Path, target: Path, old: str = "V", new: str = "Z") -> Path:
    """Copy records under new names (signal bytes unchanged) and rewrite their annotations with ``old`` -> ``new``."""
    import pandas as pd
    import wfdb

    target.mkdir(parents=True, exist_ok=True)
    custom = pd.DataFrame({"label_store": [42], "symbol": [new], "description": ["remapped beat"]})
    for record, name in RENAMED.items():
        shutil.copyfile(source / f"{record}.dat", target / f"{name}.dat")
        lines = (source / f"{record}.hea").read_text().splitlines()
        head = lines[0].split()
        lines[0] = " ".join([name, *head[1:]])
        lines[1:] = [line.replace(f"{record}.dat", f"{name}.dat", 1) for line in lines[1:]]
        (target / f"{name}.hea").write_text("\n".join(lines) + "\n")
        ann = wfdb.rdann(str(source / record), "atr")
        wfdb.wrann(
            name,
            "atr",
            ann.sample,
            symbol=[new if s == old else s for s in ann.symbol],
            subtype=ann.subtype,
            chan=ann.chan,
            num=ann.num,
            aux_note=ann.aux_note,
            custom_labels=custom,
            write_dir=str(target),
        )
    return target


def test_folder_with_a_remapped_code_matches_mitdb(tmp_path):
    source = require_dataset("mitdb")
    folder = copy_remapped(source, tmp_path / "renamed")
    window = WindowConfig(kind="beat")
    mine = prepare(DataConfig(sources={"renamed": str(folder)}, labels={"normal": ["N"], "odd": ["Z"]}, window=window))
    assert mine.record_keys == ("renamed/r1", "renamed/r2", "renamed/r3") and mine.fs_hz == 360.0
    assert mine.class_counts["normal"] > 1000 and mine.class_counts["odd"] > 100
    reference = prepare(
        DataConfig(datasets=("mitdb",), records=tuple(RENAMED), labels={"normal": ["N"], "odd": ["V"]}, window=window)
    )
    assert np.array_equal(mine.x, reference.x) and np.array_equal(mine.y, reference.y)


def test_train_cli_on_the_remapped_folder(tmp_path, capsys):
    from tests.conftest import cli_exit_code

    folder = copy_remapped(require_dataset("mitdb"), tmp_path / "renamed")
    classes = tmp_path / "classes.toml"
    classes.write_text('[classes]\nnormal = ["N"]\nodd = ["Z"]\n')
    args = ["train", "--data-dir", str(folder), "--dataset", "renamed", "--classes", str(classes), "--window", "beat",
            "--window-samples", "128", "--fs-hz", "128", "--arch", "blocks=0,x=1,lstm=16", "--epochs", "1",
            "--device", "cpu", "--out", str(tmp_path / "run")]  # fmt: skip
    assert cli_exit_code(args) == 0
    out = capsys.readouterr().out
    assert "from 3 records" in out and "'odd':" in out and "accuracy" in out
    from biowear.train import load_model

    saved = load_model(tmp_path / "run" / "model.pt")
    assert saved.task.classes == ("normal", "odd") and saved.recipe["sources"][0][0] == "renamed"
