"""Per-layer cost rules: parameters, MACs, FLOPs and workspace of one call of a layer.

Conventions (per inference of one sample):

* MAC = one multiply-accumulate of a convolution, linear or LSTM gate product.
* FLOPs = 2 x MACs + bias additions + element-wise operations; an activation function (ReLU, sigmoid,
  tanh), a comparison of a max-pool, an addition or a multiplication each count as one FLOP.
* Batch norm at inference is one multiply and one add per element (2 FLOPs); dropout is free.
* Average pooling: per output, the adds of its window plus one division (window-size FLOPs).
* Layer norm over the last axis of size ``n``: per element the mean's add, the subtraction, the square, the
  variance's add and the scaling (5), plus multiply and add of the affine (2); per row one division for the
  mean, one for the variance and one reciprocal square root (3).
* Multi-head attention (Vaswani et al. 2017) with ``Lq`` query and ``Lk`` key tokens of width ``E`` (``h``
  heads of ``d = E / h``): MACs are the query, key, value and output projections (``Lq*E*E + Lk*kdim*E +
  Lk*vdim*E + Lq*E*E``) plus the scores ``Q K^T`` and the weighted sum ``A V`` (``h*Lq*Lk*d`` each); FLOPs add
  the projection biases, the ``1/sqrt(d)`` scaling of the queries (``Lq*E``) and the softmax, counted as the
  exponential, the running sum and the division (3 per score; the max subtraction for numerical range is not
  counted). Workspace: the projected Q, K, V, one head's score matrix (heads run one after another) and the
  concatenated head outputs before the output projection.

The profiler calls every rule on one sample; a layer may see that sample's sensor rows folded into its batch
axis (:class:`~biowear.models.layers.RowsToBatch`), so a rule counts the whole tensors of the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from biowear.models.layers import Add, ChannelPad, LastStepLSTM, RowsToBatch, RowsToChannels, Transpose


@dataclass(frozen=True)
class CallCost:
    """Cost of one call of one layer for one sample."""

    macs: int = 0
    flops: int = 0
    workspace_elems: int = 0


Rule = Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], CallCost]


def _per_sample(t: torch.Tensor) -> int:
    """Values of a tensor of a one-sample call (the batch axis is 1, or the sample's rows folded into it)."""
    return t.numel()


def conv1d_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    assert isinstance(m, nn.Conv1d)
    out_elems = _per_sample(out)
    macs = out_elems * (m.in_channels // m.groups) * m.kernel_size[0]
    return CallCost(macs=macs, flops=2 * macs + (out_elems if m.bias is not None else 0))


def linear_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    assert isinstance(m, nn.Linear)
    rows = _per_sample(out) // m.out_features
    macs = rows * m.in_features * m.out_features
    return CallCost(macs=macs, flops=2 * macs + (_per_sample(out) if m.bias is not None else 0))


def lstm_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    """One LSTM layer over T steps: 4 gates x (input + recurrent) products, 2 bias vectors (PyTorch),
    then per unit 3 sigmoids, 2 tanh, 3 multiplications and 1 addition."""
    assert isinstance(m, LastStepLSTM)
    lstm = m.lstm
    steps = inputs[0].shape[-1]
    h, i = lstm.hidden_size, lstm.input_size
    macs = steps * 4 * h * (i + h)
    n_bias = 2 if lstm.bias else 0
    flops = 2 * macs + steps * (n_bias * 4 * h + 9 * h)
    return CallCost(macs=macs, flops=flops, workspace_elems=6 * h)  # h, c and the 4 gate pre-activations


def elementwise(flops_per_elem: int) -> Rule:
    def rule(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
        return CallCost(flops=flops_per_elem * _per_sample(out))

    return rule


def maxpool_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    assert isinstance(m, nn.MaxPool1d)
    k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
    return CallCost(flops=(k - 1) * _per_sample(out))


def avgpool_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    assert isinstance(m, nn.AvgPool1d)
    return CallCost(flops=m.kernel_size[0] * _per_sample(out))


def adaptive_avgpool_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    """Bins ``[floor(i*L/n), ceil((i+1)*L/n))`` as PyTorch forms them: per bin its width in FLOPs."""
    length, bins = inputs[0].shape[-1], out.shape[-1]
    widths = sum(-(-(i + 1) * length // bins) - i * length // bins for i in range(bins))
    return CallCost(flops=widths * (_per_sample(out) // bins))


def layernorm_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    assert isinstance(m, nn.LayerNorm)
    size = 1
    for n in m.normalized_shape:
        size *= n
    elems = _per_sample(out)
    per_elem = 5 + (2 if m.elementwise_affine else 0)
    return CallCost(flops=per_elem * elems + 3 * (elems // size))


def attention_cost(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
    """``nn.MultiheadAttention`` called as ``(query, key, value)`` (batch-first or not, one sample)."""
    assert isinstance(m, nn.MultiheadAttention)
    query, key = inputs[0], inputs[1] if len(inputs) > 1 else inputs[0]

    def tokens(t: torch.Tensor) -> int:
        return t.shape[0] if t.dim() == 2 or not m.batch_first else t.shape[1]

    lq, lk = tokens(query), tokens(key)
    scored = lk + (m.bias_k is not None) + int(m.add_zero_attn)  # keys the scores span (extra bias/zero token)
    e, h = m.embed_dim, m.num_heads
    projections = lq * e * e + lk * m.kdim * e + lk * m.vdim * e + lq * e * e
    attention = 2 * lq * scored * e  # h heads x (QK^T + AV), each Lq x Lk x d
    macs = projections + attention
    biases = 2 * lq * e + 2 * lk * e if m.in_proj_bias is not None else 0
    flops = 2 * macs + biases + lq * e + 3 * h * lq * scored
    return CallCost(macs=macs, flops=flops, workspace_elems=2 * lq * e + 2 * scored * e + lq * scored)


#: Layer type -> rule. A module of one of these types is profiled as a unit (its children are not).
RULES: dict[type[nn.Module], Rule] = {
    nn.Conv1d: conv1d_cost,
    nn.Linear: linear_cost,
    LastStepLSTM: lstm_cost,
    nn.BatchNorm1d: elementwise(2),
    nn.ReLU: elementwise(1),
    nn.Sigmoid: elementwise(1),
    nn.Tanh: elementwise(1),
    Add: elementwise(1),
    nn.MaxPool1d: maxpool_cost,
    nn.Dropout: elementwise(0),
    ChannelPad: elementwise(0),
    nn.Identity: elementwise(0),
    nn.Flatten: elementwise(0),
    nn.AvgPool1d: avgpool_cost,
    nn.AdaptiveAvgPool1d: adaptive_avgpool_cost,
    nn.LayerNorm: layernorm_cost,
    nn.MultiheadAttention: attention_cost,
    RowsToBatch: elementwise(0),
    RowsToChannels: elementwise(0),
    Transpose: elementwise(0),
}


def find_rule(m: nn.Module, extra: Mapping[type[nn.Module], Callable] | None = None) -> Rule | None:
    """The rule for ``m``'s type (most specific registered base class), or None.

    ``extra`` rules (a model family's :meth:`~biowear.models.family.Family.cost_rules`) take precedence; they may
    return a :class:`CallCost` or a ``(macs, flops, workspace_elems)`` tuple.
    """
    for cls in type(m).__mro__:
        if extra and cls in extra:
            return _as_call_cost(extra[cls])
        if cls in RULES:
            return RULES[cls]
    return None


def _as_call_cost(rule: Callable) -> Rule:
    def wrapped(m: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> CallCost:
        cost = rule(m, inputs, out)
        return cost if isinstance(cost, CallCost) else CallCost(*map(int, cost))

    return wrapped


def inference_buffers(m: nn.Module) -> int:
    """Number of non-trainable values a layer needs at inference (batch-norm running statistics)."""
    if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
        return 2 * m.num_features
    return 0
