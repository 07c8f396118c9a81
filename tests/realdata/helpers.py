from __future__ import annotations

from tests.helpers import binary_beat_task

#: Four MIT-BIH records with normal and anomalous beats, small enough for CI.
CI_RECORDS = ("100", "106", "119", "208")


def binary_beats(records: tuple[str, ...] = CI_RECORDS):
    """MIT-BIH beats of ``records`` (see :func:`tests.helpers.binary_beat_task`): (data, split)."""
    return binary_beat_task("mitdb", records)
