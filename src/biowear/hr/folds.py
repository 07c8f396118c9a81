"""Leave-one-subject-out folds with validation subjects carved from each fold's training subjects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError


@dataclass(frozen=True)
class Fold:
    """One fold: window indices of the training, validation and test subjects."""

    test_subject: str
    val_subjects: tuple[str, ...]
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def loso_folds(
    subjects: Sequence[str], val_subjects: int = 2, seed: int = 0, only: Sequence[str] | None = None
) -> list[Fold]:
    """One fold per subject: that subject is the test set, ``val_subjects`` others (drawn with ``seed``, per
    fold) are the validation set for early stopping, and the rest train.

    Args:
        subjects: the subject of every window.
        val_subjects: validation subjects per fold (at least 1; at most the subjects left after the test one
            minus one, so that some subject trains).
        seed: seed of the validation draw.
        only: test subjects to make folds for (default: every subject).

    Raises:
        ConfigError: too few subjects for the requested validation size, or an unknown subject in ``only``.
    """
    subj = np.asarray([str(s) for s in subjects])
    names = sorted(set(subj.tolist()))
    if not 1 <= val_subjects <= len(names) - 2:
        raise ConfigError(
            f"leave-one-subject-out with {val_subjects} validation subject(s) needs at least {val_subjects + 2} "
            f"subjects; the data has {len(names)} ({', '.join(names)})"
        )
    chosen = list(names) if only is None else [str(s) for s in only]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise ConfigError(f"unknown test subject(s) {', '.join(unknown)}; valid options are: {', '.join(names)}")
    folds = []
    for i, test in enumerate(names):
        if test not in chosen:
            continue
        rest = [s for s in names if s != test]
        rng = np.random.default_rng([seed, i])
        val = tuple(sorted(rng.choice(rest, size=val_subjects, replace=False).tolist()))
        train_subjects = [s for s in rest if s not in val]
        folds.append(
            Fold(
                test,
                val,
                np.flatnonzero(np.isin(subj, train_subjects)),
                np.flatnonzero(np.isin(subj, val)),
                np.flatnonzero(subj == test),
            )
        )
    return folds
