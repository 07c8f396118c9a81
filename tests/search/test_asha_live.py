"""ASHA run live: evaluations stored per fidelity, promoted networks continue from their training state and end
exactly where an uninterrupted run of the full budget ends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from biowear.search import Study, study_config_from_dict
from biowear.search.evaluate import STATE_FILE, train_key
from biowear.search.multifidelity import ASHAConfig
from tests.search.conftest import SMALL_STUDY

LIVE = {
    **SMALL_STUDY,
    "study": {"name": "asha-live"},
    "train": {"epochs": 3, "batch_size": 64, "patience": 0, "device": "cpu"},
    "space": {"blocks": [0, 1], "x": [1, 1], "lstm_exp": [4, 5]},
    "asha": {"min_epochs": 1, "eta": 3, "epsilon": 0.0},
}


def test_asha_stores_each_fidelity_and_continues_promoted_networks(tmp_path):
    cfg = study_config_from_dict(LIVE)
    assert cfg.asha == ASHAConfig(min_epochs=1, eta=3, epsilon=0.0)
    study = Study(cfg, tmp_path / "asha")
    result = study.run("asha")
    short = train_key(study.data_key, cfg.split, replace(cfg.train, epochs=1))
    rung1 = study.store.evaluations(short)
    full = study.store.evaluations(study.train_key)
    assert len(rung1) == 4 and all(e.status == "ok" and e.epochs == 1 for e in rung1)
    assert 1 <= len(full) < 4 and all(e.epochs == 3 for e in full)
    assert result.n_trained == 4 and result.epochs_trained == 4 + 2 * len(full)
    assert {p.arch for p in result.points} == {e.arch for e in full}
    for ev in full:  # continued from the 1-epoch state, not retrained
        assert (tmp_path / "asha" / "models" / short / ev.key / STATE_FILE).is_file()

    plain = Study(replace(cfg, name="plain"), tmp_path / "plain")
    plain.run("exhaustive")
    for ev in full:
        again = plain.store.get(plain.train_key, ev.arch)
        assert again.metrics == ev.metrics  # bit-exact: same weights as 3 uninterrupted epochs
    resumed = Study(cfg, tmp_path / "asha").run("asha")  # a rerun reuses every fidelity from the store
    assert resumed.epochs_trained == result.epochs_trained and resumed.front == result.front


def test_a_table_exported_from_a_curves_study_replays_what_training_returned(tmp_path):
    from biowear.errors import ConfigError
    from biowear.search.replay import replay
    from biowear.search.table import TabularBenchmark, table_from_study

    doc = {**LIVE, "study": {"name": "curves", "curves": True}, "train": {**LIVE["train"], "epochs": 2}}
    cfg = study_config_from_dict({**doc, "space": {"blocks": [0, 0], "x": [1, 1], "lstm_exp": [4, 5]}})
    study = Study(cfg, tmp_path / "t")
    result = study.run("exhaustive")
    table = TabularBenchmark.load(table_from_study(study).save(tmp_path / "t.json"))
    assert table.complete and len(table.entries) == 2 and len(table.grid_costs) == len(study.space.points)
    for point in result.points:
        entry = table.entry(study.space.family_obj.key(point.arch))
        assert len(entry.curve) == 2
        # the kept (best validation) epoch's test metrics are exactly what the trained network scored
        assert entry.lookup(2).metrics["accuracy"] == point.evaluation.metrics["accuracy"]
    rep = replay(cfg, table, ["exhaustive"], seeds=1)
    assert rep.exhaustive_hypervolume == result.hypervolume
    plain = Study(replace(cfg, name="plain", curves=False), tmp_path / "p")
    with pytest.raises(ConfigError, match="curves"):
        table_from_study(plain)
