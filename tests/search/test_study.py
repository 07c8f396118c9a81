from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from biowear.search import ALL_STRATEGIES, Constraints, Store, StoreError, Study
from biowear.search.executor import LocalExecutor
from biowear.search.pareto import hypervolume, pareto_mask
from tests.search.conftest import FakeTrainer


def test_every_strategy_runs_and_shares_the_cache(tmp_path, study_config):
    study = Study(study_config, tmp_path)
    trainer = FakeTrainer(study.space)
    results = {name: study.run(name, LocalExecutor(trainer)) for name in ALL_STRATEGIES}
    # exhaustive trained everything once; no other strategy retrained anything
    assert sorted(trainer.calls) == sorted({g.canonical() for g in study.space.feasible_points})
    assert len(trainer.calls) == len(set(trainer.calls))
    for r in results.values():
        assert r.front and r.hypervolume > 0
        assert r.hypervolume <= results["exhaustive"].hypervolume + 1e-12
        assert r.exploration_time_s == sum(p.evaluation.train_time_s for p in r.points)
    assert results["random"].n_trained < results["exhaustive"].n_trained


def test_infeasible_networks_are_recorded_not_trained_nor_returned(tmp_path, study_config):
    cfg = replace(study_config, constraints=Constraints(max_storage_bytes=300_000))
    study = Study(cfg, tmp_path)
    trainer = FakeTrainer(study.space)
    result = study.run("exhaustive", LocalExecutor(trainer))
    assert all(study.space.violation(g) is None for g in trainer.calls)
    assert all(p.evaluation.cost["storage_bytes"] <= 300_000 for p in result.points)
    # a GA may propose infeasible networks through crossover: they are stored as such, untrained
    study.run("ga-roulette", LocalExecutor(trainer))
    infeasible = [e for e in study.store.evaluations(study.train_key) if e.status == "infeasible"]
    assert all(study.space.violation(e.genes) for e in infeasible)
    assert not set(e.genes for e in infeasible) & set(trainer.calls)


def test_min_quality_excludes_results(tmp_path, study_config):
    cfg = replace(study_config, constraints=Constraints(min_quality=0.85))
    study = Study(cfg, tmp_path)
    result = study.run("exhaustive", LocalExecutor(FakeTrainer(study.space)))
    assert result.points and all(p.quality >= 0.85 for p in result.points)
    assert len(result.points) < len(study.space.feasible_points)


def test_resume_after_a_kill_loses_only_the_network_in_flight(tmp_path, study_config):
    study = Study(study_config, tmp_path)
    killed = FakeTrainer(study.space, fail_after=5)
    with pytest.raises(KeyboardInterrupt):
        study.run("exhaustive", LocalExecutor(killed))
    study.close()
    resumed_study = Study(study_config, tmp_path)  # a new process would do exactly this
    resumed = FakeTrainer(resumed_study.space)
    result = resumed_study.run("exhaustive", LocalExecutor(resumed))
    assert len(killed.calls) == 5
    assert not set(killed.calls) & set(resumed.calls)
    assert len(resumed.calls) == len({g.canonical() for g in study.space.feasible_points}) - 5
    fresh = Study(replace(study_config, name="fresh"), tmp_path / "fresh")
    reference = fresh.run("exhaustive", LocalExecutor(FakeTrainer(fresh.space)))
    assert [p.genes for p in result.front] == [p.genes for p in reference.front]


def test_same_seed_same_study_results(tmp_path, study_config):
    fronts = []
    for i in range(2):
        study = Study(study_config, tmp_path / str(i))
        fronts.append([p.genes for p in study.run("nsga2", LocalExecutor(FakeTrainer(study.space))).front])
    assert fronts[0] == fronts[1]


def test_corrupt_and_foreign_stores_are_refused(tmp_path):
    bad = tmp_path / "garbage.sqlite"
    bad.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StoreError, match="not a readable biowear results store"):
        Store(bad)
    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('format', 'optuna')")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a biowear results store"):
        Store(foreign)


def test_same_name_other_config_is_refused(tmp_path, study_config):
    Study(study_config, tmp_path).close()
    with pytest.raises(StoreError, match="different configuration"):
        Study(replace(study_config, bounds={"blocks": (0, 3)}), tmp_path)


def test_pareto_and_hypervolume_by_hand():
    q, c = [0.9, 0.8, 0.95, 0.7, 0.9], [10, 5, 20, 8, 12]
    assert pareto_mask(q, c).tolist() == [True, True, True, False, False]
    # normalised costs 0.25 and 0.5, reference (quality 0, cost 1): quality 0.8 over [0.25, 0.5), 0.9 over [0.5, 1]
    assert hypervolume([0.8, 0.9], [5, 10], 20) == pytest.approx(0.8 * 0.25 + 0.9 * 0.5)
    assert hypervolume([0.95], [20], 20) == 0.0  # at the reference cost nothing is dominated


def test_process_pool_trains_for_real(tmp_path, study_config):
    """Two networks trained on a 2-process pool (real training on synthetic data) land in the store, and both
    workers report every epoch of their network to the driver."""
    from biowear.search.executor import ProcessPoolExecutor

    cfg = replace(study_config, bounds={**study_config.bounds, "blocks": (0, 0), "lstm_exp": (4, 5)}, name="pool")
    cfg = replace(cfg, curves=True, train=replace(cfg.train, epochs=2))
    study = Study(cfg, tmp_path)
    messages = []
    pool = ProcessPoolExecutor(workers=2, progress=messages.append)
    try:
        result = study.run("exhaustive", pool)
    finally:
        pool.close()
    assert result.n_trained == 2
    assert all(p.evaluation.status == "ok" and 0 < p.quality <= 1 for p in result.points)
    assert all((tmp_path / "models" / p.evaluation.model_path).is_file() for p in result.points)
    epochs = cfg.train.epochs
    assert sorted((m["arch"], m["epoch"]) for m in messages) == sorted(
        (study.space.label(p.arch), e) for p in result.points for e in range(1, epochs + 1)
    )
    assert all(m["worker"].startswith("process ") and m["epochs"] == epochs and "val_accuracy" in m for m in messages)
    curves = {study.space.label(p.arch): p.evaluation.curve for p in result.points}
    for m in messages:  # the reported losses are those of the stored learning curve
        assert m["val_loss"] == pytest.approx(curves[m["arch"]][m["epoch"] - 1]["val_loss"])


def test_local_executor_reports_epochs(tmp_path, study_config):
    from biowear.train import NullCallback

    epochs = []

    class Spy(NullCallback):
        def on_epoch_end(self, log):
            epochs.append(log.epoch)

    cfg = replace(study_config, bounds={**study_config.bounds, "blocks": (0, 0), "lstm_exp": (4, 4)}, name="epochs")
    Study(cfg, tmp_path).run("exhaustive", LocalExecutor(callbacks=(Spy(),)))
    assert epochs == [1]


def test_report_of_a_study_with_nothing_trained(tmp_path, study_config):
    from biowear.report import render_study_report

    study = Study(study_config, tmp_path)
    path = render_study_report(study, {"exhaustive": study.result("exhaustive")}, tmp_path / "report")
    assert "No feasible trained network yet" in path.read_text()
    assert (tmp_path / "report" / "fronts.png").is_file() and (tmp_path / "report" / "selections.png").is_file()
