"""Architecture-space exploration: space, strategies (ask/tell), objective, store, executors, studies."""

from __future__ import annotations

from biowear.search.config import StudyConfig, load_study_config, study_config_from_dict
from biowear.search.objective import Objective
from biowear.search.space import Constraints, Space, decode_raw, encode
from biowear.search.store import Evaluation, Store, StoreError
from biowear.search.strategies import STRATEGIES, GAConfig, Strategy, make_strategy
from biowear.search.study import ALL_STRATEGIES, Point, StrategyResult, Study

__all__ = [
    "ALL_STRATEGIES",
    "STRATEGIES",
    "Constraints",
    "Evaluation",
    "GAConfig",
    "Objective",
    "Point",
    "Space",
    "Store",
    "StoreError",
    "Strategy",
    "StrategyResult",
    "Study",
    "StudyConfig",
    "decode_raw",
    "encode",
    "load_study_config",
    "make_strategy",
    "study_config_from_dict",
]
