from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biowear.compress import (
    DistillationLoss,
    StorageFormat,
    iterative,
    kmeans_quantize,
    magnitude_masks,
    multistage,
    one_shot,
    prunable_parameters,
    prune,
    quantized_storage_bytes,
    rkd_angle_loss,
    rkd_distance_loss,
)
from biowear.compress.encode import HEADER_BITS
from biowear.cost import profile
from biowear.errors import ConfigError
from biowear.models import ResNetLSTMGenes, build
from biowear.train import TrainConfig, evaluate, fit


@pytest.fixture(scope="module")
def trained(task):
    data, split, arrays = task
    model = build(ResNetLSTMGenes(1, 1, 5), 1, 2, seed=0)
    fit(model, *arrays, TrainConfig(epochs=3, batch_size=64))
    return model


def copy_of(model):
    clone = build(ResNetLSTMGenes(1, 1, 5), 1, 2, seed=1)
    clone.load_state_dict(model.state_dict())
    return clone


def test_prunable_parameters_cover_conv_dense_lstm_weights_only():
    names = set(prunable_parameters(build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)))
    assert {
        "stem.0.weight",
        "blocks.0.conv1.weight",
        "lstm.lstm.weight_ih_l0",
        "lstm.lstm.weight_hh_l0",
        "fc.weight",
    } <= names
    assert not any("bias" in n or n.startswith("stem.1") for n in names)


def test_layerwise_sparsity_is_exact_in_every_layer():
    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)
    masks = magnitude_masks(prunable_parameters(model), 0.7, "layer")
    for name, m in masks.items():
        assert abs((1 - float(m.mean())) - 0.7) <= 1 / m.numel() + 1e-9, name


def test_global_pruning_hits_the_global_target_with_uneven_layers():
    model = build(ResNetLSTMGenes(2, 1, 4), 1, 2, seed=0)
    params = prunable_parameters(model)
    masks = magnitude_masks(params, 0.6, "global")
    total = sum(m.numel() for m in masks.values())
    assert abs(sum(float((m == 0).sum()) for m in masks.values()) / total - 0.6) <= 1 / total
    per_layer = [1 - float(m.mean()) for m in masks.values()]
    assert max(per_layer) - min(per_layer) > 0.1  # class-blind: layers differ
    threshold = max(
        float(p.detach().abs()[m == 0].max()) for p, m in zip(params.values(), masks.values()) if (m == 0).any()
    )
    kept_min = min(float(p.detach().abs()[m == 1].min()) for p, m in zip(params.values(), masks.values()))
    assert threshold <= kept_min


def test_schedules():
    assert [s.sparsity for s in iterative(0.6, 3)] == pytest.approx([0.2, 0.4, 0.6])
    stages = multistage(0.6, [["blocks.*"], ["stem.*", "fc.*"]])
    assert [s.layers for s in stages] == [("blocks.*",), ("stem.*", "fc.*")]
    with pytest.raises(ConfigError):
        one_shot(1.0)
    with pytest.raises(ConfigError):
        one_shot(-0.1)


def test_one_shot_prune_keeps_zeros_through_fine_tuning(task, trained):
    data, split, arrays = task
    model = copy_of(trained)
    result = prune(model, one_shot(0.8, epochs=1), TrainConfig(batch_size=64), arrays)
    assert abs(result.sparsity - 0.8) < 0.01
    for name, p in prunable_parameters(model).items():
        assert torch.equal(p.detach() == 0, result.masks[name] == 0) or (p.detach()[result.masks[name] == 0] == 0).all()
    cost = profile(model, (1, 128))
    assert cost.effective_macs < 0.3 * cost.macs + 1 and cost.sparsity > 0.7
    assert cost.storage_bytes(32, fmt="bitmask") < 0.35 * cost.storage_bytes(32)
    acc = evaluate(model, data.x[split.test], data.y[split.test], data.classes).accuracy
    assert acc > np.bincount(data.y[split.test]).max() / len(split.test)


def test_multistage_prunes_groups_in_turn(task, trained):
    data, split, arrays = task
    model = copy_of(trained)
    result = prune(
        model, multistage(0.5, [["blocks.*"], ["lstm.*"]], epochs_per_stage=1), TrainConfig(batch_size=64), arrays
    )
    layer = result.layer_sparsity()
    assert all(abs(v - 0.5) < 0.01 for k, v in layer.items() if k.startswith(("blocks.", "lstm.")))
    assert all(v == 0 for k, v in layer.items() if k.startswith(("stem.", "fc.")))
    assert result.stage_sparsity[0] < result.stage_sparsity[1]
    with pytest.raises(ConfigError, match="match no prunable weight"):
        prune(copy_of(trained), multistage(0.5, [["nope.*"]], epochs_per_stage=0))


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_kmeans_codes_codebooks_and_storage(trained, bits):
    model = copy_of(trained)
    books = kmeans_quantize(model, bits)
    for book, (name, p) in zip(books, prunable_parameters(model).items()):
        assert book.name == name
        values = np.unique(p.detach().numpy())
        assert len(values) <= 2**bits + 1  # centroids, plus zero if any weight is exactly zero
        assert np.all(np.diff(book.centroids) > 0)  # codes ordered by centroid value
        assert book.codes.max() < 2**bits
    dense = quantized_storage_bytes(model, books, StorageFormat("dense", huffman=False))
    n_weights = sum(b.numel for b in books)
    other = sum(p.numel() for n, p in model.named_parameters() if n not in {b.name for b in books})
    buffers = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    codebooks = sum(32 * b.centroids.size for b in books)  # a layer may have fewer than 2**bits distinct values
    expected = (n_weights * bits + codebooks + len(books) * HEADER_BITS + 32 * (other + buffers)) / 8
    assert dense == expected
    assert quantized_storage_bytes(model, books, StorageFormat("dense", huffman=False, other_bits=16)) == (
        expected - 16 * (other + buffers) / 8
    )
    assert quantized_storage_bytes(model, books) <= dense + len(books) * 4 / 8  # auto: best format + 4-bit tag
    with pytest.raises(ConfigError):
        kmeans_quantize(model, 9)


def test_prune_then_quantize_compresses_and_keeps_zeros(task, trained):
    data, split, arrays = task
    model = copy_of(trained)
    prune(model, one_shot(0.7, epochs=0))
    books = kmeans_quantize(model, 4)
    zeros = sum(int((p == 0).sum()) for p in prunable_parameters(model).values())
    assert zeros >= 0.69 * sum(b.numel for b in books)
    fp32 = profile(model, (1, 128)).storage_bytes(32)
    bitmask = quantized_storage_bytes(model, books, StorageFormat("bitmask", huffman=False))
    assert fp32 / bitmask > 5
    assert quantized_storage_bytes(model, books) < bitmask  # relative gaps + Huffman beat the mask at 70%


def test_relational_losses_by_construction():
    torch.manual_seed(0)
    e = torch.randn(8, 5)
    assert float(rkd_distance_loss(e, 3 * e)) == pytest.approx(0.0, abs=1e-6)  # scale invariant
    assert float(rkd_angle_loss(e, 2 * e + 1)) == pytest.approx(0.0, abs=1e-6)  # similarity invariant
    assert float(rkd_distance_loss(e, torch.randn(8, 5))) > 0.01


def test_distillation_moves_the_student_toward_the_teacher(task, trained):
    data, split, arrays = task
    x_test = torch.as_tensor(data.x[split.test])
    with torch.no_grad():
        teacher_p = torch.softmax(trained.eval()(x_test), 1)

    def gap(student):
        with torch.no_grad():
            return float((torch.softmax(student.eval()(x_test), 1) - teacher_p).abs().mean())

    gaps = {}
    for alpha in (0.0, 0.9):  # hard labels only vs mostly distillation, same seed and budget
        student = build(ResNetLSTMGenes(1, 2, 4), 1, 2, seed=5)
        if alpha == 0.0:
            gaps["before"] = gap(student)
        fit(
            student,
            *arrays,
            TrainConfig(epochs=3, batch_size=64, lr=3e-3, patience=0),
            loss=DistillationLoss(trained, alpha=alpha, kind="both"),
        )
        gaps[alpha] = gap(student)
    assert gaps[0.9] < gaps[0.0] < gaps["before"]
    with pytest.raises(ConfigError):
        DistillationLoss(nn.Linear(2, 2), kind="feature")
