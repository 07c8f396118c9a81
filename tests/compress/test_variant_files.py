"""Compressed variants as model files: every kind saves, loads back with the measured outputs, and old or
unknown files are handled."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from biowear.api import CompressionResult
from biowear.compress import CompressionConfig
from biowear.compress.int8 import Int8Config, Int8Network, _prepare, quantize_int8
from biowear.compress.structured import structured_prune
from biowear.compress.sweep import sweep
from biowear.compress.variant_file import float_from_qat, qat_with_float, safe_label
from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import parse_spec
from biowear.train import TrainConfig
from biowear.train.artifacts import MODEL_VERSION, build_model, load_model, resize_to_state_dict, save_model

ARCH = "blocks=1,x=1,lstm=16"
TRAIN = TrainConfig(epochs=1, batch_size=64, seed=0)


def _net(arch: str = ARCH, family: str = "resnet_lstm"):
    spec = parse_spec(family, arch)
    return spec, build_model(spec, Task.classification(("N", "A")), (1, 128), seed=3).eval()


def _out(model, x: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.from_numpy(x))


@pytest.fixture(scope="module")
def swept(task, tmp_path_factory):
    """One small sweep over every variant kind (pruned, k-means, structured, int8 PTQ and QAT)."""
    data, split, _ = task
    spec, net = _net()
    base_file = tmp_path_factory.mktemp("base") / "model.pt"
    save_model(base_file, net, spec, data.task, (1, 128), fs_hz=128.0, synthetic=True)
    base = load_model(base_file)
    config = CompressionConfig(
        methods=("layer",), sparsities=(0.6,), bits=(4,), finetune_epochs=1, structured=(0.5,),
        int8=Int8Config(calibration_windows=64), qat_epochs=1, latency_threads=1,
    )  # fmt: skip
    directory = tmp_path_factory.mktemp("sweep")
    points = sweep(base.model, data, split, TRAIN, config, directory=directory)
    return CompressionResult(points, base, data, split, TRAIN, config, directory)


@pytest.mark.parametrize(
    "label, kind",
    [
        ("prune-layer s=0.6", "float"),
        ("prune-layer+kmeans s=0.6 q=4", "float"),
        ("kmeans q=4", "float"),
        ("structured s=0.5", "structured"),
        ("structured+kmeans s=0.5 q=4", "structured"),
        ("int8-ptq", "int8"),
        ("int8-qat", "int8"),
    ],
)
def test_variant_round_trip_gives_the_measured_outputs(swept, task, tmp_path, label, kind):
    data, split, _ = task
    x = data.x[split.test]
    path = swept.save(label, tmp_path / f"{safe_label(label)}.pt")
    loaded = load_model(path)
    assert loaded.kind == kind
    measured = swept.network(label)
    assert torch.equal(_out(loaded.model, x), _out(measured, x))
    point = swept.point(label)
    assert loaded.meta["variant"] == label and loaded.meta["storage_bytes"] == point.storage_bytes
    assert loaded.meta["metrics"]["accuracy"] == pytest.approx(point.metrics.accuracy)
    assert loaded.meta.get("kmeans_bits") == (4 if "kmeans" in label else None)
    # the measured quality is reproduced by the loaded file
    assert np.mean(loaded.predict(x) == data.y[split.test]) == pytest.approx(point.metrics.accuracy, abs=1e-9)
    if kind == "int8":
        assert isinstance(loaded.model, Int8Network) and loaded.float_model is not None
        assert not isinstance(loaded.float_model, Int8Network)
        agree = np.mean(_out(loaded.float_model, x).argmax(1).numpy() == loaded.predict(x))
        assert agree > 0.9  # the float network it came from predicts (nearly) the same
    else:
        assert loaded.float_model is None
    raw = torch.load(path, weights_only=True)  # plain tensors only: no code runs on load
    assert raw["version"] == MODEL_VERSION and json.loads(raw["info"])["kind"] == kind


def test_ptq_float_model_is_the_network_it_was_converted_from(swept, tmp_path):
    loaded = load_model(swept.save("int8-ptq", tmp_path / "q.pt"))
    base = swept.base.model.state_dict()
    assert all(torch.equal(v, base[k]) for k, v in loaded.float_model.state_dict().items())


def test_qat_float_weights_map_back_exactly_before_training():
    spec, net = _net()
    prepared = _prepare(net, (1, 128), Int8Config(), qat=True)
    back = float_from_qat(net, prepared, (1, 128))
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in back.state_dict().items())


def test_qat_with_float_returns_the_fine_tuned_weights(task):
    _, _, arrays = task
    _, net = _net()
    small = tuple(a[:128] for a in arrays)
    qnet, float_net = qat_with_float(net, small, TRAIN, 1, Int8Config())
    changed = [k for k, v in float_net.state_dict().items() if not torch.equal(v, net.state_dict()[k])]
    assert changed  # fine-tuned
    x = arrays[2][:64]
    assert np.mean(_out(float_net, x).argmax(1).numpy() == _out(qnet, x).argmax(1).numpy()) > 0.9


def test_ecg_cnn_structured_and_int8_round_trip(task, tmp_path):
    data, split, arrays = task
    spec, net = _net(None, "ecg_cnn")
    x = data.x[split.test][:64]
    small = copy.deepcopy(net)
    structured_prune(small, (1, 128), 0.5)
    save_model(tmp_path / "s.pt", small, spec, data.task, (1, 128))
    assert torch.equal(_out(load_model(tmp_path / "s.pt").model, x), _out(small, x))
    q = quantize_int8(small, arrays[0], Int8Config(calibration_windows=64))  # int8 of a structured network
    save_model(tmp_path / "q.pt", q, spec, data.task, (1, 128), float_model=small)
    loaded = load_model(tmp_path / "q.pt")
    assert torch.equal(_out(loaded.model, x), _out(q, x))
    shapes = {k: tuple(v.shape) for k, v in small.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in loaded.float_model.state_dict().items()} == shapes
    assert shapes != {k: tuple(v.shape) for k, v in net.state_dict().items()}


def test_resize_to_state_dict_is_generic():
    _, net = _net()
    small = copy.deepcopy(net)
    structured_prune(small, (1, 128), 0.5)
    _, fresh = _net()
    resize_to_state_dict(fresh, small.state_dict())
    fresh.load_state_dict(small.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 1, 128)).astype(np.float32)
    assert torch.equal(_out(fresh.eval(), x), _out(small, x))
    assert sum(p.numel() for p in fresh.parameters()) < sum(p.numel() for p in net.parameters())


def test_int8_model_needs_its_float_network(task, tmp_path):
    _, _, arrays = task
    spec, net = _net()
    q = quantize_int8(net, arrays[0], Int8Config(calibration_windows=32))
    with pytest.raises(ConfigError, match="float network it was converted from"):
        save_model(tmp_path / "q.pt", q, spec, Task.classification(("N", "A")), (1, 128))


def _payload(path):
    return torch.load(path, weights_only=True)


def test_version_2_files_load_as_float(tmp_path):
    spec, net = _net()
    save_model(tmp_path / "new.pt", net, spec, Task.classification(("N", "A")), (1, 128))
    raw = _payload(tmp_path / "new.pt")
    info = json.loads(raw["info"])
    del info["kind"], info["kind_info"]
    old = {"format": raw["format"], "version": 2, "info": json.dumps(info), "state_dict": raw["state_dict"]}
    torch.save(old, tmp_path / "old.pt")
    loaded = load_model(tmp_path / "old.pt")
    assert loaded.kind == "float" and loaded.float_model is None
    x = np.random.default_rng(1).standard_normal((3, 1, 128)).astype(np.float32)
    assert torch.equal(_out(loaded.model, x), _out(net, x))


def test_unknown_kind_is_refused(tmp_path):
    spec, net = _net()
    save_model(tmp_path / "m.pt", net, spec, Task.classification(("N", "A")), (1, 128))
    raw = _payload(tmp_path / "m.pt")
    info = json.loads(raw["info"])
    info["kind"] = "fp4-sparse"
    torch.save({**raw, "info": json.dumps(info)}, tmp_path / "future.pt")
    with pytest.raises(ConfigError, match=r"kind 'fp4-sparse' that this reader does not know; known kinds: float"):
        load_model(tmp_path / "future.pt")


def test_save_refuses_unmeasured_label(swept, tmp_path):
    with pytest.raises(ConfigError, match="valid options are: original"):
        swept.save("prune-layer s=0.99", tmp_path / "x.pt")


def test_safe_label():
    assert safe_label("prune-global+kmeans s=0.9 q=4") == "prune-global+kmeans_s0.9_q4"
    assert safe_label("int8-ptq") == "int8-ptq"


def test_compress_cli_saves_chosen_and_requested_variants(tmp_path):
    from dataclasses import asdict

    from typer.testing import CliRunner

    from biowear.cli import app
    from biowear.data import DataConfig, WindowConfig
    from biowear.train.artifacts import write_json

    cfg = DataConfig(datasets=("synthetic_ecg",), labels="binary", records=("syn000", "syn003"), fs_hz=128.0,
                     window=WindowConfig(kind="beat", window_samples=128))  # fmt: skip
    write_json(tmp_path / "config.json", {"data": asdict(cfg), "split": {}, "train": {"epochs": 1, "seed": 0}})
    spec, net = _net()
    save_model(tmp_path / "model.pt", net, spec, Task.classification(("normal", "anomaly")), (1, 128), fs_hz=128.0,
               recipe=asdict(cfg), synthetic=True)  # fmt: skip
    runner = CliRunner()
    common = ["--config", str(tmp_path / "config.json"), "--methods", "layer", "--sparsity", "0.6", "--bits", "4",
              "--finetune-epochs", "0", "--max-loss-pp", "100"]  # fmt: skip
    out = tmp_path / "c1"
    args = ["compress", str(tmp_path / "model.pt"), *common, "--save", "int8-ptq", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (out / "variants").iterdir())
    assert "int8-ptq.pt" in files and len(files) == 2  # the chosen variant and the requested one
    assert "saved int8-ptq:" in res.output
    assert load_model(out / "variants" / "int8-ptq.pt").kind == "int8"
    chosen = next(out / "variants" / f for f in files if f != "int8-ptq.pt")
    # a saved variant is a valid input of compress (compress it further) ...
    res = runner.invoke(app, ["compress", str(chosen), *common, "--no-int8", "--out", str(tmp_path / "c2")])
    assert res.exit_code == 0, res.output
    # ... but an int8 one is refused with a one-line reason
    res = runner.invoke(
        app, ["compress", str(out / "variants" / "int8-ptq.pt"), *common, "--out", str(tmp_path / "c3")]
    )
    assert res.exit_code != 0 and "is an int8 model" in str(res.exception)
    res = runner.invoke(app, ["compress", str(tmp_path / "model.pt"), *common, "--save", "nope", "--out", str(out)])
    assert res.exit_code != 0 and "--save 'nope' is not a measured variant; valid options are" in str(res.exception)
