"""Inference kernels of the classical classifiers, the EEG FCN and Bio-BPfree against their references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from biowear.bench.classifiers.bpfree import ConvBlock, block_gradients, block_outputs, pair_loss, train_epoch
from biowear.bench.classifiers.eeg_fcn import FCNSpec, FoldedFCN, build_fcn, calibrate, fcn_logits
from biowear.bench.classifiers.nfc import NeuroFuzzyClassifier
from biowear.bench.classifiers.shallow import (
    MLP,
    RBFSVM,
    Forest,
    forest_proba,
    knn_fraction,
    mlp_proba,
    project,
    sparse_random_projection,
    svm_decision,
)
from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (60, 4)), rng.normal(1.5, 1, (60, 4))])
    return x, np.repeat([0, 1], 60)


def test_svm_matches_sklearn(blobs):
    x, y = blobs
    svc = SVC(kernel="rbf", gamma="scale").fit(x, y)
    model = RBFSVM.from_sklearn(svc)
    assert np.allclose(svm_decision(model, x), svc.decision_function(x))
    fixed = svm_decision(model, x, q=QFormat(32, 16))
    assert np.mean(np.sign(fixed) == np.sign(svc.decision_function(x))) > 0.98
    with pytest.raises(ConfigError, match="rbf"):
        RBFSVM.from_sklearn(SVC(kernel="linear").fit(x, y))


def test_forest_matches_sklearn(blobs):
    x, y = blobs
    rf = RandomForestClassifier(n_estimators=7, max_depth=4, random_state=0).fit(x, y)
    model = Forest.from_sklearn(rf)
    assert np.allclose(forest_proba(model, x), rf.predict_proba(x))
    assert np.allclose(forest_proba(model, x, q=QFormat(32, 16)), rf.predict_proba(x), atol=0.15)


def test_mlp_and_knn_match_sklearn(blobs):
    x, y = blobs
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=500, random_state=0).fit(x, y)
    assert np.allclose(mlp_proba(MLP.from_sklearn(mlp), x), mlp.predict_proba(x))
    y3 = np.arange(120) % 3
    mlp3 = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(x, y3)
    assert np.allclose(mlp_proba(MLP.from_sklearn(mlp3), x), mlp3.predict_proba(x))
    knn = KNeighborsClassifier(n_neighbors=11).fit(x, y)
    ours = [knn_fraction(x, y, row, 11) for row in x[:20] + 0.01]
    assert np.allclose(ours, knn.predict_proba(x[:20] + 0.01)[:, 1])
    with pytest.raises(ConfigError, match="k must be"):
        knn_fraction(x, y, x[0], 0)


def test_random_projection_and_nfc(blobs):
    m = sparse_random_projection(30, 5, seed=1)
    assert set(np.unique(m)) <= {-1, 0, 1} and np.array_equal(m, sparse_random_projection(30, 5, seed=1))
    v = np.arange(30)
    assert np.array_equal(project(m, v)[0], m @ v)
    x, y = blobs
    nfc = NeuroFuzzyClassifier.fit(x, y)
    acc = np.mean(nfc.predict(x) == y)
    assert acc > 0.8
    assert np.mean(nfc.predict(x, q=QFormat(16, 10)) == nfc.predict(x)) > 0.95
    with pytest.raises(ConfigError, match="both classes"):
        NeuroFuzzyClassifier.fit(x, np.zeros(len(x), int))


def test_fcn_folded_inference_matches_torch():
    spec = FCNSpec(in_channels=4, length=128, filters=(4, 8, 8), hidden=8)
    torch.manual_seed(0)
    module = build_fcn(spec)
    for m in module:
        if isinstance(m, torch.nn.BatchNorm1d):  # non-trivial running statistics
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    module.eval()
    x = np.random.default_rng(0).normal(size=(3, 4, 128))
    ref = module(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    folded = FoldedFCN.from_module(module, spec.pool)
    ours = np.stack([fcn_logits(folded, xi) for xi in x])
    assert np.allclose(ours, ref, atol=1e-4)
    plan = calibrate(folded, x, word_bits=16)
    fixed = np.stack([fcn_logits(folded, xi, plan) for xi in x])
    assert np.max(np.abs(fixed - ours)) < 0.05 * np.max(np.abs(ours)) + 1e-3
    plan8 = calibrate(folded, x, word_bits=8)
    err8 = np.max(np.abs(np.stack([fcn_logits(folded, xi, plan8) for xi in x]) - ours))
    assert err8 > np.max(np.abs(fixed - ours))  # fewer bits, larger error
    with pytest.raises(ConfigError, match="divisible"):
        FCNSpec(length=100)


def test_bpfree_gradients_match_autograd_and_training_lowers_loss():
    block = ConvBlock.init(channels=6, filters=5, kernel=3, pool=2, seed=2)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6, 16))
    y = np.array([0, 1, 0, 1])
    loss, gw, gb = block_gradients(block, x, y)
    w = torch.tensor(block.weight, requires_grad=True)
    b = torch.tensor(block.bias, requires_grad=True)
    z = torch.nn.functional.conv1d(torch.tensor(x), w, b, padding=1)
    a = z * torch.tensor(block.bn_scale)[:, None] + torch.tensor(block.bn_shift)[:, None]
    h = torch.nn.functional.max_pool1d(torch.relu(a), 2).reshape(4, -1)
    i, j = np.triu_indices(4, 1)
    d = ((h[i] - h[j]) ** 2).sum(dim=1) / h.shape[1]
    same = torch.tensor(y[i] == y[j])
    ref = d[same].mean() + torch.clamp(1.0 - d[~same], min=0).mean()
    ref.backward()
    assert loss == pytest.approx(ref.item())
    assert np.allclose(gw, w.grad.numpy(), atol=1e-10) and np.allclose(gb, b.grad.numpy(), atol=1e-10)
    before = pair_loss(block_outputs(block, x), y)[0]
    trained, _ = train_epoch(block, x, y, lr=0.1)
    assert pair_loss(block_outputs(trained, x), y)[0] < before
    with pytest.raises(ConfigError, match="same-class"):
        pair_loss(np.zeros((2, 3)), np.array([0, 1]))
