"""Leave-one-subject-out folds: disjoint parts, one fold per subject, seeded validation draw, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from biowear.errors import ConfigError
from biowear.hr.folds import loso_folds

SUBJECTS = np.repeat([f"S{i:02d}" for i in range(6)], [5, 4, 6, 3, 5, 2])


def test_every_subject_is_tested_once_and_parts_are_disjoint_by_subject() -> None:
    folds = loso_folds(SUBJECTS, val_subjects=2, seed=0)
    assert [f.test_subject for f in folds] == sorted(set(SUBJECTS))
    for f in folds:
        parts = [set(SUBJECTS[p]) for p in (f.train, f.val, f.test)]
        assert parts[2] == {f.test_subject} and set(f.val_subjects) == parts[1] and len(parts[1]) == 2
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
        assert len(f.train) + len(f.val) + len(f.test) == len(SUBJECTS)


def test_validation_draw_is_seeded() -> None:
    a = [f.val_subjects for f in loso_folds(SUBJECTS, 2, seed=3)]
    assert a == [f.val_subjects for f in loso_folds(SUBJECTS, 2, seed=3)]
    assert any(x != y for x, y in zip(a, [f.val_subjects for f in loso_folds(SUBJECTS, 2, seed=4)]))


def test_only_some_test_subjects_and_bad_requests() -> None:
    folds = loso_folds(SUBJECTS, 1, only=["S03"])
    assert [f.test_subject for f in folds] == ["S03"]
    # the same fold as in the full run (the draw depends on the subject's position, not on `only`)
    full = {f.test_subject: f for f in loso_folds(SUBJECTS, 1)}
    assert folds[0].val_subjects == full["S03"].val_subjects
    with pytest.raises(ConfigError, match="unknown test subject.*S99.*valid options"):
        loso_folds(SUBJECTS, 1, only=["S99"])
    with pytest.raises(ConfigError, match="needs at least 7 subjects"):
        loso_folds(SUBJECTS, 5)
