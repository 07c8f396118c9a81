"""Architecture-space exploration: spaces, strategies (ask/tell), one driver, objective, store, executors, studies."""

from __future__ import annotations

from biowear.search.config import StudyConfig, load_study_config, study_config_from_dict
from biowear.search.constraints import Constraints
from biowear.search.executor import EXECUTORS, make_executor
from biowear.search.objective import HARDWARE_MEASURES, MODES, Objective
from biowear.search.protocol import SearchSpace, optimize
from biowear.search.space import ArchitectureSpace, Space, decode_raw, encode
from biowear.search.store import Evaluation, Store, StoreError
from biowear.search.strategies import STRATEGIES, GAConfig, Strategy, make_strategy
from biowear.search.study import ALL_STRATEGIES, Point, StrategyResult, Study

__all__ = [
    "ALL_STRATEGIES",
    "EXECUTORS",
    "HARDWARE_MEASURES",
    "MODES",
    "STRATEGIES",
    "ArchitectureSpace",
    "Constraints",
    "Evaluation",
    "GAConfig",
    "Objective",
    "Point",
    "SearchSpace",
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
    "make_executor",
    "make_strategy",
    "optimize",
    "study_config_from_dict",
]
