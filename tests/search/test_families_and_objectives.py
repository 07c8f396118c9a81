"""Exploring a second family (ecg_cnn), lower-is-better objectives and the store's family-generic schema."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from biowear.errors import ConfigError
from biowear.models import EcgCnnSpec, ResNetLSTMGenes
from biowear.search import Constraints, Evaluation, Objective, Store, StoreError, Study, study_config_from_dict
from biowear.search.evaluate import cost_dict
from biowear.search.executor import LocalExecutor
from biowear.search.objective import constant_predictor_error
from biowear.search.store import SCHEMA_VERSION
from biowear.search.strategies import GAConfig
from tests.search.conftest import SMALL_STUDY


def _ecg_config(space: dict, **study) -> dict:
    doc = {k: v for k, v in SMALL_STUDY.items() if k != "space"}
    return {**doc, "study": {"name": "ecg", "family": "ecg_cnn", **study}, "space": space}


class FakeEcgTrainer:
    """Plausible metrics for any family from its cost (more parameters help), counting calls."""

    def __init__(self, space):
        self.space, self.calls = space, []

    def __call__(self, task):
        self.calls.append(task.arch)
        cost = self.space.cost(task.arch)
        q = 0.7 + 0.25 * cost.params / (cost.params + 20_000)
        metrics = {"classes": ["normal", "anomaly"], "accuracy": q, "macro_f1": q - 0.05, "f1": [q, q - 0.1]}
        return Evaluation(task.arch, task.train_key, "ok", metrics=metrics, cost=cost_dict(cost), train_time_s=1.0)


def test_ecg_cnn_config_space_keys_are_the_family_genes():
    cfg = study_config_from_dict(_ecg_config({"blocks": [1, 2]}))
    assert cfg.family == "ecg_cnn" and cfg.bounds == {"blocks": (1, 2), "filters": (8, 32), "dense": (16, 32)}
    assert study_config_from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown key.*lstm_exp.*valid keys are: blocks, filters, dense"):
        study_config_from_dict(_ecg_config({"lstm_exp": [4, 5]}))
    with pytest.raises(ConfigError, match="valid options are: resnet_lstm, ecg_cnn"):
        study_config_from_dict(_ecg_config({}, family="vit"))
    with pytest.raises(ConfigError, match="bounds of filters"):
        study_config_from_dict(_ecg_config({"filters": [4, 64]}))


def test_ecg_cnn_explored_by_two_strategies_sharing_one_store(tmp_path):
    cfg = study_config_from_dict(_ecg_config({"blocks": [1, 3]}))
    cfg = replace(cfg, ga=GAConfig(population=8, generations=2))
    study = Study(cfg, tmp_path)
    trainer = FakeEcgTrainer(study.space)
    exhaustive = study.run("exhaustive", LocalExecutor(trainer))
    assert len(trainer.calls) == len(study.space.feasible_points) == 3 * 3 * 2
    assert all(isinstance(a, EcgCnnSpec) for a in trainer.calls)
    reused = []
    nsga = study.run("nsga2", LocalExecutor(trainer), listener=lambda s, a, ev, cached: reused.append(cached))
    assert len(trainer.calls) == 18 and reused and all(reused)  # every network came from the store
    assert nsga.front and 0 < nsga.hypervolume <= exhaustive.hypervolume + 1e-12
    study.close()
    again = Study(cfg, tmp_path)  # a new process reads the same results back
    assert [p.arch for p in again.result("nsga2").front] == [p.arch for p in nsga.front]


def test_ecg_cnn_trains_for_real_then_nsga2_reuses(tmp_path):
    cfg = study_config_from_dict(_ecg_config({"blocks": [1, 2], "filters": [8, 8], "dense": [16, 16]}))
    cfg = replace(cfg, ga=GAConfig(population=4, generations=1))
    study = Study(cfg, tmp_path)
    first = study.run("exhaustive")
    assert first.n_trained == 2 and all(0 < p.quality <= 1 for p in first.points)
    paths = [tmp_path / "models" / p.evaluation.model_path for p in first.points]
    assert all(p.is_file() and p.parent.name.startswith("ecg_cnn-") for p in paths)
    reused = []
    study.run("nsga2", listener=lambda s, a, ev, cached: reused.append(cached))
    assert reused and all(reused)


def test_store_keeps_families_apart_and_refuses_old_schemas(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    a, b = ResNetLSTMGenes(1, 1, 4), EcgCnnSpec(blocks=1, filters=8, dense=16)
    for arch in (a, b):
        store.put(Evaluation(arch, "k", "ok", metrics={"accuracy": 0.9}))
    assert store.get("k", a).arch == a and store.get("k", b).arch == b
    assert [e.family for e in store.evaluations("k", "ecg_cnn")] == ["ecg_cnn"]
    store.record_visit("st", "exhaustive", 0, b, "k")
    assert store.visits("st", "exhaustive") == [b]
    store.close()
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "biowear-results-store"), ("schema", "1")])
    con.commit()
    con.close()
    assert SCHEMA_VERSION == 2
    with pytest.raises(StoreError, match="schema 1.*reads 2.*predates model-family plugins"):
        Store(old)


def test_objective_metric_names_and_directions():
    assert Objective(metric="f1", target_class="anomaly").metric_name == "f1:anomaly"
    assert Objective(metric="f1:anomaly").metric_name == "f1:anomaly"
    mae = Objective(metric="mae")
    assert mae.lower_is_better and mae.direction() == "lower is better"
    assert mae.score(2.0, reference=8.0) == pytest.approx(0.75)
    assert mae.score(10.0, reference=8.0) == 0.0  # worse than the constant predictor
    assert Objective(metric="mae", reference=4.0).score(2.0, reference=8.0) == pytest.approx(0.5)
    assert Objective().score(0.93) == 0.93
    with pytest.raises(ConfigError, match="valid options are: storage, flops"):
        Objective(hardware="latency")
    with pytest.raises(ConfigError, match="valid options are: weighted, multi"):
        Objective(mode="pareto")
    with pytest.raises(ConfigError, match="reference"):
        Objective(metric="mae", reference=-1.0)


def test_constant_predictor_reference_by_hand():
    # train mean 2; test residuals 1, -1, 3 -> MAE 5/3, RMSE sqrt(11/3)
    assert constant_predictor_error("mae", [1, 2, 3], [3, 1, 5]) == pytest.approx(5 / 3)
    assert constant_predictor_error("rmse", [1, 2, 3], [3, 1, 5]) == pytest.approx((11 / 3) ** 0.5)


def test_quality_limits_follow_the_metric_direction():
    limits = Constraints(max_error=3.0, min_quality=0.8)
    assert limits.quality_violation(4.0, lower_is_better=True) and limits.quality_violation(2.0, True) is None
    assert limits.quality_violation(0.7, lower_is_better=False) and limits.quality_violation(0.9, False) is None
    with pytest.raises(ConfigError, match="min_quality"):
        Constraints(min_quality=1.5)


def test_study_refuses_a_quality_limit_in_the_wrong_direction_and_unknown_classes(tmp_path, study_config):
    with pytest.raises(ConfigError, match="higher-is-better: limit it with min_quality"):
        Study(replace(study_config, constraints=Constraints(max_error=2.0)), tmp_path / "a")
    with pytest.raises(ConfigError, match="does not exist for this task; valid options are: accuracy"):
        Study(replace(study_config, name="b", objective=Objective(metric="mae")), tmp_path / "b")
    with pytest.raises(ConfigError, match="f1:vt"):
        Study(replace(study_config, name="c", objective=Objective(metric="f1:vt")), tmp_path / "c")


class _RegressionData:
    """A stand-in prepared dataset with a regression task (the study only reads these attributes)."""

    def __init__(self):
        import numpy as np

        from biowear.data.task import Task

        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(40, 1, 128)).astype("float32")
        self.y = np.linspace(60.0, 100.0, 40)
        self.classes = ()
        self.task = Task.regression("heart_rate", "BPM")
        self.key = "regression-stub"


def test_regression_study_scores_mae_against_the_constant_predictor(tmp_path, monkeypatch, study_config):
    import numpy as np

    import biowear.search.study as study_module
    from biowear.data import Split

    data = _RegressionData()
    split = Split(np.arange(0, 40, 2), np.arange(1, 40, 4), np.arange(3, 40, 4))
    monkeypatch.setattr(study_module, "load_data", lambda config: data)
    monkeypatch.setattr(study_module, "make_split", lambda d, config: split)
    reference = constant_predictor_error("mae", data.y[split.train], data.y[split.test])

    def trainer(task):
        mae = 2.0 + task.arch.blocks  # bigger is worse here, so the front trades nothing away
        metrics = {"task": "regression", "mae": mae, "rmse": mae * 1.2, "pearson_r": 0.9, "within_5": 0.5}
        return Evaluation(task.arch, task.train_key, "ok", metrics=metrics, cost=cost_dict(study.space.cost(task.arch)))

    cfg = replace(study_config, name="hr", objective=Objective(metric="mae"), constraints=Constraints(max_error=6.5))
    study = Study(cfg, tmp_path)
    assert study.space.n_outputs == 1 and study.reference_error == pytest.approx(reference)
    result = study.run("exhaustive", LocalExecutor(trainer))
    assert result.points and all(p.value <= 6.5 for p in result.points)  # max_error drops blocks 5
    for p in result.points:
        assert p.quality == pytest.approx(max(0.0, 1 - p.value / reference))
    best = max(result.points, key=lambda p: p.quality)
    assert best.arch.blocks == 0 and best in result.front
    with pytest.raises(ConfigError, match="lower-is-better: limit it with constraints.max_error"):
        Study(replace(cfg, name="hr2", constraints=Constraints(min_quality=0.5)), tmp_path)
