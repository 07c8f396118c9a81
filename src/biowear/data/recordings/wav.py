"""WAV audio read with ``soundfile`` (libsndfile), as float in [-1, 1] per channel.

libsndfile reads a truncated WAV without complaint: it counts the frames that are present. So the frame count
the RIFF ``data`` chunk declares is read with the standard library's :mod:`wave` (PCM files) and compared
with what ``soundfile`` finds; a shortfall is a :class:`~biowear.errors.DataError`. Files :mod:`wave` cannot
parse (float or extensible WAV) are read without that check.
"""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audio:
    """A read WAV file: ``data`` float64 ``(n_frames, n_channels)`` in [-1, 1], its rate and PCM subtype."""

    data: np.ndarray
    fs_hz: float
    subtype: str


def _declared_frames(path: Path) -> int | None:
    try:
        with wave.open(str(path), "rb") as w:
            return int(w.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        log.debug("%s: wave cannot read the header (%s); frame count not checked", path, exc)
        return None


def read_wav(path: Path) -> Audio:
    """Read a WAV file.

    Raises:
        DataError: missing or unreadable file, a zero sampling rate, no frames, or fewer frames than the
            header declares (a truncated file).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise DataError(f"WAV file {path} does not exist")
    try:
        info = sf.info(str(path))
        data, fs = sf.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise DataError(f"{path}: soundfile cannot read it as audio ({exc})") from exc
    if not fs > 0:
        raise DataError(f"{path}: sampling rate {fs} Hz in the header (must be positive)")
    if len(data) == 0:
        raise DataError(f"{path}: the WAV file holds no audio frames")
    declared = _declared_frames(path)
    if declared is not None and declared > len(data):
        raise DataError(
            f"{path}: truncated WAV file: the header declares {declared} frames ({declared / fs:.3f} s) but only "
            f"{len(data)} are present ({len(data) / fs:.3f} s)"
        )
    return Audio(data, float(fs), str(info.subtype))
