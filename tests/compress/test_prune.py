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
