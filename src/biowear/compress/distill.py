"""Knowledge distillation losses: logits (Hinton et al. 2015) and relations (Park et al. 2019, RKD).

Both plug into the one training loop through :class:`DistillationLoss`, a ``loss`` for :func:`fit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from biowear.errors import ConfigError
from biowear.registry import Registry

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
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def _forward_with_embedding(self, model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            module = model.get_submodule(self.embed)
        except AttributeError:
            raise ConfigError(
                f"{type(model).__name__} has no submodule {self.embed!r} to take embeddings from"
            ) from None
        store: list[torch.Tensor] = []
        handle = module.register_forward_hook(lambda m, i, o: store.append(o))
        try:
            logits = model(x)
        finally:
            handle.remove()
        return logits, store[-1].flatten(1)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if next(self.teacher.parameters()).device != x.device:
            self.teacher.to(x.device)
        need_emb = self.kind in ("relation", "both")
        if need_emb:
            s_logits, s_emb = self._forward_with_embedding(model, x)
            with torch.no_grad():
                t_logits, t_emb = self._forward_with_embedding(self.teacher, x)
        else:
            s_logits = model(x)
            with torch.no_grad():
                t_logits = self.teacher(x)
        loss = (1 - self.alpha) * F.cross_entropy(s_logits, y)
        kd = torch.zeros((), device=x.device)
        if self.kind in ("logit", "both"):
            kd = kd + logit_kd_loss(s_logits, t_logits, self.temperature)
        if need_emb:
            kd = kd + self.w_distance * rkd_distance_loss(s_emb, t_emb) + self.w_angle * rkd_angle_loss(s_emb, t_emb)
        return loss + self.alpha * kd
