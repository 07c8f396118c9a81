from __future__ import annotations

import json

from typer.testing import CliRunner

from biowear.cli import app
from tests.conftest import cli_exit_code

runner = CliRunner()


def test_bench_prints_tables_and_json(tmp_path):
    out = tmp_path / "bench.json"
    res = runner.invoke(
        app,
        [
            "bench",
            "EmotionClass",
            "SeizureDetCNN",
            "--quick",
            "--fixed-point",
            "--platform",
            "apollo3",
            "--platform",
            "stm32l4r5",
            "--json",
            str(out),
            "--kernels",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "BiomedBench profile" in res.output and "MCU estimates" in res.output
    assert "fixed point vs floating point" in res.output and "SYNTHETIC DATA" in res.output
    assert "knn" in res.output and "conv1d" in res.output
    doc = json.loads(out.read_text())
    assert [(d["app"], d["fixed_point"]) for d in doc] == [
        ("EmotionClass", False),
        ("SeizureDetCNN", False),
        ("SeizureDetCNN", True),
    ]
    assert {p["platform"] for p in doc[0]["platforms"]} == {"apollo3", "stm32l4r5"}
    assert doc[2]["fixed_vs_float"]["decision_agreement"] >= 0.75


def test_bench_unknown_names_are_one_line_errors(capsys):
    for argv, expected in (
        (["bench", "FooApp"], "valid options are: HeartBeatClass"),
        (["bench", "--platform", "esp32"], "valid options are: apollo3"),
    ):
        assert cli_exit_code(argv) == 2
        assert expected in capsys.readouterr().out
