"""SeizureDetSVM: epileptic-seizure detection from one ECG lead (Forooghifar et al. 2018; seed 001).

Pre-processing: moving-average subtraction. Feature extraction: Pan-Tompkins R peaks -> RR series; HRV and
Lorenz-plot features; ECG-derived respiration (R amplitudes) with linear-prediction coefficients; Lomb-Scargle
band powers of the RR and EDR series. Inference: an RBF SVM. Runs in float or emulated 32-bit fixed point.

Real data (:meth:`SeizureDetSVM.real_windows`, PhysioNet ``szdb``): the ECG of the records that have a waveform
(sz01, sz04, sz05, sz07) resampled 200 -> 64 Hz (polyphase, 8/25), cut into non-overlapping 60-s windows from
the record start; a window is ``seizure`` when it overlaps a ``times.seize`` interval. The three records
without a ``.dat`` (sz02, sz03, sz06) are not used: the pipeline starts from the ECG waveform (its R peaks
and the R-amplitude respiration), which an annotation-RR series cannot replace. Split: leave one patient out
(sz02-sz04 are one patient, so sz04 is held out alone). The SVM (RBF, C=1, gamma='scale') weighs the classes
inversely to their frequency (``class_weight='balanced'``), as seizure windows are ~3 % of the data. Scores
beside the window metrics: seizure sensitivity (a seizure is detected when a window overlapping it is
flagged), false alarms per hour (runs of consecutive flagged non-seizure windows, per hour of non-seizure
windows) and detection latency (end of the first flagged window minus the onset, seconds).
The generated input (``prepare``) stays for the demo and ``--synthetic``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.svm import SVC

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import RBFSVM, Standardizer, svm_decision
from biowear.bench.inputs import ecg_seizure_windows
from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase
from biowear.signal.filters import moving_average
from biowear.signal.hrv import edr_series, hrv_features, lpc
from biowear.signal.rpeaks import pan_tompkins
from biowear.signal.spectral import band_powers, lomb_scargle

if TYPE_CHECKING:
    from biowear.bench.realdata import LabelledWindows

FS_HZ, WINDOW_S = 64.0, 60.0
_Q_ECG = QFormat(32, 24)
_Q_SERIES = QFormat(32, 24)
_Q_FEAT = QFormat(32, 16)
_FREQS = np.linspace(0.01, 0.5, 64)
_RR_BANDS = ((0.01, 0.04), (0.04, 0.15), (0.15, 0.4))
_EDR_BANDS = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))
INFO = AppInfo(
    "SeizureDetSVM",
    (SignalSpec("ecg", 1, FS_HZ, WINDOW_S, 16),),
    "fx32",
    WINDOW_S,
    "MAVG | PT, ECG-EDR, PLOMB | SVM",
    "feature_extraction",
)


class SeizureDetSVM(App):
    """See the module docstring."""

    info = INFO
    q = _Q_ECG

    def features(self, x: np.ndarray, fixed: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        q = _Q_ECG if fixed else None
        sig = _Q_ECG.quantize(x) if fixed else np.asarray(x, dtype=np.float64)
        with phase("preprocessing"):
            pre = sig - moving_average(sig, int(FS_HZ), q=q)
        with phase("feature_extraction"):
            r = pan_tompkins(pre, FS_HZ, q=q)
            pre_f = _Q_ECG.to_float(pre) if fixed else pre
            rr = np.diff(r) / FS_HZ
            t = r[1:] / FS_HZ
            hrv = hrv_features(rr)
            edr = edr_series(pre_f, r)[1:]
            qs = _Q_SERIES if fixed else None
            rr_in = _Q_SERIES.quantize(rr) if fixed else rr
            edr_in = _Q_SERIES.quantize(edr) if fixed else edr
            p_rr = lomb_scargle(t, rr_in, _FREQS, q=qs)
            p_edr = lomb_scargle(t, edr_in, _FREQS, q=qs)
            rr_bands = band_powers(p_rr, _FREQS, _RR_BANDS)
            edr_bands = band_powers(p_edr, _FREQS, _EDR_BANDS)
            lf_hf = rr_bands[1] / max(rr_bands[2], 1e-12)
            feats = np.concatenate(
                [hrv, np.log(rr_bands + 1e-12), [np.log(lf_hf + 1e-12)], np.log(edr_bands + 1e-12), lpc(edr, 4)]
            )
        return feats, {"preprocessed_ecg": pre_f, "rr_s": rr, "lomb_rr": p_rr, "features": feats}

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        feats, inter = self.features(window.signals["ecg"][0], fixed)
        with phase("inference"):
            score = svm_decision(self.svm_, self.scaler_(feats), q=_Q_FEAT if fixed else None)[0]
        inter["svm_score"] = np.array([score])
        return AppOutput(int(score > 0), inter)

    def static_bytes(self) -> int:
        return 4 * (self.svm_.n_params + self.scaler_.nbytes + _FREQS.size)

    def _fit(self, feats: np.ndarray, y: np.ndarray, seed: int, class_weight: str | None) -> None:
        self.scaler_ = Standardizer.fit(feats)
        svc = SVC(kernel="rbf", C=1.0, gamma="scale", class_weight=class_weight, random_state=seed)
        self.svm_ = RBFSVM.from_sklearn(svc.fit(self.scaler_(feats), y))

    # ------------------------------------------------------------------ real data (szdb)
    def real_windows(self, folder: Path | None, dataset: str | None, quick: bool) -> LabelledWindows:
        """Non-overlapping 60-s ECG windows at 64 Hz of every szdb record with a waveform (module docstring);
        ``quick`` keeps every seizure window and every third other window."""
        from biowear.bench.realdata import LabelledWindows, resolve_dataset
        from biowear.data.recordings import resample_recording

        ds = resolve_dataset(INFO.name, dataset, folder)
        n = int(FS_HZ * WINDOW_S)
        windows, labels, groups, records, starts, onsets, seizure_ids, unused, dropped = (
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for rec in ds.recordings():
            if "ecg" not in rec.signals:
                unused.append(rec.record_id)
                continue
            x = resample_recording(rec, {"ecg": FS_HZ}).signal("ecg").data[:, 0]
            for k, i0 in enumerate(range(0, len(x) - n + 1, n)):
                t0 = i0 / FS_HZ
                hit = rec.overlapping(t0, t0 + WINDOW_S)
                if quick and not hit and k % 3:
                    continue
                window = Window({"ecg": x[None, i0 : i0 + n]}, {"ecg": FS_HZ}, int(bool(hit)))
                try:  # features once here: windows without 4 R peaks (leads off, artefact) are dropped
                    self._cached_features(window)
                except ConfigError:
                    dropped.append(f"{rec.record_id}@{t0:g}s")
                    continue
                windows.append(window)
                labels.append(int(bool(hit)))
                groups.append(rec.subject)
                records.append(rec.record_id)
                starts.append(t0)
                onsets.append(hit[0].start_s if hit else np.nan)
                seizure_ids.append(f"{rec.record_id}@{hit[0].start_s:g}s" if hit else "")
        notes = [
            "szdb ECG 200 -> 64 Hz (resample_poly 8/25), non-overlapping 60-s windows from each record's start; "
            "label seizure = the window overlaps a times.seize interval",
            f"records without an ECG waveform not used: {', '.join(unused) or 'none'} (no annotation-RR variant)",
            f"{len(dropped)} window(s) where Pan-Tompkins finds < 4 R peaks (artefact) dropped: "
            + (", ".join(dropped) or "none"),
        ]
        if quick:
            notes.append("quick: every seizure window and every third non-seizure window")
        return LabelledWindows(
            windows,
            np.asarray(labels),
            np.asarray(groups),
            ("non-seizure", "seizure"),
            ds.name,
            ds.label_source,
            {
                "record": np.asarray(records),
                "start_s": np.asarray(starts),
                "seizure_onset_s": np.asarray(onsets),
                "seizure": np.asarray(seizure_ids),
            },
            tuple(notes),
        )

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int) -> SeizureDetSVM:
        """Fit the standardiser and the class-balanced RBF SVM on ``windows`` (features cached per window)."""
        self._fit(np.stack([self._cached_features(w) for w in windows]), np.asarray(labels), seed, "balanced")
        return self

    def _cached_features(self, window: Window) -> np.ndarray:
        cache = self.__dict__.setdefault("_feature_cache", {})
        key = id(window)
        if key not in cache:  # the window is kept with its features, so its id is not reused
            cache[key] = (window, self.features(window.signals["ecg"][0], fixed=False)[0])
        return cache[key][1]

    def real_splits(self, data: LabelledWindows) -> dict:
        """Leave one patient out (sz02-sz04 are one patient, named ``sz02-04`` by the dataset)."""
        from biowear.bench.realdata import loso

        return {"lopo": loso(data, name="lopo")}

    def real_scores(self, data: LabelledWindows, pred: np.ndarray) -> dict[str, float]:
        """Seizure sensitivity, false alarms per hour and mean detection latency (see the module docstring)."""
        return seizure_event_scores(
            pred,
            data.labels,
            data.meta["record"],
            data.meta["start_s"],
            data.meta["seizure"],
            data.meta["seizure_onset_s"],
            WINDOW_S,
        )

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> SeizureDetSVM:
        self.data_source = "synthetic single-lead ECG with ictal tachycardia / reduced HRV (biowear generator)"
        x, y = ecg_seizure_windows(24 if quick else 80, FS_HZ, WINDOW_S, seed=seed)
        self._fit(np.stack([self.features(w, fixed=False)[0] for w in x]), y, seed, None)
        xt, yt = ecg_seizure_windows(6 if quick else 20, FS_HZ, WINDOW_S, seed=seed + 7919)
        self.test_windows = [Window({"ecg": w[None, :]}, {"ecg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self


def seizure_event_scores(
    pred: np.ndarray,
    labels: np.ndarray,
    records: np.ndarray,
    starts_s: np.ndarray,
    seizures: np.ndarray,
    onsets_s: np.ndarray,
    window_s: float,
) -> dict[str, float]:
    """Event-level seizure-detection figures of window decisions.

    Args:
        pred, labels: per-window decision and reference (1 = seizure).
        records, starts_s: each window's record and start (seconds).
        seizures: the id of the seizure a window overlaps ("" for none).
        onsets_s: that seizure's onset (NaN for none).
        window_s: window length; a window decides at its end.

    Returns:
        ``seizures``, ``seizures_detected``, ``seizure_sensitivity`` (NaN without seizures),
        ``false_alarms`` (runs of consecutive flagged non-seizure windows of one record),
        ``false_alarms_per_h`` (per hour of non-seizure windows) and ``latency_s`` (mean over detected
        seizures of the first flagged window's end minus the onset; NaN when none is detected).
    """
    pred, labels = np.asarray(pred), np.asarray(labels)
    ids = sorted({s for s in seizures.tolist() if s})
    detected, latencies = 0, []
    for sid in ids:
        idx = np.flatnonzero((seizures == sid) & (pred == 1))
        if idx.size:
            detected += 1
            first = idx[np.argmin(starts_s[idx])]
            latencies.append(max(0.0, float(starts_s[first] + window_s - onsets_s[first])))
    alarms = 0
    for rec in dict.fromkeys(records.tolist()):
        idx = np.flatnonzero((records == rec) & (labels == 0))
        idx = idx[np.argsort(starts_s[idx])]
        flagged = pred[idx] == 1
        gaps = np.diff(starts_s[idx]) > window_s + 1e-6  # a skipped window ends a run
        run_start = flagged & np.concatenate([[True], ~flagged[:-1] | gaps]) if len(idx) else flagged
        alarms += int(np.sum(run_start))
    hours = float(np.sum(labels == 0)) * window_s / 3600.0
    return {
        "seizures": float(len(ids)),
        "seizures_detected": float(detected),
        "seizure_sensitivity": detected / len(ids) if ids else float("nan"),
        "false_alarms": float(alarms),
        "false_alarms_per_h": alarms / hours if hours > 0 else float("nan"),
        "latency_s": float(np.mean(latencies)) if latencies else float("nan"),
    }
