"""Bad input to the C export: one-line errors, and a folder of an earlier export rebuilt, never trusted."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from biowear.errors import ConfigError
from biowear.export import build
from biowear.export.c_export import MANIFEST, export_c
from biowear.export.reference import run_int
from tests.export.conftest import needs_cc
from tests.export.nets import NETWORKS, network, windows

pytestmark = needs_cc


def test_bad_calibration_windows_and_folders_are_one_line_errors(tmp_path):
    _, arch, shape = NETWORKS[0]
    net = network(arch, shape)
    x = windows(shape, 8)
    with pytest.raises(ConfigError, match="numeric"):
        export_c(net, shape, tmp_path / "a", [[[0.0] * 64], [[0.0] * 3]])  # ragged
    with pytest.raises(ConfigError, match="one constant value"):
        export_c(net, shape, tmp_path / "b", np.zeros((8, *shape), dtype=np.float32))
    with pytest.raises(ConfigError, match=r"\(n, 1, 64\)"):
        export_c(net, shape, tmp_path / "c", x[:, :, :32])
    bad = x.copy()
    bad[0, 0, 3] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        export_c(net, shape, tmp_path / "d", bad)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigError, match="is a file"):
        export_c(net, shape, tmp_path / "file", x)
    with pytest.raises(ConfigError, match="cannot write the export"):
        export_c(net, shape, tmp_path / "file" / "below", x)


def test_a_folder_holding_another_export_is_rebuilt_even_with_future_file_times(tmp_path):
    (_, a, shape_a), (_, b, shape_b) = NETWORKS[0], NETWORKS[6]
    export_c(network(a, shape_a), shape_a, tmp_path, windows(shape_a, 16))
    future = time.time() + 3600  # a copied folder or a skewed clock: make would think the old build is newer
    for path in [tmp_path / "infer", *(tmp_path / "build").rglob("*")]:
        os.utime(path, (future, future))
    x = windows(shape_b, 24)
    record, q = export_c(network(b, shape_b), shape_b, tmp_path, x[:16], check=x[16:])
    assert record.host_exact and (tmp_path / MANIFEST).is_file()
    assert np.array_equal(build.run_host(tmp_path, x[16:]), run_int(q, x[16:]))
