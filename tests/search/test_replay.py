"""Tabular benchmarks and the replay harness, against a hand-made table (no training)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from biowear.cli import app
from biowear.errors import ConfigError
from biowear.search import study_config_from_dict
from biowear.search.evaluate import cost_dict
from biowear.search.multifidelity import ASHAConfig
from biowear.search.replay import check_recipe, replay
from biowear.search.space import ArchitectureSpace
from biowear.search.table import TableEntry, TabularBenchmark

RECIPE = {
    "study": {"name": "hand"},
    "data": {"datasets": ["synthetic_ecg"], "labels": "binary", "records": ["syn000"], "fs_hz": 128.0,
             "window": {"kind": "beat", "window_samples": 64}},
    "train": {"epochs": 3, "patience": 0},
    "space": {"blocks": [0, 1], "x": [1, 1], "lstm_exp": [4, 6]},
}  # fmt: skip
TOML = """
[study]
name = "hand"
[data]
datasets = ["synthetic_ecg"]
labels = "binary"
records = ["syn000"]
fs_hz = 128.0
window = { kind = "beat", window_samples = 64 }
[train]
epochs = 3
patience = 0
[space]
blocks = [0, 1]
x = [1, 1]
lstm_exp = [4, 6]
"""


def _metrics(q: float) -> dict:
    return {"classes": ["normal", "anomaly"], "accuracy": q, "macro_f1": q, "f1": [q, q], "precision": [q, q],
            "recall": [q, q]}  # fmt: skip


def _curve(final: float, dip: bool = False) -> tuple[dict, ...]:
    """Three epochs rising to ``final``; with ``dip`` the last epoch's validation loss rises (epoch 2 is kept)."""
    qs = (final - 0.2, final - 0.05, final)
    losses = (0.6, 0.4, 0.5 if dip else 0.3)
    return tuple(
        {"epoch": i + 1, "train_loss": 0.5, "val_loss": loss, "val_accuracy": q, "seconds": 2.0 + i,
         "test": _metrics(q)}
        for i, (q, loss) in enumerate(zip(qs, losses))
    )  # fmt: skip


def make_table(drop: int = 0) -> TabularBenchmark:
    cfg = study_config_from_dict(RECIPE)
    space = ArchitectureSpace(cfg.family, cfg.bounds, (1, 64), 2, cfg.constraints)
    fam = space.family_obj
    entries = {}
    for i, arch in enumerate(space.feasible_points[drop:]):
        final = 0.7 + 0.04 * (arch.blocks * 3 + arch.lstm_exp - 4)
        entries[fam.key(arch)] = TableEntry(arch, "ok", cost_dict(space.cost(arch)), _curve(final, dip=i == 0))
    grid = {fam.key(a): cost_dict(space.cost(a)) for a in space.points}
    return TabularBenchmark("hand", cfg.to_dict(), (1, 64), 2, ("normal", "anomaly"), entries, 6, {}, grid)


def test_lookup_keeps_the_best_validation_epoch_and_stops_early():
    entry = TableEntry(None, "ok", {}, _curve(0.9, dip=True))
    full = entry.lookup(3)
    assert full.best_epoch == 2 and full.epochs == 3 and full.seconds == 2 + 3 + 4
    assert full.metrics["accuracy"] == pytest.approx(0.85)
    early = entry.lookup(3, patience=1)  # epoch 3 is stale: the run stops there, keeping epoch 2
    assert early.epochs == 3 and early.best_epoch == 2
    assert entry.lookup(1).metrics["accuracy"] == pytest.approx(0.7)
    with pytest.raises(ConfigError, match="holds 3 epochs"):
        entry.lookup(4)


def test_save_load_roundtrip_and_damaged_files(tmp_path):
    table = make_table()
    path = table.save(tmp_path / "t.json")
    back = TabularBenchmark.load(path)
    assert back.entries.keys() == table.entries.keys() and back.complete
    assert back.entries[next(iter(back.entries))].curve == table.entries[next(iter(table.entries))].curve
    path.write_text(path.read_text()[:200])
    with pytest.raises(ConfigError, match="not a readable JSON table"):
        TabularBenchmark.load(path)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ConfigError, match="not a biowear tabular benchmark"):
        TabularBenchmark.load(path)


def test_exhaustive_and_random_replay_costs():
    cfg = study_config_from_dict(RECIPE)
    res = replay(replace(cfg, random_fraction=0.5), make_table(), ["exhaustive", "random"], seeds=3)
    ex, rnd = res.summaries
    assert res.exhaustive_epochs == 6 * 3 and res.exhaustive_seconds == 6 * 9
    assert ex.hv_ratio == (1.0,) * 5 and ex.cost_ratio == (1.0,) * 5
    assert all(r.epochs == 9 and r.n_trained == 3 for r in res.runs if r.strategy == "random")
    assert all(0 < r.hv_ratio <= 1 + 1e-12 for r in res.runs)


def test_asha_pays_only_the_extra_epochs_of_a_promotion():
    cfg = replace(study_config_from_dict(RECIPE), asha=ASHAConfig(min_epochs=1, eta=3, epsilon=0.0))
    res = replay(cfg, make_table(), ["asha"], seeds=4)
    for run in res.runs:
        promoted = run.n_full  # rungs 1 and 3: every network once at 1 epoch, promoted ones 2 more
        assert run.n_trained == 6 and promoted >= 2
        assert run.epochs == 6 + 2 * promoted
        assert run.seconds == pytest.approx(6 * 2.0 + promoted * (3.0 + 4.0))
        assert run.hv_ratio <= 1 + 1e-12


def test_mismatched_study_and_partial_table():
    cfg = study_config_from_dict(RECIPE)
    other = study_config_from_dict({**RECIPE, "data": {**RECIPE["data"], "records": ["syn001"]}})
    with pytest.raises(ConfigError, match="data differ"):
        check_recipe(other, make_table())
    with pytest.raises(ConfigError, match="exceeds the table"):
        check_recipe(replace(cfg, train=replace(cfg.train, epochs=4)), make_table())
    partial = make_table(drop=2)
    assert not partial.complete
    res = replay(cfg, partial, ["exhaustive"], seeds=1)
    assert res.networks == 4 and res.exhaustive_epochs == 4 * 3


def test_cli_compare_table_writes_plot_and_report(tmp_path):
    config = tmp_path / "hand.toml"
    config.write_text(TOML)
    table = make_table().save(tmp_path / "hand.json")
    res = CliRunner().invoke(
        app, ["compare", str(config), "--table", str(table), "--seeds", "2", "--dir", str(tmp_path / "out"),
              "--strategies", "exhaustive,random,nsga2,asha"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output + repr(res.exception)
    out = tmp_path / "out" / "replay-hand"
    assert {"replay.png", "replay_seconds.png", "replay.md", "replay.json"} <= {p.name for p in out.iterdir()}
    doc = json.loads((out / "replay.json").read_text())
    assert [s["strategy"] for s in doc["summaries"]] == ["exhaustive", "random", "nsga2", "asha"]
    bad = CliRunner().invoke(app, ["compare", str(config), "--table", str(tmp_path / "missing.json")])
    assert isinstance(bad.exception, ConfigError) and "does not exist" in str(bad.exception)  # main() exits 2


def test_hypervolume_bound_stops_asha_with_its_guarantee():
    cfg = study_config_from_dict({**RECIPE, "objective": {"mode": "multi"}})
    loose = replay(replace(cfg, asha=ASHAConfig(tolerance=0.2)), make_table(), ["asha", "exhaustive"], seeds=2)
    tight = replay(replace(cfg, asha=ASHAConfig(tolerance=None)), make_table(), ["asha"], seeds=2)
    for run in loose.runs:
        assert run.hv_ratio >= 1 / 1.2 - 1e-9  # the guarantee: HV >= HV_exhaustive / (1 + tolerance)
    assert max(r.epochs for r in loose.runs if r.strategy == "asha") < min(r.epochs for r in tight.runs)


def test_improvement_bound_is_the_area_above_the_front():
    from biowear.search.multifidelity import ASHA

    cfg = study_config_from_dict(RECIPE)
    space = ArchitectureSpace(cfg.family, cfg.bounds, (1, 64), 2, cfg.constraints)
    asha = ASHA(space, 2, 0, ASHAConfig(min_epochs=1, eta=3), max_epochs=3)
    cheapest, second = asha._all[:2]
    c1, c2 = asha._cost[cheapest], asha._cost[second]
    asha.results[-1][cheapest] = (0.9, 1 - c1)  # one network at the full budget
    bound, hv = asha.improvement_bound()
    assert hv == pytest.approx(0.9 * (1 - c1))
    # the untrained networks start at c2: above the front the gap is 1 - 0.9 from c2 to 1
    assert bound == pytest.approx((1 - c2) * 0.1)
