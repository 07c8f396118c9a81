"""The public API: studies over arrays and folders, fronts, compression of a front network, saved variants."""

from __future__ import annotations

import numpy as np
import pytest

import biowear as bw
from biowear.errors import ConfigError
from biowear.train import evaluate


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    arrays = bw.sine_windows(n_windows=300, window_samples=128, seed=3)
    study = bw.create_study(
        "s", arrays, directory=root, family="ecg_cnn", space={"blocks": (1, 2), "filters": (8, 8), "dense": (16, 16)},
        train={"epochs": 2, "batch_size": 32}, objective={"metric": "mae", "mode": "multi"},
    )  # fmt: skip
    result = study.optimize("exhaustive")
    return root, arrays, study, result


def test_study_over_arrays(explored):
    root, arrays, study, result = explored
    assert result.n_trained == 2 and study.synthetic
    front = study.pareto_front()
    assert front and all(np.isfinite(p.value) for p in front)
    assert [p.value for p in front] == sorted(p.value for p in front)  # lowest MAE first
    saved = front[0].load()
    assert saved.task.is_regression and saved.task.unit == "Hz" and saved.recipe is not None
    assert study.best().label in {p.label for p in study.pareto_front(strategy="exhaustive")} | {study.best().label}
    assert (root / "data").is_dir() and len(list((root / "data").glob("arrays-*.npz"))) == 1
    report = study.report()
    assert report.is_file()


def test_compress_a_front_network_and_save_it(explored):
    root, arrays, study, _ = explored
    net = study.pareto_front()[0].load()
    cfg = bw.CompressionConfig(methods=("global",), sparsities=(0.5,), bits=(4,), finetune_epochs=1)
    result = bw.compress_model(net, directory=root / "c", config=cfg)  # data from the model's recipe
    assert result.original.label() == "original" and result.original.loss_unit == "Hz"
    point = next(p for p in result.points if p.label() == "prune-global+kmeans s=0.5 q=4")
    path = result.save(point, root / "small.pt")
    small = bw.load_model(path)
    assert small.meta["variant"] == point.label()
    x_test = result.data.x[result.split.test]
    y_test = result.data.y[result.split.test]
    assert evaluate(small.model, x_test, y_test, small.task).mae == pytest.approx(point.quality, rel=1e-5)
    weights = small.model.state_dict()
    assert any((w == 0).float().mean() > 0.4 for k, w in weights.items() if k.endswith("weight") and w.dim() > 1)
    with pytest.raises(ConfigError, match="no compression variant 'nope'; valid options are: original"):
        result.network("nope")


def test_api_errors(explored, tmp_path):
    root, arrays, study, _ = explored
    with pytest.raises(ConfigError, match="need a directory"):
        bw.data_config({"x": arrays["x"], "y": arrays["y"], "fs_hz": 64.0})
    with pytest.raises(ConfigError, match="does not exist"):
        bw.data_config(str(tmp_path / "missing.npz"))
    with pytest.raises(ConfigError, match="unknown model family"):
        bw.create_study("x", arrays, directory=tmp_path, family="transformer")
    with pytest.raises(ConfigError, match="has no gene 'depth'|unknown gene|valid"):
        bw.create_study("x", arrays, directory=tmp_path, family="ecg_cnn", space={"depth": (1, 2)})
    with pytest.raises(ConfigError, match=r"\[train\] has unknown key\(s\) epoch"):
        bw.create_study("x", arrays, directory=tmp_path, family="ecg_cnn", train={"epoch": 2})
    net = study.pareto_front()[0].load()
    with pytest.raises(ConfigError, match="regression model but the data is a classification task"):
        bw.compress_model(net, "synthetic_ecg")
    with pytest.raises(ConfigError, match="not a biowear model file"):
        (tmp_path / "junk.pt").write_text("x")
        bw.predict(tmp_path / "junk.pt", arrays["x"][:2])


def test_in_memory_arrays_with_other_groups_get_their_own_file(tmp_path):
    """Arrays equal in x and y but grouped differently must not reuse the first file (that would silently
    split by the wrong subjects)."""
    arrays = bw.sine_windows(n_windows=40, window_samples=64, seed=0)
    regrouped = dict(arrays, groups=np.array([f"g{i % 2}" for i in range(40)]))
    a = bw.data_config(arrays, tmp_path).sources[0][1]
    b = bw.data_config(regrouped, tmp_path).sources[0][1]
    assert a != b and bw.data_config(arrays, tmp_path).sources[0][1] == a
