"""Input standardisation inside the network (ScaledInput): training-split statistics travel with the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models.family import get_family
from biowear.train.artifacts import build_model, load_model, save_model
from biowear.train.target import ScaledInput, ScaledOutput, input_scale, unwrap


def _windows(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(32, 3, 128)) * np.array([1.0, 5.0, 0.1])[None, :, None] + 7.0).astype(np.float32)


def test_input_scale_is_per_channel_training_statistics() -> None:
    x = _windows()
    mean, std = input_scale(x)
    assert np.allclose(mean, x.mean(axis=(0, 2)), atol=1e-5) and np.allclose(std, x.std(axis=(0, 2)), rtol=1e-5)
    flat = x.copy()
    flat[:, 1] = 2.0
    assert input_scale(flat)[1][1] == 1.0  # a constant channel is not divided by zero
    with pytest.raises(ValueError):
        input_scale(x[0])


def test_scaled_input_applies_the_fixed_statistics_and_survives_save_load(tmp_path) -> None:
    x = _windows()
    arch = get_family("ecg_cnn").default()
    task = Task.regression("heart rate", "BPM")
    model = build_model(arch, task, (3, 128), seed=0, target=(100.0, 10.0), inputs=input_scale(x)).eval()
    core, target, inputs = unwrap(model)
    assert target == (100.0, 10.0) and inputs is not None and not isinstance(core, ScaledInput)
    scaled = model.net
    assert isinstance(scaled, ScaledInput)
    with torch.no_grad():
        direct = core((torch.from_numpy(x) - scaled.input_mean) / scaled.input_std) * 10.0 + 100.0
        assert torch.allclose(model(torch.from_numpy(x)), direct)
    save_model(tmp_path / "m.pt", model, arch, task, (3, 128))
    loaded = load_model(tmp_path / "m.pt")
    assert np.allclose(loaded.predict(x), model(torch.from_numpy(x)).detach().numpy().ravel(), atol=1e-5)
    assert np.allclose(unwrap(loaded.model)[2], inputs)
    # Another data set's statistics would give other outputs: the scale is really used.
    other = build_model(arch, task, (3, 128), seed=0, target=(100.0, 10.0), inputs=input_scale(x * 3 + 1))
    other.load_state_dict({k: v for k, v in model.state_dict().items() if "input_" not in k}, strict=False)
    assert not np.allclose(other.eval()(torch.from_numpy(x)).detach().numpy(), model(torch.from_numpy(x)).detach())


def test_input_scale_must_match_the_channels() -> None:
    arch = get_family("ecg_cnn").default()
    with pytest.raises(ConfigError, match="2 channel"):
        build_model(arch, Task.regression("y"), (3, 128), inputs=([0.0, 0.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="positive"):
        ScaledInput(torch.nn.Identity(), [0.0], [0.0])


def test_int8_keeps_the_input_scaling_in_float_before_the_first_quantised_layer() -> None:
    from biowear.compress.int8 import quantize_int8

    x = _windows()
    arch = get_family("ecg_cnn").default()
    model = build_model(arch, Task.regression("y"), (3, 128), seed=0, target=(5.0, 2.0), inputs=input_scale(x))
    q = quantize_int8(model.eval(), x)
    graph = q.graph.net if isinstance(q.graph, ScaledOutput) else q.graph  # the target affine stays float outside
    code = graph.code
    assert code.index("input_mean") < code.index("quantize_per_tensor")
    with torch.no_grad():
        err = (q(torch.from_numpy(x)) - model(torch.from_numpy(x))).abs().max().item()
    assert err < 0.2 * 2.0  # within a fifth of the target's std
