"""Model families as plugins (see :mod:`biowear.models.family`); each registers one :class:`Family` here."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from biowear.models.ecg_cnn import EcgCnnFamily, EcgCnnSpec, KachueeCNN
from biowear.models.family import FAMILIES, Family, Gene, Prunable, family_for, get_family
from biowear.models.pulse import (
    PulseStudent,
    PulseStudentArch,
    PulseStudentFamily,
    PulseTeacher,
    PulseTeacherArch,
    PulseTeacherFamily,
)
from biowear.models.resnet_lstm import ResNetLSTM, ResNetLSTMFamily, ResNetLSTMGenes, build, grid

FAMILIES.register("resnet_lstm", ResNetLSTMFamily())
FAMILIES.register("ecg_cnn", EcgCnnFamily())
FAMILIES.register("pulse_teacher", PulseTeacherFamily())
FAMILIES.register("pulse_student", PulseStudentFamily())

#: Any registered family's architecture (a frozen dataclass).
ModelSpec = Any


def family_of(spec: object) -> str:
    """Name of the family an architecture belongs to."""
    return family_for(spec).name


def parse_spec(family: str, arch: str | None = None) -> Any:
    """A model spec from a family name and an architecture string (None: the family's default; error lists the
    valid families)."""
    return FAMILIES.get(family).parse(arch)


def spec_to_dict(spec: object) -> dict[str, object]:
    """``{"family": name, **fields}``, the form saved in model files."""
    family = family_for(spec)
    return {"family": family.name, **family.to_dict(spec)}


def spec_from_dict(d: dict[str, object]) -> Any:
    """Inverse of :func:`spec_to_dict` (a missing ``family`` means ``resnet_lstm``, as in early model files)."""
    return FAMILIES.get(str(d.get("family", "resnet_lstm"))).from_dict(d)


def build_spec(
    spec: object,
    in_channels: int,
    n_classes: int,
    input_length: int,
    seed: int | None = None,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Build any family's network; with ``seed`` the initial weights are reproducible."""
    return family_for(spec).build(spec, (in_channels, input_length), n_classes, seed=seed, device=device)


__all__ = [
    "FAMILIES",
    "EcgCnnFamily",
    "EcgCnnSpec",
    "Family",
    "Gene",
    "KachueeCNN",
    "ModelSpec",
    "Prunable",
    "PulseStudent",
    "PulseStudentArch",
    "PulseStudentFamily",
    "PulseTeacher",
    "PulseTeacherArch",
    "PulseTeacherFamily",
    "ResNetLSTM",
    "ResNetLSTMFamily",
    "ResNetLSTMGenes",
    "build",
    "build_spec",
    "family_for",
    "family_of",
    "get_family",
    "grid",
    "parse_spec",
    "spec_from_dict",
    "spec_to_dict",
]
