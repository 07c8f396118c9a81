"""Compression on real MIT-BIH records: prune + k-means with exact encodings, int8 kernels, structured pruning."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from biowear.compress import StorageFormat, kmeans_quantize, one_shot, prune, quantized_storage_bytes
from biowear.compress.encode import decode_tensor, encode_tensor
from biowear.compress.int8 import int8_storage_bytes, quantize_int8
from biowear.compress.structured import structured_prune
from biowear.cost import profile
from biowear.models import ResNetLSTMGenes, build
from biowear.train import TrainConfig, evaluate, fit
from tests.conftest import require_dataset
from tests.realdata.helpers import binary_beats

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def mitdb_model():
    require_dataset("mitdb")
    data, split = binary_beats()
    arrays = (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
    model = build(ResNetLSTMGenes(1, 1, 4), 1, 2, seed=0)
    fit(model, *arrays, TrainConfig(epochs=3, batch_size=128, seed=0))
    base = evaluate(model, data.x[split.test], data.y[split.test], data.classes)
    return model.eval(), data, split, arrays, base


def test_prune_quantise_storage_decodes_to_the_network(mitdb_model):
    model, data, split, arrays, base = mitdb_model
    net = copy.deepcopy(model)
    prune(net, one_shot(0.8, "global", epochs=1), TrainConfig(epochs=1, batch_size=128, seed=0), arrays)
    books = kmeans_quantize(net, 4)
    params = dict(net.named_parameters())
    for book in books:  # what the storage figure counts is a working encoding of these exact weights
        enc = encode_tensor(book.positions, book.codes, book.numel, 16, "auto", huffman=True, codebook=book.centroids)
        np.testing.assert_array_equal(decode_tensor(enc), params[book.name].detach().numpy().reshape(-1))
    fp32 = profile(model, (1, 128)).storage_bytes(32)
    assert fp32 / quantized_storage_bytes(net, books, StorageFormat()) > 12
    after = evaluate(net, data.x[split.test], data.y[split.test], data.classes)
    assert after.accuracy > base.accuracy - 0.02, (after.accuracy, base.accuracy)


def test_int8_ptq_matches_float_on_real_beats(mitdb_model):
    model, data, split, arrays, base = mitdb_model
    q = quantize_int8(model, arrays[0])
    x = torch.from_numpy(data.x[split.test])
    with torch.no_grad():
        agree = float((q(x).argmax(1) == model(x).argmax(1)).float().mean())
    assert agree >= 0.98
    after = evaluate(q, data.x[split.test], data.y[split.test], data.classes)
    assert abs(after.accuracy - base.accuracy) < 0.01
    assert int8_storage_bytes(q) < 0.35 * profile(model, (1, 128)).storage_bytes(32)


def test_structured_pruning_shrinks_and_recovers(mitdb_model):
    model, data, split, arrays, base = mitdb_model
    net = copy.deepcopy(model)
    structured_prune(net, (1, 128), 0.5)
    fit(net, *arrays, TrainConfig(epochs=1, batch_size=128, seed=0))
    assert profile(net, (1, 128)).macs < 0.6 * profile(model, (1, 128)).macs
    after = evaluate(net, data.x[split.test], data.y[split.test], data.classes)
    majority = np.bincount(data.y[split.test]).max() / len(split.test)
    assert after.accuracy > majority + 0.05
