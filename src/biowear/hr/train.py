"""One fold of heart-rate estimation: teacher, student, distilled student and int8 student, on one budget.

Every network takes raw windows: per-channel input statistics and the target scale come from the fold's
training windows only and live inside the network (:class:`biowear.train.target.ScaledInput`,
:class:`~biowear.train.target.ScaledOutput`), so nothing of the validation or test subjects is seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from biowear.compress.distill import RegressionDistillationLoss
from biowear.compress.int8 import Int8Config, Int8Network, quantize_int8
from biowear.data.task import Task
from biowear.hr.config import HRConfig
from biowear.models.family import get_family
from biowear.train import TrainConfig, fit
from biowear.train.artifacts import build_model
from biowear.train.fit import Callback, FitResult
from biowear.train.target import input_scale, target_scale

TEACHER_FAMILY = "pulse_teacher"
STUDENT_FAMILY = "pulse_student"
#: The networks of one fold, in training order.
MODELS = ("teacher", "student", "student_kd", "student_int8")
#: Called with (network name, fit callbacks) before each network trains; returns progress callbacks.
Progress = Callable[[str, int], Sequence[Callback]]

HR_TASK = Task.regression("heart rate", "BPM")


def architectures(config: HRConfig) -> tuple[Any, Any]:
    """(teacher, student) architecture objects of ``config`` (family defaults for empty texts)."""
    teacher, student = get_family(TEACHER_FAMILY), get_family(STUDENT_FAMILY)
    return (
        teacher.parse(config.teacher) if config.teacher else teacher.default(),
        student.parse(config.student) if config.student else student.default(),
    )


def train_config(config: HRConfig) -> TrainConfig:
    """The one training budget every network of a fold gets."""
    return TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        patience=config.patience,
        seed=config.seed,
        device=config.device,
        regression_loss="l1",
    )


@dataclass
class FoldModels:
    """The trained networks of one fold, and their fit histories (``student_int8`` has none)."""

    teacher: nn.Module
    student: nn.Module
    student_kd: nn.Module
    student_int8: Int8Network
    fits: dict[str, FitResult]

    def get(self, name: str) -> nn.Module:
        return getattr(self, name)


def distillation_loss(teacher: nn.Module, config: HRConfig, target_std: float) -> RegressionDistillationLoss:
    """PULSE's loss: g·(b·L1(y) + (1−b)·L1(teacher)) + (1−g)·relation(embeddings), the L1 terms in units of
    the training targets' standard deviation so that they weigh against the (scale-free) relation term as
    ``g`` says, whatever the spread of heart rates."""
    return RegressionDistillationLoss(
        teacher,
        g=config.distill_gamma,
        b=config.distill_beta,
        w_distance=config.relation_distance,
        w_angle=config.relation_angle,
        l1_scale=target_std,
    )


def train_fold(
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    config: HRConfig,
    progress: Progress | None = None,
    which: Sequence[str] = MODELS,
) -> FoldModels:
    """Train the networks of one fold on ``x[train]`` (early stopping on ``x[val]``).

    Args:
        x: windows ``(n, 4, samples)``: PPG and accelerometer x/y/z at ``config.fs_hz``; y: BPM per window.
        train, val: window indices of the training and validation subjects.
        config: settings (one budget for every network).
        progress: gives progress callbacks for each network's training (None: no progress).
        which: the networks to train; ``student_kd`` needs ``teacher``, ``student_int8`` needs ``student_kd``.
    """
    shape = (int(x.shape[1]), int(x.shape[2]))
    teacher_arch, student_arch = architectures(config)
    inputs, target = input_scale(x[train]), target_scale(y[train])
    tc = train_config(config)
    data = (x[train], y[train], x[val], y[val])
    fits: dict[str, FitResult] = {}

    def trained(arch: Any, name: str, loss: Any = None) -> nn.Module:
        model = build_model(arch, HR_TASK, shape, seed=config.seed, target=target, inputs=inputs)
        callbacks = progress(name, tc.epochs) if progress else ()
        fits[name] = fit(model, *data, tc, callbacks, loss=loss, task=HR_TASK)
        return model.cpu().eval()

    teacher = trained(teacher_arch, "teacher") if "teacher" in which or "student_kd" in which else None
    student = trained(student_arch, "student") if "student" in which else None
    student_kd = None
    if "student_kd" in which:
        assert teacher is not None
        student_kd = trained(student_arch, "student_kd", distillation_loss(teacher, config, target[1]))
    student_int8 = None
    if "student_int8" in which:
        base = student_kd if student_kd is not None else student
        if base is None:
            raise ValueError("student_int8 needs student_kd or student")
        calibration = Int8Config(calibration_windows=min(config.calibration_windows, len(train)), seed=config.seed)
        student_int8 = quantize_int8(base, x[train], calibration)
    return FoldModels(teacher, student, student_kd, student_int8, fits)  # type: ignore[arg-type]
