"""Regression distillation (the PULSE form) through the one fit(): the loss against a hand computation, its
special cases, a frozen teacher, validation, and training a PULSE student from a PULSE teacher."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from biowear.compress.distill import (
    DistillationLoss,
    RegressionDistillationLoss,
    distillation_loss,
    relation_loss,
)
from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.models import PulseStudentArch, PulseTeacherArch
from biowear.train import TrainConfig, build_model, fit
from biowear.train.target import ScaledOutput


class _Tiny(nn.Module):
    """``out(embedding(tanh(inp(x))))`` on ``(B, 1, features)``: a regression net with a named embedding."""

    def __init__(self, features: int, width: int, seed: int):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.inp, self.embedding, self.out = nn.Linear(features, width), nn.Identity(), nn.Linear(width, 1)
        self.bn = nn.BatchNorm1d(width)

    def forward(self, x):
        return self.out(self.embedding(torch.tanh(self.bn(self.inp(x.flatten(1))))))


def _huber(a: np.ndarray, b: np.ndarray) -> float:
    d = np.abs(a - b)
    return float(np.mean(np.where(d < 1, 0.5 * d**2, d - 0.5)))


def _hand_distance(s: np.ndarray, t: np.ndarray) -> float:
    def normalised(e):
        n = len(e)
        d = np.array([[np.linalg.norm(e[i] - e[j]) for j in range(n)] for i in range(n)])
        return d / (d.sum() / (n * n - n))

    return _huber(normalised(s), normalised(t))


def _hand_angle(s: np.ndarray, t: np.ndarray) -> float:
    def cosines(e):
        n, out = len(e), []
        for i, j, k in itertools.product(range(n), repeat=3):
            u, v = e[i] - e[j], e[k] - e[j]
            nu, nv = np.linalg.norm(u), np.linalg.norm(v)
            out.append(0.0 if nu == 0 or nv == 0 else float(u @ v / (nu * nv)))
        return np.array(out)

    return _huber(cosines(s), cosines(t))


@pytest.fixture()
def pair():
    teacher, student = _Tiny(6, 5, seed=0).eval(), _Tiny(6, 3, seed=1)
    x = torch.randn(5, 1, 6, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([70.0, 80.0, 95.0, 60.0, 120.0]) / 100
    return teacher, student, x, y


def _outputs(net, x):
    seen = []
    handle = net.embedding.register_forward_hook(lambda m, i, o: seen.append(o))
    out = net(x)
    handle.remove()
    return out[:, 0].detach().numpy(), seen[0].detach().numpy()


def test_loss_equals_a_hand_computation(pair):
    teacher, student, x, y = pair
    g, b, wd, wa, scale = 0.7, 0.4, 1.5, 0.5, 2.0
    loss = RegressionDistillationLoss(teacher, g=g, b=b, w_distance=wd, w_angle=wa, l1_scale=scale)
    value = loss(student, x, y).item()
    student.train()  # as fit() calls it: batch statistics
    s_out, s_emb = _outputs(student, x)
    t_out, t_emb = _outputs(teacher, x)
    yn = y.numpy()
    output_terms = b * np.mean(np.abs(s_out - yn)) + (1 - b) * np.mean(np.abs(s_out - t_out))
    relation = wd * _hand_distance(s_emb, t_emb) + wa * _hand_angle(s_emb, t_emb)
    expected = g * output_terms / scale + (1 - g) * relation
    assert value == pytest.approx(expected, rel=1e-5)
    assert float(relation_loss(torch.from_numpy(s_emb), torch.from_numpy(t_emb), wd, wa)) == pytest.approx(
        relation, rel=1e-5
    )


def test_g1_b1_is_plain_l1_and_never_runs_the_teacher(pair):
    teacher, student, x, y = pair
    calls = []
    teacher.register_forward_hook(lambda m, i, o: calls.append(1))
    value = RegressionDistillationLoss(teacher, g=1, b=1)(student, x, y)
    assert value.item() == pytest.approx(nn.L1Loss()(student(x)[:, 0], y).item())
    assert calls == []
    only_teacher = RegressionDistillationLoss(teacher, g=1, b=0)(student, x, y)
    with torch.no_grad():
        assert only_teacher.item() == pytest.approx(float((student(x) - teacher(x)).abs().mean()), rel=1e-6)
    assert calls  # b < 1 needs the teacher's estimates


def test_gradients_reach_only_the_student_and_the_teacher_stays_in_eval(pair):
    teacher, student, x, y = pair
    loss_fn = RegressionDistillationLoss(teacher, g=0.5, b=0.5)
    stats = teacher.bn.running_mean.clone()
    teacher.train()  # even a teacher switched back to training is run in eval mode
    loss = loss_fn(student.train(), x, y)
    loss.backward()
    assert not teacher.training and torch.equal(teacher.bn.running_mean, stats)
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in student.parameters())
    assert float(student.inp.weight.grad.abs().sum()) > 0
    relation_only = RegressionDistillationLoss(teacher, g=0.0)(student, x, y)
    assert relation_only.requires_grad and relation_only.item() > 0


def test_one_sample_batches_and_bad_settings(pair):
    teacher, student, x, y = pair
    assert math.isfinite(RegressionDistillationLoss(teacher, g=0.2)(student.eval(), x[:1], y[:1]).item())
    for bad in (dict(g=1.5), dict(b=-0.1), dict(l1_scale=0.0), dict(w_distance=-1.0), dict(g=float("nan"))):
        with pytest.raises(ConfigError):
            RegressionDistillationLoss(teacher, **bad)
    with pytest.raises(ConfigError, match="w_distance and w_angle"):
        RegressionDistillationLoss(teacher, g=0.5, w_distance=0.0, w_angle=0.0)
    with pytest.raises(ConfigError, match="no submodule 'lstm'"):
        RegressionDistillationLoss(teacher, embed="lstm")(student, x, y)
    with pytest.raises(ConfigError, match="different units"):
        RegressionDistillationLoss(teacher)(ScaledOutput(student, 80.0, 15.0), x, y)


def test_the_task_picks_the_loss():
    teacher = _Tiny(6, 5, seed=0)
    assert isinstance(distillation_loss(Task.regression(), teacher, g=0.3), RegressionDistillationLoss)
    assert isinstance(distillation_loss(Task.classification(("a", "b")), teacher, alpha=0.3), DistillationLoss)
    with pytest.raises(ConfigError, match="alpha"):
        distillation_loss(Task.regression(), teacher, alpha=0.3)


def test_fit_distils_a_pulse_student_from_a_pulse_teacher():
    """Same seed, data and budget: learning mostly from the teacher's estimates (b=0.2) brings the student
    closer to the teacher than learning from the labels alone (b=1); the wrapped (BPM) networks find the
    embedding inside ScaledOutput."""
    rng = np.random.default_rng(0)
    shape, n, cut = (4, 32), 128, 96
    x = rng.normal(size=(n, *shape)).astype(np.float32)
    rate = rng.uniform(0.2, 0.8, size=n).astype(np.float32)
    x[:, 0] += 2 * np.sin(np.arange(shape[1]) * rate[:, None]).astype(np.float32)
    y = (60 + 80 * rate).astype(np.float32)  # "BPM"
    task, target = Task.regression("heart_rate", "BPM"), (float(y.mean()), float(y.std()))
    config = TrainConfig(epochs=3, batch_size=32, lr=3e-3, patience=0, device="cpu")
    teacher = build_model(PulseTeacherArch(width=4, heads=2), task, shape, seed=0, target=target)
    fit(teacher, x[:cut], y[:cut], x[cut:], y[cut:], config, task=task)
    with torch.no_grad():
        t_est = teacher.eval()(torch.from_numpy(x[cut:]))[:, 0].numpy()

    gaps = {}
    for b in (1.0, 0.2):
        student = build_model(PulseStudentArch(width=4, fusion=16), task, shape, seed=1, target=target)
        loss = RegressionDistillationLoss(teacher, g=0.9, b=b, l1_scale=target[1])
        fit(student, x[:cut], y[:cut], x[cut:], y[cut:], config, loss=loss, task=task)
        with torch.no_grad():
            gaps[b] = float(np.abs(student.eval()(torch.from_numpy(x[cut:]))[:, 0].numpy() - t_est).mean())
    assert not teacher.training and all(not p.requires_grad for p in teacher.parameters())
    assert gaps[0.2] < gaps[1.0], gaps
