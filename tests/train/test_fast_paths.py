"""The CPU training fast path (channels-last convolutions) trains like the plain path: same losses up to float
rounding, same accuracy, and still reproducible and resumable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biowear.models import ResNetLSTMGenes, build, layers
from biowear.train import TrainConfig, fit


def _data(seed: int = 0, n: int = 192, length: int = 64):
    """Two separable classes: a sine burst in class 1, noise in both."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.arange(length) / length
    x = rng.standard_normal((n, 1, length)).astype(np.float32) * 0.5
    x[y == 1, 0] += np.sin(2 * np.pi * 6 * t).astype(np.float32)
    return x, y


def _train(genes: ResNetLSTMGenes, epochs: int = 3):
    x, y = _data()
    model = build(genes, 1, 2, seed=0)
    result = fit(model, x[:128], y[:128], x[128:], y[128:], TrainConfig(epochs=epochs, batch_size=32, patience=0))
    return model, result


@pytest.mark.parametrize("genes", [ResNetLSTMGenes(2, 2, 4), ResNetLSTMGenes(1, 1, 4)])
def test_fast_path_trains_like_the_plain_path(monkeypatch, genes):
    calls = []
    real = layers._channels_last_ok
    monkeypatch.setattr(layers, "_channels_last_ok", lambda x: calls.append(1) or real(x))
    fast_model, fast = _train(genes)
    assert calls and real(torch.zeros(1, 1, 4))  # the fast path was taken
    monkeypatch.setattr(layers, "_channels_last_ok", lambda x: False)
    plain_model, plain = _train(genes)
    fast_losses = np.array([(h.train_loss, h.val_loss) for h in fast.history])
    plain_losses = np.array([(h.train_loss, h.val_loss) for h in plain.history])
    np.testing.assert_allclose(fast_losses, plain_losses, rtol=1e-3, atol=1e-4)
    assert [h.val_accuracy for h in fast.history] == pytest.approx([h.val_accuracy for h in plain.history], abs=0.02)
    # every conv feeds a batch norm, so a conv bias's true gradient is 0 and Adam steps rounding noise, which that
    # batch norm's running mean absorbs: compare the weights and what the network computes
    for (name, a), b in zip(fast_model.state_dict().items(), plain_model.state_dict().values(), strict=True):
        assert a.is_contiguous(), name  # stored weights keep the plain layout
        if "weight" in name:  # three epochs of Adam amplify rounding differences element-wise: compare whole tensors
            assert float((a - b).norm() / b.norm().clamp_min(1e-12)) < 1e-2, name
    x, _ = _data(seed=1)
    with torch.no_grad():
        torch.testing.assert_close(
            fast_model.eval()(torch.as_tensor(x)), plain_model.eval()(torch.as_tensor(x)), rtol=1e-3, atol=1e-3
        )


def test_fast_path_is_reproducible():
    genes = ResNetLSTMGenes(2, 2, 4)
    (m1, r1), (m2, r2) = _train(genes, epochs=2), _train(genes, epochs=2)
    assert [h.train_loss for h in r1.history] == [h.train_loss for h in r2.history]
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
