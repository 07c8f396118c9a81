"""Knowledge distillation losses: logits (Hinton et al. 2015) and relations (Park et al. 2019, RKD).

They plug into the one training loop as a ``loss`` for :func:`biowear.train.fit`: :class:`DistillationLoss` for
classification, :class:`RegressionDistillationLoss` (the PULSE form) for regression; :func:`distillation_loss`
picks the one of a task.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from biowear.data.task import Task
from biowear.errors import ConfigError
from biowear.registry import Registry
from biowear.train.target import ScaledOutput
from biowear.validate import Interval, check

#: What a distillation loss transfers from the teacher.
DISTILLATION_KINDS: Registry[str] = Registry("distillation kind")
DISTILLATION_KINDS.register("logit", "softened outputs (Hinton et al.)")
DISTILLATION_KINDS.register("relation", "distances and angles between embeddings (Park et al., RKD)")
DISTILLATION_KINDS.register("both", "logit and relation terms together")


def logit_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) on temperature-softened distributions, scaled by T**2 (Hinton et al.)."""
    t = temperature
    return (
        F.kl_div(F.log_softmax(student_logits / t, dim=1), F.softmax(teacher_logits / t, dim=1), reduction="batchmean")
        * t
        * t
    )


def _pairwise_distances(e: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(e, e, p=2)
    off_diag = d[~torch.eye(len(e), dtype=torch.bool, device=e.device)]
    return d / off_diag.mean().clamp_min(1e-8)


def rkd_distance_loss(student_emb: torch.Tensor, teacher_emb: torch.Tensor) -> torch.Tensor:
    """Distance-wise relational loss: Huber between mean-normalised pairwise distance matrices."""
    return F.smooth_l1_loss(_pairwise_distances(student_emb), _pairwise_distances(teacher_emb))


def _angles(e: torch.Tensor) -> torch.Tensor:
    diff = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)  # (i, j): unit vector from j to i
    return torch.bmm(diff, diff.transpose(1, 2)).flatten()  # cosine of angle (i, j, k) at vertex j


def rkd_angle_loss(student_emb: torch.Tensor, teacher_emb: torch.Tensor) -> torch.Tensor:
    """Angle-wise relational loss: Huber between cosines of the angles formed by every sample triplet."""
    return F.smooth_l1_loss(_angles(student_emb), _angles(teacher_emb))


def relation_loss(
    student_emb: torch.Tensor, teacher_emb: torch.Tensor, w_distance: float = 1.0, w_angle: float = 2.0
) -> torch.Tensor:
    """``w_distance * rkd_distance + w_angle * rkd_angle`` (Park et al.); embeddings may differ in width.

    A batch of fewer than two samples has no pairs and gives zero (not NaN); a zero weight skips its term.
    """
    total = torch.zeros((), device=student_emb.device)
    if len(student_emb) < 2:
        return total
    if w_distance:
        total = total + w_distance * rkd_distance_loss(student_emb, teacher_emb)
    if w_angle:
        total = total + w_angle * rkd_angle_loss(student_emb, teacher_emb)
    return total


def _embedding_module(model: nn.Module, name: str) -> nn.Module:
    """Submodule ``name`` of ``model``, or the one submodule whose path ends in ``.name`` (a wrapped network,
    e.g. ``net.embedding`` inside a :class:`~biowear.train.target.ScaledOutput`)."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        pass
    found = [m for path, m in model.named_modules() if path.endswith("." + name)]
    if len(found) != 1:
        what = "no submodule" if not found else f"{len(found)} submodules"
        raise ConfigError(f"{type(model).__name__} has {what} {name!r} to take embeddings from")
    return found[0]


def forward_with_embedding(model: nn.Module, x: torch.Tensor, embed: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(x)`` and the flattened output of its embedding submodule ``embed`` in that same pass."""
    module = _embedding_module(model, embed)
    store: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, i, o: store.append(o))
    try:
        out = model(x)
    finally:
        handle.remove()
    return out, store[-1].flatten(1)


def _freeze(teacher: nn.Module) -> None:
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)


def _follow(teacher: nn.Module, x: torch.Tensor) -> None:
    """Keep the teacher on the batch's device and in eval mode (BN statistics, dropout) for every call."""
    first = next(teacher.parameters(), None)
    if first is not None and first.device != x.device:
        teacher.to(x.device)
    if teacher.training:
        teacher.eval()


@dataclass
class DistillationLoss:
    """A training loss mixing cross-entropy with logit and/or relational distillation.

    Args:
        teacher: the trained teacher (kept in eval mode, no gradients).
        alpha: weight of the distillation terms; (1 - alpha) weighs the hard-label cross-entropy.
        temperature: softening temperature of logit distillation.
        kind: ``logit``, ``relation`` (distance + angle, weights ``w_distance``/``w_angle``) or ``both``.
        embed: name of the submodule whose output is the embedding for relational distillation, in both
            student and teacher (``lstm`` for the ResNet-LSTM family).
    """

    teacher: nn.Module
    alpha: float = 0.5
    temperature: float = 4.0
    kind: str = "logit"
    w_distance: float = 1.0
    w_angle: float = 2.0
    embed: str = "lstm"

    def __post_init__(self) -> None:
        DISTILLATION_KINDS.get(self.kind)
        if not 0 <= self.alpha <= 1 or self.temperature <= 0:
            raise ConfigError("alpha must be in [0, 1] and temperature > 0")
        _freeze(self.teacher)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _follow(self.teacher, x)
        need_emb = self.kind in ("relation", "both")
        if need_emb:
            s_logits, s_emb = forward_with_embedding(model, x, self.embed)
            with torch.no_grad():
                t_logits, t_emb = forward_with_embedding(self.teacher, x, self.embed)
        else:
            s_logits = model(x)
            with torch.no_grad():
                t_logits = self.teacher(x)
        loss = (1 - self.alpha) * F.cross_entropy(s_logits, y)
        kd = torch.zeros((), device=x.device)
        if self.kind in ("logit", "both"):
            kd = kd + logit_kd_loss(s_logits, t_logits, self.temperature)
        if need_emb:
            kd = kd + relation_loss(s_emb, t_emb, self.w_distance, self.w_angle)
        return loss + self.alpha * kd


def _column(out: torch.Tensor) -> torch.Tensor:
    """The single output column of a regression network: ``(B, 1)`` or ``(B,)`` -> ``(B,)``."""
    return out.reshape(len(out), -1)[:, 0]


@dataclass
class RegressionDistillationLoss:
    """The PULSE regression distillation loss, a ``loss`` for :func:`biowear.train.fit`::

        g * (b * L1(student, y) + (1 - b) * L1(student, teacher)) / l1_scale
            + (1 - g) * (w_distance * RKD_distance + w_angle * RKD_angle)(student embedding, teacher embedding)

    Units: inside :func:`fit`, a regression network built by :func:`biowear.train.build_model` is a
    :class:`~biowear.train.target.ScaledOutput`, so its outputs, the labels ``y`` and the teacher's estimates are
    all in the target's unit (BPM): with ``l1_scale=1`` the L1 terms are mean absolute errors in BPM, and ``g = b =
    1`` is exactly fit's own L1 loss. ``l1_scale`` = the training targets' standard deviation measures them in
    the standard units the wrapped network learns in instead, closer to the scale-free relational term. Teacher
    and student must agree: both such wrappers, or neither.

    Args:
        teacher: the trained teacher (kept in eval mode, frozen; no gradient reaches it).
        g: weight of the two output terms; ``1 - g`` weighs the relational term. In [0, 1].
        b: share of the label in the output terms; ``1 - b`` goes to the teacher's estimate. In [0, 1].
        w_distance, w_angle: weights of RKD's distance and angle terms (>= 0, not both 0 when ``g < 1``).
        embed: name of the embedding submodule in both networks (``embedding`` in the PULSE families; found
            inside a wrapper too). Teacher and student embeddings may differ in width.
        l1_scale: divisor of the L1 terms (> 0).
    """

    teacher: nn.Module
    g: float = 0.5
    b: float = 0.5
    w_distance: float = 1.0
    w_angle: float = 2.0
    embed: str = "embedding"
    l1_scale: float = 1.0

    RULES = {
        "g": Interval(float, 0, 1),
        "b": Interval(float, 0, 1),
        "w_distance": Interval(float, 0, None),
        "w_angle": Interval(float, 0, None),
        "l1_scale": Interval(float, 0, None, closed="right"),
    }

    def __post_init__(self) -> None:
        if not isinstance(self.teacher, nn.Module):
            raise ConfigError(f"the teacher must be a torch network, got {type(self.teacher).__name__}")
        check(self, self.RULES)
        if self.g < 1 and self.w_distance == 0 and self.w_angle == 0:
            raise ConfigError("the relational term has weight 1 - g > 0 but w_distance and w_angle are both 0")
        _freeze(self.teacher)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if isinstance(model, ScaledOutput) != isinstance(self.teacher, ScaledOutput):
            raise ConfigError(
                "teacher and student outputs are in different units: wrap both in ScaledOutput (build_model does) "
                "or neither"
            )
        _follow(self.teacher, x)
        need_emb, need_teacher = self.g < 1, self.b < 1 or self.g < 1
        if need_emb:
            s_out, s_emb = forward_with_embedding(model, x, self.embed)
        else:
            s_out = model(x)
        student = _column(s_out)
        loss = self.g * self.b * F.l1_loss(student, y) / self.l1_scale
        if need_teacher:
            with torch.no_grad():
                if need_emb:
                    t_out, t_emb = forward_with_embedding(self.teacher, x, self.embed)
                else:
                    t_out = self.teacher(x)
            loss = loss + self.g * (1 - self.b) * F.l1_loss(student, _column(t_out)) / self.l1_scale
        if need_emb:
            loss = loss + (1 - self.g) * relation_loss(s_emb, t_emb, self.w_distance, self.w_angle)
        return loss


#: The distillation loss of each task kind (:data:`biowear.data.task.TASK_KINDS`).
DISTILLATION_LOSSES: Registry[type] = Registry("distillation loss")
DISTILLATION_LOSSES.register("classification", DistillationLoss)
DISTILLATION_LOSSES.register("regression", RegressionDistillationLoss)


def distillation_loss(
    task: Task, teacher: nn.Module, **settings: object
) -> DistillationLoss | RegressionDistillationLoss:
    """The distillation loss for ``task`` with ``teacher`` and the class's own ``settings`` (see each class).

    Raises:
        ConfigError: a setting the task's loss does not have, or an invalid value.
    """
    cls = DISTILLATION_LOSSES.get(task.kind)
    valid = set(cls.__dataclass_fields__) - {"teacher"}
    unknown = sorted(set(settings) - valid)
    if unknown:
        raise ConfigError(f"{cls.__name__} has no setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
    return cls(teacher, **settings)
