"""The family contract over every registered model family, and what each family declares."""

from __future__ import annotations

import pytest
from torch import nn

from biowear.errors import ConfigError
from biowear.models import FAMILIES, EcgCnnSpec, ResNetLSTMGenes, build_spec, family_of, spec_from_dict, spec_to_dict
from biowear.testing import check_family


@pytest.mark.parametrize("name", FAMILIES.names())
def test_family_contract(name):
    check_family(FAMILIES.get(name))


def test_resnet_lstm_keys_keep_the_model_paths():
    fam = FAMILIES.get("resnet_lstm")
    assert fam.key(ResNetLSTMGenes(4, 2, 5)) == "4-2-5"
    assert fam.parse(None) == ResNetLSTMGenes(4, 2, 5)
    assert [g.name for g in fam.genes()] == ["blocks", "x", "lstm_exp"]
    assert [g.bits for g in fam.genes()] == [4, 2, 3]


def test_ecg_cnn_genes_and_keys():
    fam = FAMILIES.get("ecg_cnn")
    assert {g.name: g.values for g in fam.genes()} == {
        "blocks": (1, 2, 3, 4, 5),
        "filters": (8, 16, 32),
        "dense": (16, 32),
    }
    arch = fam.from_genes({"blocks": 2, "filters": 8, "dense": 16})
    assert arch == EcgCnnSpec(blocks=2, filters=8, dense=16) and fam.key(arch) == "ecg_cnn-2-8-5-16"
    assert fam.parse(fam.label(arch)) == arch


def test_spec_helpers_are_thin_wrappers():
    for spec in (ResNetLSTMGenes(3, 2, 6), EcgCnnSpec(blocks=3)):
        assert spec_from_dict(spec_to_dict(spec)) == spec
    assert spec_to_dict(ResNetLSTMGenes(3, 2, 6)) == {"family": "resnet_lstm", "blocks": 3, "x": 2, "lstm_exp": 6}
    assert spec_to_dict(EcgCnnSpec()) == {"family": "ecg_cnn", "blocks": 5, "filters": 32, "kernel": 5, "dense": 32}
    assert spec_from_dict({"blocks": 1, "x": 1, "lstm_exp": 4}) == ResNetLSTMGenes(1, 1, 4)  # early model files
    assert family_of(EcgCnnSpec()) == "ecg_cnn"
    with pytest.raises(ConfigError, match="valid options are: resnet_lstm, ecg_cnn"):
        spec_from_dict({"family": "transformer"})


def test_regression_networks_have_one_output():
    model = build_spec(ResNetLSTMGenes(1, 1, 4), 1, 1, 128, seed=0)
    assert model.fc.out_features == 1


def _torch_pruning_ignored_today(model: nn.Module) -> list[nn.Module]:
    """What compress/structured.py ignored by attribute names before it read the family's data (the oracle)."""
    from biowear.models.layers import ChannelPad

    writers: list[nn.Module] = []
    if any(isinstance(m, ChannelPad) for m in model.modules()):
        stem = getattr(model, "stem", None)
        writers += [m for m in stem.modules() if isinstance(m, nn.Conv1d)] if stem is not None else []
        writers += [block.conv2 for block in getattr(model, "blocks", [])]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    lstms = [m for m in model.modules() if isinstance(m, nn.LSTM)]
    return [*lstms, *writers, *linears[-1:]]


@pytest.mark.parametrize(
    "spec", [ResNetLSTMGenes(4, 2, 5), ResNetLSTMGenes(3, 4, 4), ResNetLSTMGenes(0, 1, 4), EcgCnnSpec(blocks=2)]
)
def test_prune_ignore_matches_what_structured_pruning_leaves_today(spec):
    model = build_spec(spec, 1, 2, 128, seed=0)
    family = FAMILIES.get(family_of(spec))
    assert [id(m) for m in family.prune_ignore(model)] == [id(m) for m in _torch_pruning_ignored_today(model)]
