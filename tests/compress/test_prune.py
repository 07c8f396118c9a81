from __future__ import annotations

import pytest

from biowear.errors import ConfigError


def test_named_schedules_share_the_finetuning_budget():
    from torch import nn

    from biowear.compress.prune import depth_groups, prunable_parameters, schedule

    net = nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Conv1d(4, 4, 3), nn.Flatten(), nn.Linear(8, 2))
    groups = depth_groups(net, 2)
    names = list(prunable_parameters(net))
    assert [n for g in groups for n in g] == names[::-1]  # every weight once, deepest first
    assert len(groups) == 2
    one = schedule("one-shot", 0.6, "layer", 6, 3, net)
    it = schedule("iterative", 0.6, "global", 6, 3, net)
    ms = schedule("multistage", 0.6, "layer", 6, 3, net)
    assert [st.epochs for st in one] == [6] and [round(st.sparsity, 2) for st in it] == [0.2, 0.4, 0.6]
    assert (
        sum(st.epochs for st in it) == 6 and sum(st.epochs for st in ms) == 6 and {st.scope for st in it} == {"global"}
    )
    assert all(st.sparsity == 0.6 for st in ms)
    with pytest.raises(ConfigError, match="valid options are"):
        schedule("lottery", 0.5, "layer", 2, 2, net)
    with pytest.raises(ConfigError, match="needs the model"):
        schedule("multistage", 0.5, "layer", 2, 2, None)


def test_lamp_scores_by_hand_and_no_layer_is_emptied():
    import torch

    from biowear.compress.prune import lamp_scores, magnitude_masks

    scores = lamp_scores(torch.tensor([2.0, -1.0, 3.0]))
    torch.testing.assert_close(scores, torch.tensor([4 / 13, 1 / 14, 1.0], dtype=torch.float64))
    gen = torch.Generator().manual_seed(0)
    params = {"big": torch.randn(400, generator=gen), "tiny": 1e-3 * torch.randn(100, generator=gen)}
    glob = magnitude_masks(params, 0.8, "global")
    lamp = magnitude_masks(params, 0.8, "lamp")
    assert float(glob["tiny"].sum()) == 0  # class-blind magnitude empties the small-scale layer
    assert 0 < float(lamp["tiny"].sum()) < 100 and 0 < float(lamp["big"].sum()) < 400
    assert sum(int(m.sum()) for m in lamp.values()) == 100  # exactly 80% of 500 removed
    extreme = magnitude_masks(params, 0.99, "lamp")
    assert all(float(m.sum()) >= 1 for m in extreme.values())  # every layer keeps its largest weight


def test_every_schedule_gets_exactly_the_same_budget():
    """Issue 11: 6 epochs over 4 stages used to give 1 per stage (4 in all) against one-shot's 6."""
    from biowear.compress.prune import split_epochs

    assert split_epochs(6, 4) == [1, 1, 2, 2] and split_epochs(2, 3) == [0, 1, 1] and split_epochs(0, 3) == [0, 0, 0]
    assert all(sum(split_epochs(e, s)) == e for e in range(12) for s in range(1, 6))
