"""Heart-rate estimation from wrist PPG + accelerometer (PULSE, seed 003) as an application of the framework.

The pieces are framework plugins: the datasets (:mod:`biowear.data.hr`), the regression task, the teacher and
student model families (:mod:`biowear.models.pulse`), the one ``fit()``, distillation and int8 from
:mod:`biowear.compress`. This package only composes them: leave-one-subject-out folds, the per-fold training
of teacher, student, distilled student and int8 student, the classical baseline, post-processing, costs and
the evaluation table.
"""

from __future__ import annotations

from biowear.hr.config import HRConfig
from biowear.hr.folds import Fold, loso_folds

__all__ = ["Fold", "HRConfig", "loso_folds"]
