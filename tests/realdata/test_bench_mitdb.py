"""BiomedBench ECG kernels and HeartBeatClass on real MIT-BIH records."""

from __future__ import annotations

import pytest

from biowear.bench.apps.heartbeat import HeartBeatClass
from biowear.bench.rpeak_eval import evaluate_record, totals
from biowear.bench.runner import run_app
from tests.conftest import require_dataset

pytestmark = pytest.mark.realdata


def test_rpeak_detectors_on_mitdb_records():
    require_dataset("mitdb")
    scores = [s for rid in ("100", "105", "208") for s in evaluate_record(rid)]
    tot = totals(scores)
    # 105 (noise) and 208 (frequent PVCs, fusion beats) are among the hardest records
    assert tot["pan_tompkins"].sensitivity > 0.99 and tot["pan_tompkins"].positive_predictivity > 0.98
    assert tot["reward"].sensitivity > 0.98 and tot["reward"].positive_predictivity > 0.98
    assert tot["pan_tompkins"].tp + tot["pan_tompkins"].fn == 2273 + 2572 + 2955  # reference beats of the 3 records


def test_heartbeatclass_on_mitdb_float_and_fixed():
    require_dataset("mitdb")
    app = HeartBeatClass().prepare(seed=0, quick=True)
    assert not app.synthetic and app.info.signals[0].channels == 2 and "MIT-BIH" in app.data_source
    flt = run_app(app, fixed=False, platforms=("apollo3",))
    assert flt.scores["beats"] > 100
    # trained on 6 records, tested on 3 others: far above chance on both classes
    assert flt.scores["abnormal_sensitivity"] > 0.7 and flt.scores["normal_specificity"] > 0.8
    fx = run_app(app, fixed=True, platforms=("apollo3",))
    assert fx.fixed_vs_float["decision_agreement"] >= 0.8
    assert fx.fixed_vs_float["rel_error.combined_ecg"] < 0.01
    assert abs(fx.scores["balanced_accuracy"] - flt.scores["balanced_accuracy"]) < 0.05
    assert flt.platforms[0].dominant_kernel in {"erosion", "dilation"}
