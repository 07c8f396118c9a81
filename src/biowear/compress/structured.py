"""Structured (filter/channel) pruning: a physically smaller network, so dense kernels get faster.

Convolution filters and dense units are removed with Torch-Pruning (Fang et al. 2023), which follows the
dependency graph (a removed filter takes its batch-norm channel and the next layer's input channel with it).
Importance is the L1 norm of a channel's weights over its whole dependency group (Li et al. 2017).

What Torch-Pruning does not handle here, and how it is covered:

* **LSTM.** Its LSTM pruner fails on ``batch_first`` LSTMs (IndexError in torch-pruning 1.6), so the LSTM is kept
  out of its graph and :func:`prune_lstm_hidden` removes hidden units itself: the four gate rows of
  ``weight_ih``/``weight_hh``/biases, the matching ``weight_hh`` columns and the next dense layer's inputs,
  ranked by the L1 norm of the unit's incoming and outgoing weights.
* **Zero-padded residual streams.** ResNet-LSTM shortcuts zero-pad the channel axis when the filter count
  grows; the graph cannot map a pruned channel through that padding, so the residual stream (the stem and
  every block's second convolution) keeps its width and only each block's inner channels are pruned.
* **The output layer** keeps one unit per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from biowear.compress.rules import SPARSITY
from biowear.errors import ConfigError
from biowear.models.family import family_of_network
from biowear.models.layers import LastStepLSTM
from biowear.train.target import ScaledInput, ScaledOutput
from biowear.validate import check_value


@dataclass(frozen=True)
class StructuredResult:
    """Channel counts before and after, per pruned layer (``out`` channels / hidden units)."""

    ratio: float
    widths_before: dict[str, int]
    widths_after: dict[str, int]


def _widths(model: nn.Module) -> dict[str, int]:
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv1d):
            out[name] = m.out_channels
        elif isinstance(m, nn.Linear):
            out[name] = m.out_features
        elif isinstance(m, nn.LSTM):
            out[name] = m.hidden_size
    return out


def _plan(model: nn.Module) -> tuple[list[nn.Module], list[tuple[LastStepLSTM, nn.Linear]]]:
    """What Torch-Pruning must leave alone and which (LSTM, consumer) pairs lose hidden units: from the model
    family's :class:`~biowear.models.family.Prunable` when a registered family built ``model``; otherwise
    every LSTM and the last dense layer are left alone."""
    found = family_of_network(model)
    if found is None:
        lstms = [m for m in model.modules() if isinstance(m, nn.LSTM)]
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        return [*lstms, *linears[-1:]], []
    prunable = found[0].prunable(model)
    named = dict(model.named_modules())
    pairs = [(named[a], named[b]) for a, b in prunable.recurrent]
    return prunable.ignored_modules(model), [(a, b) for a, b in pairs if isinstance(a, LastStepLSTM)]


def prune_lstm_hidden(lstm: nn.LSTM, consumer: nn.Linear, ratio: float) -> nn.LSTM:
    """A one-layer LSTM with ``ratio`` of its hidden units removed; ``consumer``'s inputs are cut to match.

    Returns:
        The new LSTM (``consumer`` is modified in place).
    """
    if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size:
        raise ConfigError("hidden-unit pruning handles one-layer, unidirectional LSTMs without projection")
    hidden = lstm.hidden_size
    keep_n = max(1, hidden - int(round(ratio * hidden)))
    w_ih, w_hh = lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach()
    incoming = (w_ih.abs().sum(1) + w_hh.abs().sum(1)).view(4, hidden).sum(0)
    outgoing = w_hh.abs().sum(0) + consumer.weight.detach().abs().sum(0)
    keep = torch.sort(torch.argsort(incoming + outgoing, descending=True, stable=True)[:keep_n]).values
    rows = torch.cat([g * hidden + keep for g in range(4)])
    new = nn.LSTM(lstm.input_size, keep_n, batch_first=lstm.batch_first, bias=lstm.bias)
    with torch.no_grad():
        new.weight_ih_l0.copy_(w_ih[rows])
        new.weight_hh_l0.copy_(w_hh[rows][:, keep])
        if lstm.bias:
            new.bias_ih_l0.copy_(lstm.bias_ih_l0[rows])
            new.bias_hh_l0.copy_(lstm.bias_hh_l0[rows])
        consumer.weight = nn.Parameter(consumer.weight.detach()[:, keep].clone())
        consumer.in_features = keep_n
    return new.to(lstm.weight_ih_l0.device)


def structured_prune(
    model: nn.Module, input_shape: tuple[int, ...], ratio: float, lstm: bool = True
) -> StructuredResult:
    """Remove ``ratio`` of the prunable channels of every layer, in place (no fine-tuning).

    Args:
        model: a biowear network (ResNet-LSTM or the Kachuee CNN, or any Conv1d/Linear network).
        input_shape: one sample's ``(channels, length)``.
        ratio: fraction of channels removed per layer, in (0, 1).
        lstm: also remove LSTM hidden units (see :func:`prune_lstm_hidden`).

    Raises:
        ConfigError: ratio outside (0, 1) or a network with nothing to prune structurally.
    """
    import torch_pruning as tp

    if isinstance(model, (ScaledOutput, ScaledInput)):  # prune the wrapped network, keep the fixed scaling
        return structured_prune(model.net, input_shape, ratio, lstm)
    check_value("structured_prune", "ratio", ratio, SPARSITY)
    model.eval()
    before = _widths(model)
    if not any(isinstance(m, (nn.Conv1d, nn.Linear)) for m in model.modules()):
        raise ConfigError(f"{type(model).__name__} has no Conv1d or Linear layers to prune structurally")
    ignored, recurrent = _plan(model)
    example = torch.zeros((1, *input_shape), device=next(model.parameters()).device)
    pruner = tp.pruner.MetaPruner(
        model,
        example,
        importance=tp.importance.MagnitudeImportance(p=1),
        pruning_ratio=ratio,
        ignored_layers=ignored,
    )
    pruner.step()
    for cell, consumer in recurrent if lstm else ():
        cell.lstm = prune_lstm_hidden(cell.lstm, consumer, ratio)
    return StructuredResult(ratio, before, _widths(model))
