"""SeizureDetSVM: epileptic-seizure detection from one ECG lead (Forooghifar et al. 2018; seed 001).

Pre-processing: moving-average subtraction. Feature extraction: Pan-Tompkins R peaks -> RR series; HRV and
Lorenz-plot features; ECG-derived respiration (R amplitudes) with linear-prediction coefficients; Lomb-Scargle
band powers of the RR and EDR series. Inference: an RBF SVM. Runs in float or emulated 32-bit fixed point.
No seizure-annotated ECG is available here, so input and labels are synthetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.svm import SVC

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.shallow import RBFSVM, Standardizer, svm_decision
from biowear.bench.inputs import ecg_seizure_windows
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase
from biowear.signal.filters import moving_average
from biowear.signal.hrv import edr_series, hrv_features, lpc
from biowear.signal.rpeaks import pan_tompkins
from biowear.signal.spectral import band_powers, lomb_scargle

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

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> SeizureDetSVM:
        self.data_source = "synthetic single-lead ECG with ictal tachycardia / reduced HRV (biowear generator)"
        x, y = ecg_seizure_windows(24 if quick else 80, FS_HZ, WINDOW_S, seed=seed)
        feats = np.stack([self.features(w, fixed=False)[0] for w in x])
        self.scaler_ = Standardizer.fit(feats)
        svc = SVC(kernel="rbf", C=1.0, gamma="scale", random_state=seed).fit(self.scaler_(feats), y)
        self.svm_ = RBFSVM.from_sklearn(svc)
        xt, yt = ecg_seizure_windows(6 if quick else 20, FS_HZ, WINDOW_S, seed=seed + 7919)
        self.test_windows = [Window({"ecg": w[None, :]}, {"ecg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self
