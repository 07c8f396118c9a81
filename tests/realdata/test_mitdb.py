"""Real-data tests on MIT-BIH and CU VT records (skipped without the data root, required in CI)."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.data import DataConfig, get_dataset, prepare
from biowear.models import ResNetLSTMGenes
from biowear.train import TrainConfig, train_network
from tests.conftest import require_dataset
from tests.realdata.helpers import binary_beats

pytestmark = pytest.mark.realdata


def test_mitdb_record_100_matches_the_published_counts():
    require_dataset("mitdb")
    rec = get_dataset("mitdb").load("100")
    assert rec.fs_hz == 360.0 and rec.signal.shape == (650_000, 2) and rec.channels == ("MLII", "V5")
    beats = [s for s in rec.annotations.symbol if s in "NLRBAaJSVrFejnE/fQ?"]
    assert len(rec.annotations) == 2274 and len(beats) == 2273
    assert not rec.synthetic


def test_mitdb_lead_selection_prefers_mlii():
    require_dataset("mitdb")
    rec = get_dataset("mitdb").load("114")  # channels swapped in this record
    assert rec.channels == ("V5", "MLII") and rec.channel_index(("MLII",)) == 1


def test_cudb_vf_episodes_become_a_class():
    require_dataset("cudb")
    require_dataset("mitdb")
    data = prepare(DataConfig(datasets=("mitdb", "cudb"), labels="vf", records=("mitdb/100", "cudb/cu01", "cudb/cu05")))
    counts = data.class_counts
    assert counts["vf"] > 50 and counts["normal"] > 1000
    cu_idx = [i for i, k in enumerate(data.record_keys) if k.startswith("cudb/")]
    # cudb beats are unclassified, so cudb contributes VF-episode windows only
    assert set(np.unique(data.y[np.isin(data.record_index, cu_idx)])) == {data.classes.index("vf")}


def test_brief_training_on_a_few_records_beats_chance():
    require_dataset("mitdb")
    # 1 s beat-centred windows at 128 Hz keep this CI test to well under a minute on 2 cores
    data, split = binary_beats()
    run = train_network(data, split, ResNetLSTMGenes(1, 1, 4), TrainConfig(epochs=3, batch_size=128, seed=0))
    y_test = data.y[split.test]
    majority = np.bincount(y_test).max() / len(y_test)
    assert not run.synthetic
    assert run.metrics.accuracy > majority + 0.05, (run.metrics.accuracy, majority)
    assert run.metrics.class_metric("f1", "anomaly") > 0.6
    assert run.metrics.auc[1] > 0.9


def test_small_exploration_on_real_mitdb(tmp_path):
    """A two-network exhaustive exploration plus a GA on real records, as CI can afford."""
    require_dataset("mitdb")
    from biowear.search import Study, study_config_from_dict

    cfg = study_config_from_dict(
        {
            "study": {"name": "ci-real"},
            "data": {
                "datasets": ["mitdb"],
                "labels": "binary",
                "records": ["106", "119", "208"],
                "fs_hz": 128.0,
                "window": {"kind": "beat", "window_samples": 128},
            },
            "train": {"epochs": 1, "batch_size": 128},
            "space": {"blocks": [0, 1], "x": [1, 1], "lstm_exp": [4, 4]},
            "ga": {"population": 6, "generations": 2},
        }
    )
    study = Study(cfg, tmp_path)
    exhaustive = study.run("exhaustive")
    assert exhaustive.n_trained == 2 and exhaustive.front
    assert all((tmp_path / "models" / p.evaluation.model_path).is_file() for p in exhaustive.points)
    n_before = len(study.store.evaluations(study.train_key))
    ga = study.run("nsga2")  # everything it can ask for is already trained: no new evaluations
    assert len(study.store.evaluations(study.train_key)) == n_before
    assert ga.hypervolume <= exhaustive.hypervolume + 1e-12
    from biowear.search.evaluate import load_data

    data = load_data(cfg.data)
    majority = np.bincount(data.y).max() / len(data.y)
    assert max(p.quality for p in exhaustive.points) > majority + 0.05
