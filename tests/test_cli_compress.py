from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from biowear.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    res = runner.invoke(
        app,
        [
            "train",
            "--records",
            "syn000,syn003",
            "--arch",
            "blocks=1,x=1,lstm=16",
            "--epochs",
            "2",
            "--fs-hz",
            "128",
            "--window",
            "beat",
            "--window-samples",
            "128",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def _compress(run, *extra: str) -> list[str]:
    """``biowear compress`` arguments for the trained run's model and config, then ``extra``."""
    return ["compress", str(run / "model.pt"), "--config", str(run / "config.json"), *extra]


def _run(args: list[str], out) -> tuple[Any, dict]:
    """Invoke the CLI, check it succeeded, and read the report it wrote to ``out``."""
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res, json.loads((out / "compression.json").read_text())


def test_compress_sweep_writes_front_roc_and_table(trained_run, tmp_path):
    options = "--sparsity 0.6 --bits 3 --finetune-epochs 1 --max-loss-pp 5 --qat-epochs 1 --structured 0.5"
    res_args = _compress(trained_run, *options.split(), "--out", str(tmp_path))
    res, report = _run(res_args, tmp_path)
    labels = [p["variant"] for p in report["points"]]
    assert labels == [
        "original",
        "kmeans q=3",
        "original+finetune",
        "int8-ptq",
        "int8-qat",
        "structured s=0.5",
        "structured+kmeans s=0.5 q=3",
        "prune-layer s=0.6",
        "prune-layer+kmeans s=0.6 q=3",
        "prune-global s=0.6",
        "prune-global+kmeans s=0.6 q=3",
    ]
    by = {p["variant"]: p for p in report["points"]}
    assert by["original"]["compression_x"] == 1.0
    assert 3.0 < by["int8-ptq"]["compression_x"] < 4.0  # int8 weights plus scales, biases and BN in float32
    assert by["prune-layer+kmeans s=0.6 q=3"]["compression_x"] > 6
    assert by["prune-layer s=0.6"]["effective_MMACs"] < 0.5 * by["original"]["effective_MMACs"]
    assert by["structured s=0.5"]["MMACs"] < 0.7 * by["original"]["MMACs"]  # physically smaller network
    assert any(p["pareto"] for p in report["points"])
    assert (tmp_path / "front.png").stat().st_size > 5_000 and (tmp_path / "roc.png").stat().st_size > 5_000
    assert "SYNTHETIC" in res.output
    lines = (tmp_path / "sweep.jsonl").read_text().splitlines()
    kept = len(lines) - 3  # as if killed three points before the end
    (tmp_path / "sweep.jsonl").write_text("\n".join(lines[:kept]) + "\n")
    again = runner.invoke(app, res_args)
    assert again.exit_code == 0, again.output
    assert again.output.count("resumed") == kept - 1 and again.output.count("measured") == 3
    assert json.loads((tmp_path / "compression.json").read_text())["points"][0] == report["points"][0]


def test_compress_bad_input(trained_run, tmp_path):
    base = _compress(trained_run, "--out", str(tmp_path))
    for extra, message in (
        (["--sparsity", "1.2"], "sparsities must be a distinct list of values, each a finite number in (0, 1)"),
        (["--sparsity", "1.0"], "each a finite number in (0, 1)"),
        (["--bits", "9"], "bits must be a distinct list of values, each an integer in [1, 8]"),
        (["--bits", "2.7"], "each an integer in [1, 8]"),
        (["--methods", "random"], "valid options are: layer, global"),
        (["--importance", "fisher"], "valid options are: magnitude, lamp"),
        (["--scope", "block"], "valid options are: layer, global"),
        (["--methods", "layer", "--scope", "layer"], "--methods or --importance/--scope"),
        (["--metric", "auc"], "valid options are: accuracy, macro_f1"),
        (["--schedule", "lottery"], "valid options are: one-shot, iterative, multistage"),
        (["--storage-format", "csc"], "valid options are: dense, bitmask, relative, auto"),
        (["--int8-engine", "tensorrt"], "int8 engine 'tensorrt' is not available"),
        (["--int8-lstm", "static"], "valid options are: dynamic, float"),
        (["--no-int8", "--qat-epochs", "2"], "--qat-epochs needs --int8"),
    ):
        res = runner.invoke(app, base + extra)
        assert res.exit_code != 0 and message in str(res.exception), (extra, res.exception)
    not_a_model = tmp_path / "x.pt"
    not_a_model.write_bytes(b"junk")
    res = runner.invoke(app, ["compress", str(not_a_model), "--config", str(trained_run / "config.json")])
    assert res.exit_code != 0 and "is not a biowear model file" in str(res.exception)


def test_compress_schedules_at_equal_budget(trained_run, tmp_path):
    res = runner.invoke(
        app,
        _compress(
            trained_run,
            "--methods",
            "layer",
            "--sparsity",
            "0.5",
            "--bits",
            "4",
            "--finetune-epochs",
            "2",
            "--schedule",
            "iterative,multistage",
            "--steps",
            "2",
            "--out",
            str(tmp_path),
        ),
    )
    assert res.exit_code == 0, res.output
    labels = [p["variant"] for p in json.loads((tmp_path / "compression.json").read_text())["points"]]
    assert "prune-layer-iterative s=0.5" in labels and "prune-layer-multistage+kmeans s=0.5 q=4" in labels


def test_compress_search_strategy_resumes(trained_run, tmp_path):
    options = "--strategy nsga2 --population 4 --generations 1 --sparsity 0.5 --bits 2,4 --finetune-epochs 0"
    args = _compress(trained_run, *options.split(), "--out", str(tmp_path))
    res, report = _run(args, tmp_path)
    assert report["points"][0]["variant"] == "original" and len(report["points"]) >= 2
    assert (tmp_path / "search.jsonl").exists() and "resumed" not in res.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "resumed" in again.output and "measured kmeans" not in again.output
    for extra, message in (
        (["--strategy", "annealing"], "valid options are"),
        (["--strategy", "nsga2", "--schedule", "one-shot,iterative"], "single --schedule"),
    ):
        res = runner.invoke(app, _compress(trained_run, "--out", str(tmp_path / "x"), *extra))
        assert res.exit_code != 0 and message in str(res.exception), (extra, res.exception)


def test_compress_importance_by_scope_is_the_cross_product(trained_run, tmp_path):
    options = "--importance magnitude,lamp --scope layer,global --sparsity 0.5 --bits 2 --finetune-epochs 0 --no-int8"
    _, report = _run(_compress(trained_run, *options.split(), "--out", str(tmp_path)), tmp_path)
    by = {p["variant"]: p for p in report["points"]}
    for method in ("layer", "global", "lamp-layer", "lamp"):  # magnitude x layer keeps its first name, and so on
        assert f"prune-{method} s=0.5" in by and f"prune-{method}+kmeans s=0.5 q=2" in by
    assert len(by) == 2 + 4 * 2
    same = ("storage_kB", "quality", "effective_MMACs")  # LAMP per layer removes what magnitude per layer removes
    assert [by["prune-lamp-layer s=0.5"][k] for k in same] == [by["prune-layer s=0.5"][k] for k in same]


def test_compress_a_regression_network_on_npz_arrays(tmp_path):
    npz, run, out = tmp_path / "sines.npz", tmp_path / "run", tmp_path / "compress"
    for args in (
        ["data", "sines", str(npz), "--windows", "240", "--window-samples", "128"],
        ["train", "--npz", str(npz), "--family", "ecg_cnn", "--arch", "blocks=2,filters=8,kernel=5,dense=16"]
        + ["--epochs", "2", "--window-samples", "128", "--filter", "none", "--out", str(run)],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
    options = "--methods global --sparsity 0.8 --bits 2 --finetune-epochs 1 --structured 0.5 --max-loss 1"
    res, report = _run(_compress(run, *options.split(), "--out", str(out)), out)
    assert report["metric"] == "mae" and report["loss_unit"] == "Hz" and "loss Hz" in res.output
    labels = [p["variant"] for p in report["points"]]
    assert (
        labels[:4] == ["original", "kmeans q=2", "original+finetune", "int8-ptq"]
        and "prune-global+kmeans s=0.8 q=2" in labels
    )
    assert all("loss" in p and "loss_pp" not in p for p in report["points"])
    losses = {p["variant"]: p["loss"] for p in report["points"]}
    assert min(losses["original"], losses["original+finetune"]) == 0.0  # the better of the two is the reference
    assert not (out / "roc.png").exists()
    search = _compress(run, "--strategy", "exhaustive", "--sparsity", "0.8", "--bits", "2", "--finetune-epochs", "0")
    res, report = _run([*search, "--out", str(tmp_path / "search")], tmp_path / "search")
    assert len(report["points"]) == 1 + 1 + 2 and report["metric"] == "mae"  # original, kmeans, layer and global
    res = runner.invoke(app, [*_compress(run, "--metric", "accuracy"), "--out", str(tmp_path / "x")])
    assert res.exit_code != 0 and "valid options are: mae, rmse" in str(res.exception)
