"""Compression as plugins: the shared config, registered producers, importance x scope, the compression space."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

from biowear.compress import (
    IMPORTANCES,
    PRODUCERS,
    PRUNE_METHODS,
    SCOPES,
    CompressionConfig,
    Produced,
    PruneMethod,
    Variant,
    magnitude_masks,
    prunable_parameters,
    prune_method,
    with_axes,
)
from biowear.compress.int8 import Int8Config
from biowear.compress.producers import ProduceContext, check_producer
from biowear.compress.search import CompressionSpace
from biowear.compress.sweep import sweep
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.train import TrainConfig


# ------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sparsities": (0.5, float("nan"))}, r"sparsities must be .* in \(0, 1\), got \(0.5, nan\)"),
        ({"sparsities": (1.0,)}, r"sparsities must be .* in \(0, 1\)"),
        ({"sparsities": (0.0,)}, r"sparsities must be .* in \(0, 1\)"),
        ({"structured": (1.0,)}, r"structured must be .* in \(0, 1\)"),
        ({"bits": (2.7,)}, r"bits must be .* an integer in \[1, 8\]"),
        ({"bits": (9,)}, r"bits must be .* an integer in \[1, 8\]"),
        ({"bits": (4, 4)}, r"bits must be a distinct list"),
        ({"finetune_epochs": float("nan")}, "finetune_epochs must be an integer >= 0"),
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"methods": ("random",)}, "valid options are: layer, global, lamp, or <importance>-<scope>"),
        ({"methods": ("fisher-layer",)}, "valid options are: layer, global, lamp"),
        ({"schedules": ("lottery",)}, "valid options are: one-shot, iterative, multistage"),
        ({"qat_epochs": 2}, "qat_epochs needs int8"),
        ({"sparsities": "0.5"}, "sparsities must be a list"),
    ],
)
def test_config_refuses_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        CompressionConfig(**kwargs)


def test_config_is_frozen_normalised_and_round_trips():
    cfg = CompressionConfig(methods=["lamp-layer"], sparsities=[0.5], bits=[2.0, 4], int8=Int8Config(), qat_epochs=1)
    assert cfg.bits == (2, 4) and all(type(b) is int for b in cfg.bits) and cfg.methods == ("lamp-layer",)
    with pytest.raises(AttributeError):
        cfg.bits = (3,)  # type: ignore[misc]
    doc = json.loads(json.dumps(cfg.to_dict()))
    assert CompressionConfig.from_dict(doc) == cfg
    assert CompressionConfig().to_dict() != CompressionConfig(storage=cfg.storage.__class__(huffman=False)).to_dict()
    with pytest.raises(ConfigError, match="unknown compression setting.*valid options are"):
        CompressionConfig.from_dict({"sparsity": [0.5]})


def test_sparsity_interval_is_one_rule_everywhere():
    from biowear.compress.prune import Stage
    from biowear.compress.structured import structured_prune

    params = {"w": torch.arange(1.0, 11.0)}
    for bad in (0.0, 1.0, float("nan")):
        for call in (
            lambda bad=bad: Stage(bad),
            lambda bad=bad: magnitude_masks(params, bad, "layer"),
            lambda bad=bad: structured_prune(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2)), (4,), bad),
            lambda bad=bad: CompressionConfig(sparsities=(bad,)),
        ):
            with pytest.raises(ConfigError, match=r"in \(0, 1\)"):
                call()
    space = CompressionSpace(sparsities=(0.0, 0.5))  # the space's 0 means "not pruned"
    assert space.points[0].method == "none"


# ------------------------------------------------------------------------------------------------- importance x scope
def test_method_names_keep_the_first_labels_and_name_new_pairs():
    assert [prune_method(n) for n in ("layer", "global", "lamp")] == [
        PruneMethod("magnitude", "layer"),
        PruneMethod("magnitude", "global"),
        PruneMethod("lamp", "global"),
    ]
    assert prune_method("magnitude-global").name == "global" and prune_method("lamp-layer").name == "lamp-layer"
    assert with_axes(IMPORTANCES.names(), SCOPES.names()) == ("layer", "global", "lamp-layer", "lamp")
    assert PRUNE_METHODS.names() == ["layer", "global", "lamp"]


def test_lamp_per_layer_removes_exactly_the_weights_magnitude_per_layer_removes():
    from biowear.compress.importance import lamp_scores

    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)
    params = prunable_parameters(model)
    with torch.no_grad():  # ties and zeros too: both rank them by flat index
        first = next(iter(params.values()))
        first.view(-1)[:6] = torch.tensor([0.0, 0.0, 0.3, -0.3, 0.3, 1e-9])
    for name, p in params.items():  # LAMP is monotone in |w| within one tensor
        order = torch.argsort(p.detach().abs().flatten(), stable=True)
        assert bool((torch.diff(lamp_scores(p).flatten()[order]) >= 0).all()), name
    for sparsity in (0.3, 0.7, 0.95):
        magnitude = magnitude_masks(params, sparsity, "layer")
        lamp = magnitude_masks(params, sparsity, "lamp-layer")
        assert all(torch.equal(magnitude[n], lamp[n]) for n in params)
    assert not all(torch.equal(a, b) for a, b in zip(magnitude_masks(params, 0.7, "lamp").values(), magnitude.values()))


# ------------------------------------------------------------------------------------------------- producers
class Halve:
    """A user's producer: every weight halved (storage left to the measurer)."""

    name, reads, refinable, refines = "halve", (), True, False

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return (Variant("halved"),)

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        net = copy.deepcopy(base)
        with torch.no_grad():
            for p in prunable_parameters(net).values():
                p.mul_(0.5)
        return Produced(net)


@pytest.fixture
def halve():
    PRODUCERS.register("halve", Halve())
    yield
    PRODUCERS.unregister("halve")


def test_a_registered_producer_is_swept_and_refined(task, halve):
    data, split, arrays = task
    model = build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)
    points = sweep(model, data, split, TrainConfig(epochs=1), CompressionConfig(methods=(), bits=(2,)))
    assert [p.label() for p in points] == ["original", "kmeans q=2", "original+finetune", "halved", "halved+kmeans q=2"]
    halved = points[3]
    assert halved.storage_bytes == points[0].storage_bytes and halved.macs == points[0].macs
    only = CompressionConfig(methods=(), bits=(2,), producers=("halve",))
    assert [p.label() for p in sweep(model, data, split, TrainConfig(epochs=1), only)] == [
        "original",
        "halved",
    ]
    with pytest.raises(
        ConfigError, match="valid options are: control, kmeans, int8-ptq, int8-qat, structured, prune, halve"
    ):
        sweep(model, data, split, TrainConfig(epochs=1), CompressionConfig(producers=("double",)))


def test_every_registered_producer_keeps_the_contract(task, halve):
    data, split, arrays = task
    model = build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)
    config = CompressionConfig(
        sparsities=(0.5,), bits=(2,), finetune_epochs=0, int8=Int8Config(), qat_epochs=1, structured=(0.5,)
    )
    small = tuple(a[:64] for a in arrays)
    context = ProduceContext(config, TrainConfig(epochs=1, batch_size=32), small, (1, 128))  # type: ignore[arg-type]
    for name in PRODUCERS:
        check_producer(PRODUCERS.get(name), config, model, context)

    class Broken(Halve):
        reads = ("sparsity",)

    with pytest.raises(AssertionError, match="unknown settings"):
        check_producer(Broken(), config, model, context)


# ------------------------------------------------------------------------------------------------- space
def test_the_compression_space_keeps_the_search_space_contract():
    from biowear.search.protocol import SearchSpace
    from biowear.testing import check_search_space

    space = CompressionSpace(("layer", "lamp-layer"), (0.0, 0.5, 0.8), (2, 4, 8))
    assert isinstance(space, SearchSpace)
    check_search_space(space)
    assert space.chromosome_length == 1 + 2 + 2


def test_the_control_arm_is_a_reference_never_the_chosen_variant():
    from biowear.compress.points import CompressionPoint, against_best_reference, best_within_loss
    from biowear.train.metrics import compute_regression_metrics

    m = compute_regression_metrics(np.zeros(2), np.zeros(2))

    def point(method, quality, compression):
        return CompressionPoint(method, 0.0, None, quality, 0.0, m, 100.0 / compression, compression, 1, 1, 0.1)

    points = against_best_reference(
        [point("original", 0.90, 1.0), point("original+finetune", 0.95, 1.0), point("kmeans", 0.94, 6.0)], "accuracy"
    )
    assert [round(p.quality_loss, 6) for p in points] == [5.0, 0.0, 1.0]  # against the better of the two
    assert best_within_loss(points, 0.5) is None and best_within_loss(points, 1.0).method == "kmeans"
