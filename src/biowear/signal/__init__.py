"""Pure signal-processing kernels (filters, resampling, normalisation)."""

from __future__ import annotations

from biowear.signal.filters import bandpass, remove_baseline, resample, zscore

__all__ = ["bandpass", "remove_baseline", "resample", "zscore"]
