from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from biowear.cli import app

runner = CliRunner()

TOML = """
[study]
name = "cli"
[data]
datasets = ["synthetic_ecg"]
labels = "binary"
records = ["syn000"]
fs_hz = 128.0
window = { kind = "beat", window_samples = 128 }
[train]
epochs = 1
[space]
blocks = [0, 1]
x = [1, 1]
lstm_exp = [4, 4]
[ga]
population = 4
generations = 1
"""


def test_explore_then_report_then_compare(tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_text(TOML)
    out = tmp_path / "study"
    res = runner.invoke(app, ["explore", str(cfg), "--dir", str(out), "--strategy", "exhaustive"])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output and (out / "report-cli" / "report.md").is_file()
    assert (out / "report-cli" / "selections.png").stat().st_size > 10_000
    assert (out / "report-cli" / "fronts.png").stat().st_size > 10_000
    assert (out / "report-cli" / "pareto_models" / "config.json").is_file()
    assert "<img src='fronts.png'" in (out / "report-cli" / "report.html").read_text()
    front = json.loads((out / "report-cli" / "pareto.json").read_text())["front"]
    assert front and all("storage_kB" in row for row in front)
    res = runner.invoke(app, ["report", str(out), "--alpha", "0.2"])
    assert res.exit_code == 0, res.output
    assert (out / "report-cli-alpha0.2" / "report.md").is_file()
    res = runner.invoke(app, ["compare", str(cfg), "--dir", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("exhaustive", "random", "ga-roulette", "ga-tournament", "nsga2", "spea2"):
        assert name in res.output
    assert "trained in" not in res.output.split("exhaustive:")[1]  # the second run only reuses
    res = runner.invoke(app, ["compare", str(cfg), "--dir", str(out), "--alpha", "0.8"])
    assert res.exit_code == 0, res.output
    assert "cli-alpha0.8" in res.output and "trained in" not in res.output  # other weights: all cached


def test_explore_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nepoch = 3\n")
    res = runner.invoke(app, ["explore", str(bad), "--dir", str(tmp_path / "x")])
    assert res.exit_code != 0
    assert "unknown key(s) epoch" in str(res.exception) or "unknown key(s) epoch" in res.output
    res = runner.invoke(app, ["explore", "--strategy", "hillclimb", "--dir", str(tmp_path / "y")])
    assert res.exit_code != 0


def test_demo_explores_and_compresses_end_to_end(tmp_path):
    """The demo shows a real trade-off (a front of several networks, every strategy's figures bannered) and ends
    with the paths of the reports it wrote, not with a cost table at another input length."""
    res = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    report = tmp_path / "report-demo-synthetic"
    assert (report / "report.md").is_file()
    pareto = json.loads((report / "pareto.json").read_text())
    assert len(pareto["front"]) >= 3, pareto["front"]  # bigger networks are genuinely better on this task
    accuracies = [row["accuracy"] for row in pareto["front"]]
    assert accuracies == sorted(accuracies) and accuracies[-1] - accuracies[0] > 0.05
    assert pareto["warnings"] == []  # the networks learned more than the class balance
    assert all(fig["synthetic_banner"] for fig in pareto["figures"])
    reports = list((tmp_path / "compress").glob("*/compression.md"))
    assert len(reports) == 1 and "int8-ptq" in reports[0].read_text()
    compression = reports[0].parent
    expected = [report / "report.html", report / "fronts.png", report / "selections.png"]
    expected += [compression / "compression.html", compression / "front.png", compression / "roc.png"]
    if shutil.which("cc") and shutil.which("make"):  # the chosen variant exported as int8 C, checked
        expected.append(compression / "c" / "model.c")
        assert "C == numpy reference on all" in res.output
        assert json.loads((compression / "c" / "export.json").read_text())["host_exact"] is True
    listed = res.output.rstrip().splitlines()[-len(expected) :]  # the demo's last lines: what it wrote
    assert [line.strip() for line in listed] == [str(p) for p in expected]
    assert all(p.is_file() for p in expected)
    assert "cost per inference" not in res.output and "MFLOPs" not in res.output


def test_npz_regression_explore_three_points_then_compress(tmp_path, monkeypatch):
    """The example study: SYNTHETIC arrays from `biowear data sines`, 3 ecg_cnn networks scored by MAE, two
    strategies on one store, and the front network compressed from the CLI with the loss in Hz."""
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    assert (
        runner.invoke(app, ["data", "sines", "runs/sines.npz", "--windows", "240", "--window-samples", "128"]).exit_code
        == 0
    )
    example = Path(__file__).resolve().parents[1] / "examples" / "sines_regression.toml"
    cfg = tmp_path / "sines.toml"
    cfg.write_text(example.read_text().replace("epochs = 4", "epochs = 2"))
    res = runner.invoke(app, ["explore", str(cfg), "--dir", "runs/sines", "--strategy", "exhaustive"])
    assert res.exit_code == 0, res.output
    assert res.output.count("trained in") == 3 and " mae " in res.output and "SYNTHETIC" in res.output
    again = runner.invoke(app, ["explore", str(cfg), "--dir", "runs/sines", "--strategy", "nsga2"])
    assert again.exit_code == 0, again.output
    assert "trained in" not in again.output and "cached" in again.output  # the second strategy reuses the store
    text = (tmp_path / "runs/sines/report-sines-regression/pareto.json").read_text()
    assert "NaN" not in text and json.loads(text)  # valid JSON
    model = next((tmp_path / "runs/sines/models").glob("*/ecg_cnn-*/model.pt"))
    res = runner.invoke(
        app,
        ["compress", str(model), "--config", "runs/sines/sines-regression.config.json", "--methods", "global",
         "--sparsity", "0.5", "--bits", "4", "--finetune-epochs", "1", "--no-int8", "--out", "runs/c"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "loss Hz" in res.output and "prune-global+kmeans s=0.5 q=4" in res.output
