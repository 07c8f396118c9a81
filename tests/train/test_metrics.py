from __future__ import annotations

import numpy as np
import pytest

from biowear.train import compute_metrics


def test_metrics_by_hand():
    y = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 0, 2])
    proba = np.eye(3)[pred] * 0.8 + 0.2 / 3
    m = compute_metrics(y, proba, ("a", "b", "c"))
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.precision == pytest.approx((2 / 3, 1 / 2, 1.0))
    assert m.recall == pytest.approx((2 / 3, 1 / 2, 1.0))
    assert m.macro_f1 == pytest.approx(np.mean([2 / 3, 1 / 2, 1.0]))
    assert m.confusion == ((2, 1, 0), (1, 1, 0), (0, 0, 1))
    assert m.support == (3, 2, 1)
    assert m.auc[2] == 1.0 and m.class_metric("f1", "b") == pytest.approx(0.5)


def test_roc_auc_perfect_and_absent_class():
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0], [0.4, 0.6, 0.0]])
    m = compute_metrics(y, proba, ("x", "y", "z"))
    assert m.auc[0] == 1.0 and m.auc[1] == 1.0 and m.auc[2] is None and m.macro_auc == 1.0
    fpr, tpr = m.roc[1]
    assert fpr[0] == 0.0 and tpr[-1] == 1.0
    assert "roc" not in m.to_dict() and "roc" in m.to_dict(with_roc=True)
