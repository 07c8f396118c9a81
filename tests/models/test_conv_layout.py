"""SamePadConv1d's channels-last training path computes the same convolution as the plain (evaluation) path."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from biowear.models import ResNetLSTMGenes, build
from biowear.models.layers import SamePadConv1d


def _outputs_and_grads(conv: SamePadConv1d, x: torch.Tensor, train: bool):
    conv.train(train)
    conv.zero_grad(set_to_none=True)
    xin = x.clone().requires_grad_(True)
    out = conv(xin)
    weights = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * weights).sum().backward()
    return out.detach(), xin.grad, conv.weight.grad, conv.bias.grad


@pytest.mark.parametrize(
    ("cin", "cout", "kernel", "stride", "length"),
    [(1, 32, 16, 1, 256), (8, 16, 16, 2, 101), (16, 16, 5, 1, 37), (4, 8, 3, 3, 50)],
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_training_path_equals_plain_conv(cin, cout, kernel, stride, length, dtype):
    """float64 pins the wiring (padding, stride, gradients) tightly; float32 runs oneDNN's kernels."""
    torch.manual_seed(0)
    conv = SamePadConv1d(cin, cout, kernel, stride=stride).to(dtype)
    x = torch.randn(4, cin, length, dtype=dtype)
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    plain = _outputs_and_grads(conv, x, train=False)
    fast = _outputs_and_grads(conv, x, train=True)
    reference = F.conv1d(F.pad(x, conv.pads(length)), conv.weight, conv.bias, stride=stride)
    assert plain[0].shape == (4, cout, -(-length // stride))
    assert torch.equal(plain[0], reference)  # evaluation: the unchanged nn.Conv1d path
    assert fast[0].is_contiguous()
    for a, b in zip(plain, fast, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, rtol=tol, atol=tol * float(a.abs().max()) * 10)


def test_training_path_is_channels_last_convolution():
    """The training path runs a 2-D channels-last convolution (the fast oneDNN backward), evaluation does not."""
    conv = SamePadConv1d(4, 8, 5)
    seen = []

    def spy(x, w, *args, **kwargs):
        seen.append(
            (x.is_contiguous(memory_format=torch.channels_last), w.is_contiguous(memory_format=torch.channels_last))
        )
        return original(x, w, *args, **kwargs)

    original = F.conv2d
    try:
        F.conv2d = spy
        conv.train()(torch.randn(2, 4, 20))
        with torch.no_grad():  # no backward can follow: the plain path
            conv.train()(torch.randn(2, 4, 20))
        conv.eval()(torch.randn(2, 4, 20))
    finally:
        F.conv2d = original
    assert seen == [(True, True)]


def test_double_backward_refused_on_the_training_path():
    conv = SamePadConv1d(2, 3, 5).train()
    x = torch.randn(2, 2, 12, requires_grad=True)
    (grad,) = torch.autograd.grad(conv(x).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|differentiate"):
        grad.sum().backward()


def test_network_trains_through_fast_path_with_unchanged_state_dict_keys():
    """A ResNet-LSTM's training step gets finite gradients everywhere and keeps its state-dict keys."""
    model = build(ResNetLSTMGenes(2, 2, 4), 1, 2, seed=0)
    keys = list(model.state_dict())
    model.train()
    model(torch.randn(8, 1, 64)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert list(model.state_dict()) == keys


def test_fast_path_can_be_turned_off_for_bit_exact_plain_runs():
    from biowear.models.layers import SamePadConv1d, set_fast_conv

    conv = SamePadConv1d(4, 6, 5).train()
    x = torch.randn(3, 4, 40, requires_grad=True)
    plain = torch.nn.functional.conv1d(torch.nn.functional.pad(x, conv.pads(40)), conv.weight, conv.bias)
    previous = set_fast_conv(False)
    try:
        assert torch.equal(conv(x), plain)
    finally:
        set_fast_conv(previous)


def test_fast_dropout_has_torch_dropouts_distribution_and_gradient():
    """Keep rate 1 - p, kept elements scaled so the mean is unchanged, gradient masked the same way."""
    from biowear.models.layers import Dropout

    drop = Dropout(0.2).train()
    x = torch.ones(64, 32, 128, requires_grad=True)
    y = drop(x)
    kept = y.detach() != 0
    n = kept.numel()
    # the keep rate is 1 - p within 5 binomial standard deviations, and the mean stays 1
    assert abs(kept.float().mean().item() - 0.8) < 5 * (0.2 * 0.8 / n) ** 0.5
    assert abs(y.detach().mean().item() - 1.0) < 5 * (0.25 / n) ** 0.5 * 1.25
    assert torch.unique(y.detach()[kept]).numel() == 1 and abs(y.detach()[kept][0].item() - 1.25) < 1e-4
    # masks are independent across positions: neighbours are kept together at rate 0.64
    both = (kept[..., 1:] & kept[..., :-1]).float().mean().item()
    assert abs(both - 0.64) < 0.01
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(x * mask)/dx = mask
    drop.eval()
    assert torch.equal(drop(x), x)


def test_fast_dropout_masks_follow_torchs_seed_and_differ_per_call():
    from biowear.models.layers import Dropout

    drop = Dropout(0.5).train()
    x = torch.ones(4, 8, 16, requires_grad=True)
    torch.manual_seed(3)
    a, b = drop(x), drop(x)
    torch.manual_seed(3)
    assert torch.equal(drop(x), a) and torch.equal(drop(x), b)
    assert not torch.equal(a, b)


def test_fast_dropout_off_is_torchs_own_dropout():
    from biowear.models.layers import Dropout, set_fast_conv

    x = torch.randn(4, 8, 16, requires_grad=True)
    previous = set_fast_conv(False)
    try:
        torch.manual_seed(1)
        ours = Dropout(0.3).train()(x)
        torch.manual_seed(1)
        assert torch.equal(ours, torch.nn.functional.dropout(x, 0.3, training=True))
    finally:
        set_fast_conv(previous)
    with torch.no_grad():  # no backward can follow: torch's path too
        torch.manual_seed(1)
        ours = Dropout(0.3).train()(x)
    torch.manual_seed(1)
    assert torch.equal(ours, torch.nn.functional.dropout(x.detach(), 0.3, training=True))


@pytest.mark.parametrize("p", [1e-7, 1 - 1e-7])
def test_fast_dropout_leaves_probabilities_its_16_bit_draws_cannot_hold_to_torch(p):
    from biowear.models.layers import Dropout

    x = torch.ones(4, 8, 16, requires_grad=True)
    torch.manual_seed(2)
    ours = Dropout(p).train()(x)
    torch.manual_seed(2)
    assert torch.equal(ours, torch.nn.functional.dropout(x, p, training=True))


def _no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return model


@pytest.mark.parametrize("label", ["blocks=0,x=1,lstm=16", "blocks=3,x=2,lstm=32", "blocks=5,x=1,lstm=16"])
def test_channels_last_trunk_trains_the_same_network_as_the_plain_path(label):
    """float64, dropout off: outputs, every gradient and the batch-norm running statistics agree to rounding
    (stride-2 blocks, max-pool and channel-pad shortcuts included)."""
    from biowear.models.layers import set_fast_conv

    genes = ResNetLSTMGenes.parse(label)
    fast, plain = (_no_dropout(build(genes, 1, 2, seed=0).double().train()) for _ in range(2))
    x = torch.randn(8, 1, 75, dtype=torch.float64)
    y_fast = fast(x)
    previous = set_fast_conv(False)
    try:
        y_plain = plain(x)
    finally:
        set_fast_conv(previous)
    torch.testing.assert_close(y_fast, y_plain, rtol=1e-10, atol=1e-12)
    (y_fast * torch.arange(2.0, dtype=torch.float64)).sum().backward()
    (y_plain * torch.arange(2.0, dtype=torch.float64)).sum().backward()
    for (name, a), b in zip(fast.named_parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-11, msg=name)
    for (name, a), b in zip(fast.state_dict().items(), plain.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=name)  # running stats, batches tracked


def test_channels_last_trunk_runs_in_training_only_and_steps_aside_for_hooks():
    import biowear.models.layers as layers

    model = build(ResNetLSTMGenes(3, 2, 4), 1, 2, seed=0)
    calls = []
    original = layers.run_channels_last

    def spy(module, x):
        calls.append(type(module).__name__)
        return original(module, x)

    x = torch.randn(4, 1, 64)
    try:
        layers.run_channels_last = spy
        import biowear.models.resnet_lstm as resnet_lstm

        resnet_lstm.run_channels_last = spy
        model.train()(x)
        assert calls and calls[0] == "Sequential"  # the stem, then the blocks and the post part
        calls.clear()
        model.eval()(x)
        with torch.no_grad():
            model.train()(x)
        assert calls == []
        seen = []
        handle = model.blocks[1].conv1.register_forward_hook(lambda m, i, o: seen.append(o.shape))
        model.train()(x)
        handle.remove()
        assert calls == [] and len(seen) == 1  # a hook would be skipped: the plain path runs it
    finally:
        layers.run_channels_last = original
        resnet_lstm.run_channels_last = original


def test_channels_last_trunk_draws_the_dropout_masks_of_the_per_layer_path(monkeypatch):
    """With dropout on, the trunk (channels-last tensors) and the per-convolution path draw the same masks in
    the same logical order, so a seed gives the same training either way."""
    import biowear.models.resnet_lstm as resnet_lstm

    model = build(ResNetLSTMGenes(3, 2, 4), 1, 2, seed=0).double().train()
    x = torch.randn(8, 1, 64, dtype=torch.float64)
    torch.manual_seed(5)
    trunk = model(x)
    monkeypatch.setattr(resnet_lstm.ResNetLSTM, "_trunk_ready", lambda self: False)
    torch.manual_seed(5)
    per_layer = model(x)
    torch.testing.assert_close(trunk, per_layer, rtol=1e-10, atol=1e-12)
