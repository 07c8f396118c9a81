from __future__ import annotations

from tests.helpers import binary_beat_task


def synthetic_binary(records: tuple[str, ...]):
    """Synthetic ECG beats (see :func:`tests.helpers.binary_beat_task`): data, split, training arrays."""
    data, split = binary_beat_task("synthetic_ecg", records)
    return data, split, (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
