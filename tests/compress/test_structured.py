from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biowear.compress.structured import prune_lstm_hidden, structured_prune
from biowear.cost import profile
from biowear.errors import ConfigError
from biowear.models import EcgCnnSpec, ResNetLSTMGenes, build, build_spec


def test_resnet_lstm_loses_inner_channels_and_lstm_units_but_keeps_the_residual_stream():
    model = build(ResNetLSTMGenes(2, 1, 5), 1, 2, seed=0)
    before = profile(model, (1, 128))
    result = structured_prune(model, (1, 128), 0.5)
    after = result.widths_after
    assert after["blocks.0.conv1"] == 16 and after["blocks.1.conv1"] == 32  # inner channels halved
    assert after["stem.0"] == 32 and after["blocks.1.conv2"] == 64  # residual stream untouched
    assert after["lstm.lstm"] == 16 and after["fc"] == 2  # hidden units halved, one output per class
    assert model.blocks[0].conv2.in_channels == 16 and model.fc.in_features == 16
    cost = profile(model, (1, 128))
    assert cost.params < 0.6 * before.params and cost.macs < 0.6 * before.macs
    assert model(torch.zeros(3, 1, 128)).shape == (3, 2)


def test_kachuee_cnn_is_pruned_through_flatten():
    model = build_spec(EcgCnnSpec(), 1, 5, 187, seed=0)
    result = structured_prune(model, (1, 187), 0.25)
    assert set(result.widths_after.values()) <= {24, 5}  # 32 filters/units -> 24, output kept
    assert model.head[1].in_features == 24 * 2  # flattened (24 channels x 2 samples)
    assert model(torch.zeros(2, 1, 187)).shape == (2, 5)


def test_lstm_hidden_pruning_keeps_the_strongest_units_exactly():
    torch.manual_seed(0)
    lstm, fc = nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2)
    with torch.no_grad():  # unit 2 is silent in and out: it must go first
        for w in (lstm.weight_ih_l0, lstm.weight_hh_l0):
            w.view(4, 4, -1)[:, 2] = 0.0
        lstm.weight_hh_l0[:, 2] = 0.0
        fc.weight[:, 2] = 0.0
    x = torch.randn(5, 7, 3)
    out, _ = lstm(x)
    ref = fc(out[:, -1])
    new = prune_lstm_hidden(lstm, fc, 0.25)
    assert new.hidden_size == 3 and fc.in_features == 3
    out2, _ = new(x)
    torch.testing.assert_close(fc(out2[:, -1]), ref, atol=1e-6, rtol=1e-5)  # removing a dead unit changes nothing


def test_bad_ratio_and_unprunable_models():
    model = build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)
    for ratio in (-0.1, 0.0, 1.0, float("nan")):
        with pytest.raises(ConfigError, match=r"ratio must be a finite number in \(0, 1\)"):
            structured_prune(model, (1, 64), ratio)
    with pytest.raises(ConfigError, match="no Conv1d or Linear"):
        structured_prune(nn.Sequential(nn.ReLU(), nn.Identity()), (1, 8), 0.5)
    with pytest.raises(ConfigError, match="one-layer"):
        prune_lstm_hidden(nn.LSTM(2, 4, num_layers=2), nn.Linear(4, 1), 0.5)
    assert np.isfinite(model(torch.zeros(1, 1, 64)).detach().numpy()).all()
