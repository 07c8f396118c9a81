"""Synthetic inputs of the BiomedBench applications (clearly synthetic; used where no real data is here).

Each generator gives the channels, rate and duration seed 001 specifies, with the class structure the
application's classifier needs, and a seeded generator of its own. Nothing here is recorded from people,
so results on these inputs carry no accuracy claim.
"""

from __future__ import annotations

import numpy as np

from biowear.data.synthetic import SyntheticECGConfig, generate_record


def _pink(rng: np.random.Generator, shape: tuple[int, ...], fs_hz: float, slope: float = 1.0) -> np.ndarray:
    """Noise with a 1/f^slope power spectrum along the last axis, unit standard deviation."""
    n = shape[-1]
    spec = rng.standard_normal(shape[:-1] + (n // 2 + 1,)) + 1j * rng.standard_normal(shape[:-1] + (n // 2 + 1,))
    f = np.fft.rfftfreq(n, 1 / fs_hz)
    spec *= 1.0 / np.maximum(f, 0.5) ** (slope / 2)
    x = np.fft.irfft(spec, n=n, axis=-1)
    return x / x.std(axis=-1, keepdims=True)


def _beat_train(fs_hz: float, r_times: np.ndarray, n: int, amp: np.ndarray) -> np.ndarray:
    """Sum of Gaussian P-QRS-T waves at the given R times with per-beat amplitude."""
    t = np.arange(n) / fs_hz
    x = np.zeros(n)
    waves = ((0.12, -0.18, 0.025), (-0.12, -0.03, 0.010), (1.0, 0.0, 0.012), (-0.25, 0.03, 0.012), (0.3, 0.25, 0.045))
    for r, a in zip(r_times, amp):
        lo, hi = max(0, int((r - 0.4) * fs_hz)), min(n, int((r + 0.6) * fs_hz))
        tau = t[lo:hi] - r
        for amp_w, centre, width in waves:
            x[lo:hi] += a * amp_w * np.exp(-0.5 * ((tau - centre) / width) ** 2)
    return x


def ecg_seizure_windows(n_windows: int, fs_hz: float = 64.0, duration_s: float = 60.0, seed: int = 0):
    """Single-lead ECG windows; class 1 mimics ictal changes: tachycardia, reduced variability and faster,
    shallower respiration (seen in the amplitude modulation of the R waves).

    Returns:
        ``(x, y)`` with ``x`` (windows, samples) in mV and ``y`` the 0/1 labels (alternating classes).
    """
    rng = np.random.default_rng(seed)
    n = int(round(fs_hz * duration_s))
    xs, ys = [], []
    for w in range(n_windows):
        label = w % 2
        hr = rng.uniform(100, 135) if label else rng.uniform(58, 88)
        resp_hz = rng.uniform(0.35, 0.5) if label else rng.uniform(0.2, 0.3)
        rsa = rng.uniform(0.005, 0.015) if label else rng.uniform(0.03, 0.07)
        times, t = [], rng.uniform(0.1, 0.6)
        while t < duration_s - 0.7:
            times.append(t)
            rr = 60 / hr * (1 + rsa * np.sin(2 * np.pi * resp_hz * t)) * (1 + rng.normal(0, 0.01 if label else 0.03))
            t += rr
        times_a = np.asarray(times)
        amp = 1 + (0.06 if label else 0.12) * np.sin(2 * np.pi * resp_hz * times_a + rng.uniform(0, 6.28))
        x = _beat_train(fs_hz, times_a, n, amp * rng.uniform(0.8, 1.3))
        tt = np.arange(n) / fs_hz
        x += 0.15 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * tt + rng.uniform(0, 6.28))
        x += rng.normal(0, 0.02, n)
        xs.append(x)
        ys.append(label)
    return np.stack(xs), np.asarray(ys)


def ecg_three_lead(duration_s: float = 15.0, fs_hz: float = 256.0, seed: int = 0):
    """A synthetic 3-lead ECG window and its annotations: two generated leads and a third by Einthoven's law
    (lead III = lead II - lead I). Returns ``(x (3, n), r_samples, symbols)``."""
    rec = generate_record(
        f"syn{seed}",
        seed,
        SyntheticECGConfig(fs_hz=fs_hz, duration_s=max(duration_s, 5), n_channels=2, paced_fraction=0.0),
    )
    x = rec.signal.T[:, : int(round(duration_s * fs_hz))]
    x = np.vstack([x, x[1] - x[0]])
    keep = rec.annotations.sample < x.shape[1]
    return x, rec.annotations.sample[keep], [s for s, k in zip(rec.annotations.symbol, keep) if k]


def eeg_seizure_windows(
    n_windows: int, channels: int = 23, fs_hz: float = 256.0, duration_s: float = 4.0, seed: int = 0
):
    """Multichannel scalp-EEG-like windows (microvolts); class 1 adds focal rhythmic 3-6 Hz spike-and-wave
    activity spreading over a random subset of channels."""
    rng = np.random.default_rng(seed)
    n = int(round(fs_hz * duration_s))
    t = np.arange(n) / fs_hz
    mix = np.eye(channels) + 0.3 * rng.standard_normal((channels, channels)) / np.sqrt(channels)
    xs, ys = [], []
    for w in range(n_windows):
        label = w % 2
        x = 20 * mix @ _pink(rng, (channels, n), fs_hz)
        x += 8 * np.sin(2 * np.pi * rng.uniform(8, 12) * t + rng.uniform(0, 6.28, (channels, 1)))
        if label:
            f0 = rng.uniform(3, 6)
            phase = 2 * np.pi * f0 * t
            spike_wave = np.sign(np.sin(phase)) * np.abs(np.sin(phase)) ** 8 * 3 + np.sin(phase - 0.8)
            focus = rng.choice(channels, size=rng.integers(5, channels), replace=False)
            gain = np.zeros((channels, 1))
            gain[focus, 0] = rng.uniform(30, 80, focus.size)
            onset = rng.uniform(0, 0.5 * duration_s)
            x += gain * spike_wave * (t > onset)
        xs.append(x)
        ys.append(label)
    return np.stack(xs), np.asarray(ys)


def eeg_workload_recordings(
    n_recordings: int, channels: int = 4, fs_hz: float = 256.0, batches: int = 14, batch_s: float = 4.0, seed: int = 0
):
    """4-channel EEG (frontal pair first) of 14 x 4 s; class 1 (high workload) raises frontal theta and lowers
    alpha; eye blinks (large slow deflections on the frontal channels) occur in both classes.

    Returns:
        ``(x, y)``: ``x`` (recordings, channels, batches * batch_s * fs) in microvolts.
    """
    rng = np.random.default_rng(seed)
    n = int(round(fs_hz * batch_s * batches))
    t = np.arange(n) / fs_hz
    xs, ys = [], []
    for r in range(n_recordings):
        label = r % 2
        x = 10 * _pink(rng, (channels, n), fs_hz)
        theta = rng.uniform(6, 10) if label else rng.uniform(2, 5)
        alpha = rng.uniform(3, 6) if label else rng.uniform(7, 11)
        x += theta * np.sin(2 * np.pi * rng.uniform(4.5, 7) * t + rng.uniform(0, 6.28, (channels, 1)))
        x += alpha * np.sin(2 * np.pi * rng.uniform(9, 11.5) * t + rng.uniform(0, 6.28, (channels, 1)))
        for blink_t in np.cumsum(rng.exponential(4.0, size=int(batch_s * batches / 2))):
            if blink_t >= t[-1] - 0.5:
                break
            shape = 120 * np.exp(-0.5 * ((t - blink_t) / 0.08) ** 2)
            x[:2] += shape * rng.uniform(0.8, 1.2)
            x[2:] += 0.15 * shape
        xs.append(x)
        ys.append(label)
    return np.stack(xs), np.asarray(ys)


def emg_gestures(
    n_windows: int,
    channels: int = 16,
    fs_hz: float = 4000.0,
    duration_s: float = 0.2,
    n_units: int = 8,
    n_gestures: int = 4,
    seed: int = 0,
):
    """High-density sEMG windows from ``n_units`` motor units mixed instantaneously onto the electrodes.

    Each unit has its own action-potential shape and spatial footprint (fixed for the subject); a gesture
    sets which units fire and how often. Returns ``(x, y, mixing)`` with ``x`` (windows, channels, samples).
    """
    rng = np.random.default_rng(seed)
    n = int(round(fs_hz * duration_s))
    mixing = np.abs(rng.standard_normal((channels, n_units))) * (rng.random((channels, n_units)) < 0.6) + 0.05
    tt = np.arange(-0.004, 0.004, 1 / fs_hz)
    muaps = [
        np.gradient(np.exp(-0.5 * (tt / rng.uniform(0.0006, 0.0012)) ** 2)) * rng.choice([-1, 1])
        for _ in range(n_units)
    ]
    muaps = [m / np.abs(m).max() for m in muaps]
    patterns = rng.uniform(0, 1, (n_gestures, n_units)) ** 2 * 40  # firing rate (Hz) per unit per gesture
    xs, ys = [], []
    for w in range(n_windows):
        g = w % n_gestures
        sources = np.zeros((n_units, n))
        for u in range(n_units):
            rate = patterns[g, u] * rng.uniform(0.8, 1.2)
            k = rng.poisson(rate * duration_s)
            spikes = np.zeros(n)
            spikes[rng.integers(0, n, size=k)] = 1.0
            sources[u] = np.convolve(spikes, muaps[u], mode="same") + 0.01 * rng.standard_normal(n)
        xs.append(mixing @ sources + 0.02 * rng.standard_normal((channels, n)))
        ys.append(g)
    return np.stack(xs), np.asarray(ys), mixing


def cough_windows(
    n_windows: int, audio_fs_hz: float = 16000.0, imu_fs_hz: float = 100.0, duration_s: float = 0.3, seed: int = 0
):
    """0.3 s windows of chest-worn audio and 6-axis IMU; class 1 is a cough (an explosive broadband burst
    with a fast decay and a chest jolt on the IMU), class 0 is speech-like voicing, ambient noise or
    walking.

    Returns:
        ``(audio (windows, samples), imu (windows, 6, samples), y)``.
    """
    rng = np.random.default_rng(seed)
    na, ni = int(round(audio_fs_hz * duration_s)), int(round(imu_fs_hz * duration_s))
    ta, ti = np.arange(na) / audio_fs_hz, np.arange(ni) / imu_fs_hz
    audio, imu, ys = [], [], []
    for w in range(n_windows):
        label = w % 2
        a = 0.01 * rng.standard_normal(na)
        m = 0.02 * rng.standard_normal((6, ni))
        m[2] += 1.0  # gravity on the z axis
        if label:
            onset = rng.uniform(0.0, 0.08)
            env = np.where(ta >= onset, np.exp(-(ta - onset) / rng.uniform(0.03, 0.08)), 0.0)
            burst = rng.standard_normal(na)
            a += rng.uniform(0.3, 1.0) * env * (burst + 0.5 * np.sin(2 * np.pi * rng.uniform(300, 600) * ta))
            jolt = np.exp(-0.5 * ((ti - onset - 0.03) / 0.02) ** 2)
            m[:3] += rng.uniform(0.2, 0.6) * jolt * rng.normal(0, 1, (3, 1))
            m[3:] += rng.uniform(5, 20) * jolt * rng.normal(0, 1, (3, 1))
        else:
            kind = rng.integers(3)
            if kind == 0:  # voiced speech: harmonics of f0 with a syllable envelope
                f0 = rng.uniform(100, 250)
                env = 0.5 * (1 - np.cos(2 * np.pi * ta * rng.uniform(3, 6)))
                a += rng.uniform(0.1, 0.5) * env * sum(np.sin(2 * np.pi * k * f0 * ta) / k for k in range(1, 8))
            elif kind == 1:  # ambient noise
                a += rng.uniform(0.02, 0.1) * rng.standard_normal(na)
            else:  # walking
                m[:3] += 0.3 * np.sin(2 * np.pi * rng.uniform(1.6, 2.2) * ti)[None] * rng.normal(0, 1, (3, 1))
        audio.append(a)
        imu.append(m)
        ys.append(label)
    return np.stack(audio), np.stack(imu), np.asarray(ys)


def emotion_recordings(n_recordings: int, duration_s: float = 10.0, seed: int = 0):
    """PPG (200 Hz), GSR (5 Hz) and skin temperature (1 Hz) of ``duration_s``; class 1 (fear) raises heart
    rate, lowers the PPG baseline (vasoconstriction), raises skin conductance and lowers skin temperature,
    with large between-subject spread.

    Returns:
        ``(ppg (recordings, 200*d), gsr (recordings, 5*d), temp (recordings, d), y)``.
    """
    rng = np.random.default_rng(seed)
    tp, tg, ts = np.arange(int(200 * duration_s)) / 200, np.arange(int(5 * duration_s)) / 5, np.arange(int(duration_s))
    ppg, gsr, temp, ys = [], [], [], []
    for r in range(n_recordings):
        label = r % 2
        hr = rng.normal(95 if label else 72, 10)
        base = rng.normal(1.6 if label else 2.0, 0.25)
        pulse = np.sin(2 * np.pi * hr / 60 * tp) + 0.3 * np.sin(4 * np.pi * hr / 60 * tp + 1)
        ppg.append(base + 0.3 * pulse + 0.05 * rng.standard_normal(tp.size))
        g0 = rng.normal(6.0 if label else 4.0, 1.2)
        gsr.append(
            g0
            + (0.8 if label else 0.2) * np.sin(2 * np.pi * 0.1 * tg + rng.uniform(0, 6.28))
            + 0.05 * rng.standard_normal(tg.size)
        )
        t0 = rng.normal(32.0 if label else 33.2, 0.6)
        temp.append(t0 - (0.02 if label else 0.0) * ts + 0.02 * rng.standard_normal(ts.size))
        ys.append(label)
    return np.stack(ppg), np.stack(gsr), np.stack(temp), np.asarray(ys)
