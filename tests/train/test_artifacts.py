"""model.pt records task, family, architecture, input shape and data recipe; mismatches are refused."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import EcgCnnSpec, ResNetLSTMGenes
from biowear.train import build_model, check_matches, load_model, save_model
from biowear.train.artifacts import read_json, write_json


def _data(classes=("normal", "anomaly"), shape=(1, 128), fs=128.0, synthetic=True, task=None):
    return SimpleNamespace(
        task=task or Task.classification(classes),
        classes=classes,
        x=np.zeros((2, *shape), np.float32),
        fs_hz=fs,
        synthetic=synthetic,
    )


def test_classifier_round_trip(tmp_path):
    task = Task.classification(("normal", "anomaly"))
    model = build_model(ResNetLSTMGenes(1, 1, 4), task, (1, 128), seed=3)
    path = save_model(
        tmp_path / "m" / "model.pt",
        model,
        ResNetLSTMGenes(1, 1, 4),
        task,
        (1, 128),
        fs_hz=128.0,
        recipe={"datasets": ["synthetic_ecg"]},
        synthetic=True,
    )
    saved = load_model(path)
    assert saved.family == "resnet_lstm" and saved.arch == ResNetLSTMGenes(1, 1, 4) and saved.task == task
    assert saved.input_shape == (1, 128) and saved.recipe == {"datasets": ["synthetic_ecg"]}
    x = np.random.default_rng(0).standard_normal((4, 1, 128)).astype(np.float32)
    model.eval()
    with torch.no_grad():
        expected = model(torch.as_tensor(x)).argmax(1).numpy()
    assert (saved.predict(x) == expected).all()
    assert saved.predict_proba(x).shape == (4, 2)
    assert not list(tmp_path.glob("m/.*tmp"))  # atomic write leaves no temporary file


def test_regression_round_trip_keeps_target_scale(tmp_path):
    task = Task.regression("heart_rate", "BPM")
    arch = EcgCnnSpec(blocks=1, filters=4, kernel=3, dense=8)
    model = build_model(arch, task, (2, 64), seed=0, target=(80.0, 12.0))
    save_model(tmp_path / "r.pt", model, arch, task, (2, 64), fs_hz=32.0)
    saved = load_model(tmp_path / "r.pt")
    assert saved.task.is_regression and saved.target_scale == (80.0, 12.0)
    x = np.zeros((3, 2, 64), np.float32)
    model.eval()
    with torch.no_grad():
        assert np.allclose(saved.predict(x), model(torch.as_tensor(x))[:, 0].numpy())
    with pytest.raises(ConfigError, match="regression model"):
        saved.predict_proba(x)
    with pytest.raises(ConfigError, match=r"shape \(n, 2, 64\)"):
        saved.predict(np.zeros((3, 1, 64), np.float32))


@pytest.mark.parametrize(
    "data, match",
    [
        (_data(classes=("anomaly", "normal")), "trained for classes \\['normal', 'anomaly'\\]"),
        (_data(shape=(1, 256)), "1 channel\\(s\\) x 128 samples but the data has 1 x 256"),
        (_data(fs=360.0), "trained at 128 Hz but the data is at 360 Hz"),
        (_data(synthetic=False), "trained on SYNTHETIC data but the configuration prepares real data"),
        (_data(task=Task.regression()), "classification model but the data is a regression task"),
        (_data(classes=("a", "b", "c", "d", "e")), "trained for classes"),
    ],
)
def test_mismatched_data_is_refused(tmp_path, data, match):
    task = Task.classification(("normal", "anomaly"))
    model = build_model(ResNetLSTMGenes(0, 1, 4), task, (1, 128), seed=0)
    save_model(tmp_path / "model.pt", model, ResNetLSTMGenes(0, 1, 4), task, (1, 128), fs_hz=128.0, synthetic=True)
    saved = load_model(tmp_path / "model.pt")
    check_matches(saved, _data())
    with pytest.raises(ConfigError, match=match):
        check_matches(saved, data)


def test_bad_model_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="is not a biowear model file"):
        load_model(tmp_path / "junk.pt")
    task = Task.classification(("a", "b"))
    model = build_model(ResNetLSTMGenes(0, 1, 4), task, (1, 64), seed=0)
    with torch.no_grad():
        model.fc.weight[0, 0] = float("nan")
    save_model(tmp_path / "nan.pt", model, ResNetLSTMGenes(0, 1, 4), task, (1, 64))
    with pytest.raises(ConfigError, match="non-finite"):
        load_model(tmp_path / "nan.pt")


def test_version_1_files_still_load(tmp_path):
    model = build_model(ResNetLSTMGenes(0, 1, 4), Task.classification(("a", "b")), (1, 64), seed=0)
    torch.save(
        {
            "spec": {"family": "resnet_lstm", "blocks": 0, "x": 1, "lstm_exp": 4},
            "in_channels": 1,
            "n_classes": 2,
            "classes": ["a", "b"],
            "input_length": 64,
            "state_dict": model.state_dict(),
        },
        tmp_path / "old.pt",
    )
    saved = load_model(tmp_path / "old.pt")
    assert saved.task.classes == ("a", "b") and saved.synthetic is None


def test_json_artifacts(tmp_path):
    write_json(tmp_path / "c.json", {"a": 1})
    assert read_json(tmp_path / "c.json") == {"a": 1}
    write_json(tmp_path / "n.json", {"r": float("nan"), "v": [1.0, float("inf")]})
    assert read_json(tmp_path / "n.json") == {"r": None, "v": [1.0, None]}
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ConfigError, match="not readable JSON"):
        read_json(tmp_path / "bad.json", "config")


def test_same_model_same_bytes_whatever_the_file_name(tmp_path):
    task = Task.classification(("a", "b"))
    model = build_model(ResNetLSTMGenes(0, 1, 4), task, (1, 64), seed=0)
    literal = {"kind": "beat", "rule": "priority", "classes": ["a", "b"]}
    parsed = json.loads('{"kind": "beat", "rule": "priority", "classes": ["a", "b"]}')  # equal, other str objects
    arch = ResNetLSTMGenes(0, 1, 4)
    a = save_model(tmp_path / "one" / "model.pt", model, arch, task, (1, 64), recipe=literal, meta={"x": "beat"})
    b = save_model(tmp_path / "two" / "other.pt", model, arch, task, (1, 64), recipe=parsed, meta={"x": "beat"})
    assert a.read_bytes() == b.read_bytes()


def test_cold_and_warm_cache_runs_write_identical_model_files(tmp_path, monkeypatch):
    """The same seeded run gives the same model.pt bytes whether its data was prepared now or read from the
    cache (the metadata strings then come from different places)."""
    from biowear.data import DataConfig, SplitConfig, WindowConfig, make_split, prepare
    from biowear.train import TrainConfig, train_network

    monkeypatch.setenv("BIOWEAR_CACHE", str(tmp_path / "cache"))
    cfg = DataConfig(datasets=("synthetic_ecg",), records=("syn000",), fs_hz=128.0, window=WindowConfig("beat", 128))
    paths = []
    for run in ("cold", "warm"):
        data = prepare(cfg)
        split = make_split(data, SplitConfig(seed=0))
        train_network(data, split, ResNetLSTMGenes(0, 1, 4), TrainConfig(epochs=1, device="cpu"),
                      out_dir=tmp_path / run, recipe=cfg.to_dict())  # fmt: skip
        paths.append(tmp_path / run / "model.pt")
    assert paths[0].read_bytes() == paths[1].read_bytes()
