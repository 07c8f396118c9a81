"""Architecture families; each family = declarative genes/spec + build(...) -> nn.Module."""

from __future__ import annotations

from dataclasses import asdict

import torch
from torch import nn

from biowear.errors import ConfigError
from biowear.models.ecg_cnn import EcgCnnSpec, KachueeCNN
from biowear.models.resnet_lstm import ResNetLSTM, ResNetLSTMGenes, build, grid

ModelSpec = ResNetLSTMGenes | EcgCnnSpec
FAMILIES: tuple[str, ...] = ("resnet_lstm", "ecg_cnn")
#: Architecture used when none is given: the issue's example point, and Kachuee's published network.
DEFAULT_ARCH: dict[str, str] = {"resnet_lstm": "blocks=4,x=2,lstm=32", "ecg_cnn": ""}


def family_of(spec: ModelSpec) -> str:
    return "ecg_cnn" if isinstance(spec, EcgCnnSpec) else "resnet_lstm"


def parse_spec(family: str, arch: str | None = None) -> ModelSpec:
    """A model spec from a family name and an architecture string (None: the family's default; error lists the
    valid families)."""
    if family in DEFAULT_ARCH and arch is None:
        arch = DEFAULT_ARCH[family]
    if family == "resnet_lstm":
        return ResNetLSTMGenes.parse(arch)
    if family == "ecg_cnn":
        return EcgCnnSpec.parse(arch)
    raise ConfigError(f"unknown model family {family!r}; valid options are: {', '.join(FAMILIES)}")


def spec_to_dict(spec: ModelSpec) -> dict[str, object]:
    return {"family": family_of(spec), **asdict(spec)}


def spec_from_dict(d: dict[str, object]) -> ModelSpec:
    d = dict(d)
    family = d.pop("family", "resnet_lstm")
    if family == "ecg_cnn":
        return EcgCnnSpec(**d)  # type: ignore[arg-type]
    return ResNetLSTMGenes(**d)  # type: ignore[arg-type]


def build_spec(
    spec: ModelSpec,
    in_channels: int,
    n_classes: int,
    input_length: int,
    seed: int | None = None,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Build any family's network; with ``seed`` the initial weights are reproducible."""
    if isinstance(spec, ResNetLSTMGenes):
        return build(spec, in_channels, n_classes, seed=seed, device=device)
    if device is not None and torch.device(device).type == "meta":
        with torch.device("meta"):
            return KachueeCNN(spec, in_channels, n_classes, input_length)
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        model = KachueeCNN(spec, in_channels, n_classes, input_length)
    return model.to(device) if device is not None else model


__all__ = [
    "DEFAULT_ARCH",
    "FAMILIES",
    "EcgCnnSpec",
    "KachueeCNN",
    "ModelSpec",
    "ResNetLSTM",
    "ResNetLSTMGenes",
    "build",
    "build_spec",
    "family_of",
    "grid",
    "parse_spec",
    "spec_from_dict",
    "spec_to_dict",
]
