"""Windows to predict on, read from a file: a ``.npy`` of windows, an ``.npz`` with ``x``, or a WFDB recording
cut into windows with the recipe the model was trained on (the data pipeline's own resampling, filter,
normalisation and window kind, so the windows equal those training saw)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from biowear.data.config import NORMALISATIONS, DataConfig
from biowear.data.windows import WINDOW_KINDS, CutContext
from biowear.errors import BiowearError, ConfigError

WINDOW_SUFFIXES = (".npy", ".npz")


def check_windows(x: Any, input_shape: tuple[int, int], what: str = "the input") -> np.ndarray:
    """``x`` as float32 windows ``(n, channels, samples)`` of the model's shape.

    Raises:
        ConfigError: not numeric, the wrong number of dimensions or shape, no windows, or NaN/inf values.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists, objects numpy cannot stack
        raise ConfigError(f"{what} is not a numeric array of windows ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise ConfigError(f"{what} holds {arr.dtype} values; windows must be numbers (float32)")
    if arr.ndim != 3 or tuple(arr.shape[1:]) != tuple(input_shape):
        raise ConfigError(
            f"the model takes windows of shape (n, {input_shape[0]}, {input_shape[1]}) (channels, samples); "
            f"{what} has shape {tuple(arr.shape)}"
        )
    if len(arr) == 0:
        raise ConfigError(f"{what} holds no windows")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ConfigError(f"{what} holds {int(bad.sum())} NaN/inf value(s) (first in window {int(first[0])})")
    return arr.astype(np.float32, copy=False)


def _array_file(path: Path) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises several types for a corrupt file
        raise ConfigError(f"{path} is not a readable {path.suffix} file ({type(exc).__name__}: {exc})") from exc
    if path.suffix == ".npz":
        with loaded:
            if "x" not in loaded.files:
                raise ConfigError(f"{path} has no array 'x' (it holds: {', '.join(loaded.files) or 'nothing'})")
            return loaded["x"]
    return loaded


def record_windows(record: Path, config: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Windows and their reference labels of one WFDB record (``path/to/100``, without extension) cut as
    :func:`biowear.data.prepare` cuts the records of ``config``.

    Raises:
        ConfigError: the record is missing, the recipe is an array source, or the record gives no window.
    """
    from biowear.data.arrays import WindowDataset
    from biowear.data.prepare import _preprocess
    from biowear.data.wfdb_source import read_wfdb_record

    record = Path(record)
    base = record.with_suffix("") if record.suffix in (".hea", ".dat", ".atr") else record
    if not base.with_suffix(".hea").is_file():
        raise ConfigError(
            f"input {record} does not exist: give a .npy/.npz of windows or a WFDB record path without extension "
            f"(no {base.with_suffix('.hea')})"
        )
    dataset = config.dataset(config.datasets[0])
    if isinstance(dataset, WindowDataset):
        raise ConfigError("the model was trained on window arrays, not recordings; give its windows as .npy/.npz")
    fs_hz = config.working_fs_hz()
    rec = read_wfdb_record(base.parent, base.name, "input", getattr(dataset, "annotator", config.annotator), "mask")
    signal = _preprocess(rec, config, fs_hz, tuple(getattr(dataset, "preferred_channels", ())))
    ann = rec.annotations.rescaled(fs_hz / rec.fs_hz, signal.shape[0])
    kind = WINDOW_KINDS.get(config.window.kind)
    ctx = CutContext(signal, ann, fs_hz, rec.invalid, bool(getattr(dataset, "beats_classified", True)))
    x, y = kind.cut(ctx, config.label_map(), config.window)
    if len(x) == 0:
        raise ConfigError(
            f"record {base} gives no {config.window.kind} windows with classes {list(config.label_map().classes)} "
            "(beat windows need the record's annotations)"
        )
    per_window = NORMALISATIONS.get(config.normalize).per_window
    if per_window and not kind.self_normalised:
        x = per_window(x)
    return np.asarray(x, dtype=np.float32), np.asarray(y)


def read_windows(path: Path, input_shape: tuple[int, int], config: DataConfig | None = None) -> np.ndarray:
    """Windows from a ``.npy``/``.npz`` file or a WFDB record (windowed with ``config``, the model's recipe).

    Raises:
        ConfigError: a missing file, a wrong shape, NaN values, or a record without a recipe to cut it.
    """
    path = Path(path)
    if path.suffix in WINDOW_SUFFIXES:
        if not path.is_file():
            raise ConfigError(f"input file {path} does not exist")
        return check_windows(_array_file(path), input_shape, str(path))
    if config is None:
        raise ConfigError(
            f"{path} is read as a recording, but the model records no data recipe; pass --config (config.json)"
        )
    try:
        x, _ = record_windows(path, config)
    except ConfigError:
        raise
    except BiowearError as exc:
        raise ConfigError(f"cannot cut {path} into windows: {exc}") from exc
    return check_windows(x, input_shape, f"record {path}")
