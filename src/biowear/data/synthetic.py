"""A synthetic multi-class ECG generator (clearly synthetic; used for demos and fast tests).

Each beat is a sum of Gaussian waves (P, Q, R, S, T) placed relative to the R peak, in the spirit of
the dynamical model of McSharry et al. (2003), with class-specific morphology and timing:

* ``N`` normal sinus beat;
* ``A`` supraventricular (atrial) premature beat: early, with an abnormal P wave and a normal QRS;
* ``V`` premature ventricular contraction: early, no P wave, wide QRS, discordant T, compensatory pause;
* ``F`` fusion of ventricular and normal beat: a blend of the ``N`` and ``V`` shapes;
* ``/`` paced beat: a pacemaker spike followed by a wide QRS.

Rhythm (heart rate, respiratory sinus arrhythmia, jitter), amplitude (beat-to-beat and respiratory
modulation), baseline wander, mains interference and broadband/muscle noise all vary per record.
Annotations use MIT-BIH beat symbols at the R-peak sample, so every downstream step treats synthetic and
real records alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.data.record import Annotations, Record
from biowear.errors import ConfigError

# (amplitude mV, centre s relative to R, width s) per wave; the T-wave centre scales with sqrt(RR).
_WAVES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "N": ((0.15, -0.20, 0.025), (-0.10, -0.030, 0.010), (1.00, 0.0, 0.012), (-0.25, 0.030, 0.012), (0.30, 0.28, 0.050)),
    "A": (
        (-0.08, -0.15, 0.020),
        (-0.10, -0.030, 0.010),
        (0.95, 0.0, 0.012),
        (-0.25, 0.030, 0.012),
        (0.28, 0.27, 0.050),
    ),
    "V": (
        (0.00, -0.20, 0.025),
        (-0.20, -0.060, 0.025),
        (1.20, 0.0, 0.035),
        (-0.60, 0.080, 0.040),
        (-0.45, 0.32, 0.070),
    ),
    "/": ((0.00, -0.20, 0.025), (1.40, -0.050, 0.002), (0.80, 0.0, 0.030), (-0.50, 0.070, 0.035), (-0.30, 0.32, 0.070)),
}
_WAVES["F"] = tuple(
    (0.5 * (n[0] + v[0]), 0.5 * (n[1] + v[1]), 0.5 * (n[2] + v[2])) for n, v in zip(_WAVES["N"], _WAVES["V"])
)
#: Prematurity of each beat class (fraction of the running RR interval).
_PREMATURITY = {"N": 1.0, "A": 0.70, "V": 0.65, "F": 0.92, "/": 1.0}
#: Projection of the waves onto a second lead (per-wave gain).
_LEAD2_GAIN = np.array([0.6, -0.4, 0.45, 1.3, 0.5])

BEAT_CLASSES: tuple[str, ...] = ("N", "A", "V", "F", "/")


@dataclass(frozen=True)
class SyntheticECGConfig:
    """Settings of the generator.

    Args:
        fs_hz: sampling frequency of the generated records.
        duration_s: length of each record.
        n_channels: 1 or 2 leads.
        ectopic_rate: mean fraction of non-normal beats in a non-paced record.
        paced_fraction: fraction of records whose rhythm is paced.
        noise_mv: standard deviation of broadband noise (scaled per record by 0.5-1.5).
    """

    fs_hz: float = 360.0
    duration_s: float = 300.0
    n_channels: int = 1
    ectopic_rate: float = 0.25
    paced_fraction: float = 0.15
    noise_mv: float = 0.03

    def __post_init__(self) -> None:
        if not 50 <= self.fs_hz <= 10_000:
            raise ConfigError(f"synthetic ECG fs_hz must be within 50-10000 Hz, got {self.fs_hz}")
        if self.duration_s < 5:
            raise ConfigError(f"synthetic ECG duration_s must be at least 5 s, got {self.duration_s}")
        if self.n_channels not in (1, 2):
            raise ConfigError(f"synthetic ECG n_channels must be 1 or 2, got {self.n_channels}")
        if not 0 <= self.ectopic_rate < 1 or not 0 <= self.paced_fraction <= 1:
            raise ConfigError("ectopic_rate must be in [0, 1) and paced_fraction in [0, 1]")


def _beat_sequence(rng: np.random.Generator, duration_s: float, paced: bool, ectopic_rate: float):
    """R-peak times (s) and beat symbols for one record."""
    mean_rr = 60.0 / (rng.uniform(70, 75) if paced else rng.uniform(55, 95))
    rsa_hz, rsa_depth = rng.uniform(0.15, 0.35), (0.0 if paced else rng.uniform(0.01, 0.05))
    if paced:
        weights = np.array([0.1, 0.0, 0.03, 0.0, 0.87])  # mostly paced, some native and PVCs
    else:
        mix = rng.dirichlet([2.0, 1.0, 0.4])  # split of the ectopic rate over A, V, F
        weights = np.array([1 - ectopic_rate, *(ectopic_rate * mix[:2]), ectopic_rate * mix[2], 0.0])
    weights = weights / weights.sum()
    times, symbols = [], []
    t, pending_pause = rng.uniform(0.2, 0.6), 0.0
    while t < duration_s - 0.6:
        symbol = BEAT_CLASSES[rng.choice(len(BEAT_CLASSES), p=weights)]
        rr = mean_rr * (1 + rsa_depth * np.sin(2 * np.pi * rsa_hz * t)) * (1 + rng.normal(0, 0.02))
        rr = rr * _PREMATURITY[symbol] + pending_pause
        pending_pause = mean_rr * (1 - _PREMATURITY[symbol]) if symbol == "V" else 0.0
        t += rr
        if t >= duration_s - 0.6:
            break
        times.append(t)
        symbols.append(symbol)
    return np.asarray(times), symbols, mean_rr


def generate_record(record_id: str, seed: int, config: SyntheticECGConfig | None = None) -> Record:
    """Generate one synthetic ECG record.

    Args:
        record_id: the name given to the record.
        seed: seed of this record's own random generator (same seed and config -> same record).
        config: generator settings (defaults when None).

    Returns:
        A :class:`Record` with ``synthetic=True`` and MIT-BIH beat annotations at the R peaks.
    """
    cfg = config or SyntheticECGConfig()
    rng = np.random.default_rng(seed)
    paced = bool(rng.random() < cfg.paced_fraction)
    ectopic = float(np.clip(rng.normal(cfg.ectopic_rate, cfg.ectopic_rate / 3), 0.0, 0.9))
    r_times, symbols, mean_rr = _beat_sequence(rng, cfg.duration_s, paced, ectopic)

    n = int(round(cfg.duration_s * cfg.fs_hz))
    t = np.arange(n) / cfg.fs_hz
    leads = np.zeros((cfg.n_channels, n))
    shape_jitter = rng.normal(1.0, 0.08, size=5)  # per-record morphology
    resp_hz = rng.uniform(0.15, 0.35)
    gains = np.stack([np.ones(5), _LEAD2_GAIN * rng.normal(1.0, 0.1, size=5)])[: cfg.n_channels]
    half = int(0.6 * cfg.fs_hz)
    for r_time, symbol in zip(r_times, symbols):
        centre = int(round(r_time * cfg.fs_hz))
        lo, hi = max(centre - half, 0), min(centre + half, n)
        tau = t[lo:hi] - r_time
        scale = rng.normal(1.0, 0.05) * (1 + 0.08 * np.sin(2 * np.pi * resp_hz * r_time))
        qt_scale = np.sqrt(mean_rr)
        for k, (amp, mu, sigma) in enumerate(_WAVES[symbol]):
            if amp == 0.0:
                continue
            mu_k = mu * qt_scale if k == 4 else mu
            wave = amp * shape_jitter[k] * scale * np.exp(-0.5 * ((tau - mu_k) / sigma) ** 2)
            leads[:, lo:hi] += gains[:, k : k + 1] * wave

    # Baseline wander, mains interference, broadband noise and bursts of muscle noise.
    noise_mv = cfg.noise_mv * rng.uniform(0.5, 1.5)
    for ch in range(cfg.n_channels):
        for _ in range(2):
            leads[ch] += rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * rng.uniform(0.05, 0.4) * t + rng.uniform(0, 6.3))
        mains_hz = 60.0 if cfg.fs_hz > 120 else 0.0
        if mains_hz:
            leads[ch] += rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * mains_hz * t)
        leads[ch] += rng.normal(0, noise_mv, size=n)
        for _ in range(rng.poisson(cfg.duration_s / 60)):
            start = rng.integers(0, max(n - int(cfg.fs_hz), 1))
            length = int(rng.uniform(0.3, 1.5) * cfg.fs_hz)
            leads[ch, start : start + length] += rng.normal(0, 3 * noise_mv, size=min(length, n - start))

    samples = np.clip(np.round(r_times * cfg.fs_hz).astype(np.int64), 0, n - 1)
    names = ("SYN-I", "SYN-II")[: cfg.n_channels]
    return Record(
        record_id=record_id,
        dataset="synthetic_ecg",
        signal=leads.T.astype(np.float32),
        fs_hz=cfg.fs_hz,
        channels=names,
        annotations=Annotations(samples, tuple(symbols), ("",) * len(symbols)),
        synthetic=True,
    )
