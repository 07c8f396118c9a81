"""HeartBeatClass: abnormal-beat detection from multi-lead ECG (Braojos et al. 2013; seed 001).

Pre-processing: morphological filtering of every lead, RMS combination, relative-energy enhancement.
Feature extraction: REWARD-style R-peak detection and fiducial-point delineation. Inference: a sparse random
projection of each beat's samples plus RR-interval and QRS-width features, classified by a two-rule
neuro-fuzzy classifier (normal vs abnormal). Runs in float or emulated 16-bit fixed point.

Real input is MIT-BIH resampled from 360 to 256 Hz. MIT-BIH has two leads, so on real data the RMS combines
those two (a third lead is not invented); the synthetic input has three leads, the third from Einthoven's law.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.nfc import NeuroFuzzyClassifier
from biowear.bench.classifiers.shallow import Standardizer, project, sparse_random_projection
from biowear.bench.inputs import ecg_three_lead
from biowear.bench.matching import match_events
from biowear.data.datasets import get_dataset
from biowear.data.labels import BEAT_SYMBOLS
from biowear.data.splits import DS1, DS2
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase
from biowear.signal.combine import rms_combine
from biowear.signal.delineation import delineate
from biowear.signal.filters import resample
from biowear.signal.morphology import morphological_filter
from biowear.signal.rpeaks import reward, slope_energy

FS_HZ = 256.0
WINDOW_S = 15.0
NORMAL = frozenset("NLRej")
ABNORMAL = frozenset("AaJSVEF/fQ")
TRAIN_RECORDS, TEST_RECORDS = DS1, DS2  # de Chazal et al. (2004) inter-patient division, paced excluded
QUICK_TRAIN, QUICK_TEST = ("106", "109", "118", "119", "124", "208"), ("200", "213", "233")

_Q_ECG = QFormat(16, 11)  # +-16 mV, 0.5 uV resolution
_Q_REL = QFormat(16, 14)  # relative energy in [0, 1]
_Q_FEAT = QFormat(16, 10)  # standardized features, +-32
_BEFORE_S, _AFTER_S, _DECIM = 0.25, 0.45, 4


def _info(leads: int) -> AppInfo:
    return AppInfo(
        "HeartBeatClass",
        (SignalSpec("ecg", leads, FS_HZ, WINDOW_S, 16),),
        "fx16",
        WINDOW_S,
        "MF, RMS, Rel-En | REWARD, ECG-FPDEL | RP, NFC",
        "preprocessing",
    )


def _beat_features(sig: np.ndarray, r: np.ndarray, fid: np.ndarray, fs: float):
    """Morphology samples (beats, m), scalar features (beats, 3) and kept-beat mask."""
    before, after = int(_BEFORE_S * fs), int(_AFTER_S * fs)
    keep = (r >= before) & (r + after < sig.size)
    rr = np.diff(r)
    mean_rr = float(np.median(rr)) if rr.size else fs
    pre = np.concatenate([[mean_rr], rr]) / mean_rr
    post = np.concatenate([rr, [mean_rr]]) / mean_rr
    width = (fid[:, 3] - fid[:, 1]) / fs
    idx = r[keep][:, None] + np.arange(-before, after, _DECIM)[None, :]
    morph = sig[idx] if idx.size else np.zeros((0, (before + after + _DECIM - 1) // _DECIM))
    amp = float(np.median(sig[r[keep]])) if keep.any() else 1.0
    morph = (morph - np.median(sig)) / max(abs(amp - float(np.median(sig))), 1e-6)
    scalars = np.stack([pre, post, width], axis=1)[keep]
    return morph, scalars, keep


class HeartBeatClass(App):
    """See the module docstring."""

    q = _Q_ECG
    info = _info(3)

    def __init__(self, leads: int = 3, rp_dims: int = 8) -> None:
        super().__init__()
        self.info = _info(leads)
        self.rp_dims = rp_dims

    # -- pipeline -------------------------------------------------------------------------------------
    def _detect(self, x: np.ndarray, fixed: bool):
        q = _Q_ECG if fixed else None
        sig = _Q_ECG.quantize(x) if fixed else np.asarray(x, dtype=np.float64)
        with phase("preprocessing"):
            filtered = morphological_filter(sig, FS_HZ)
            combined = rms_combine(filtered, q=q)
            slope, rel = slope_energy(combined, FS_HZ, q=_Q_REL if fixed else None)
        with phase("feature_extraction"):
            r = reward(combined, FS_HZ, q=_Q_REL if fixed else None, enhanced=(slope, rel))
            comb_f = _Q_ECG.to_float(combined) if fixed else combined
            fid = delineate(comb_f, r, FS_HZ)
            morph, scalars, keep = _beat_features(comb_f, r, fid, FS_HZ)
        rel_f = _Q_REL.to_float(rel) if fixed else rel
        return comb_f, rel_f, r, morph, scalars, keep

    def _features(self, morph: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        proj = project(self.rp_, morph) * np.sqrt(3.0 / self.rp_dims)
        return self.scaler_(np.hstack([proj, scalars]))

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        comb, rel, r, morph, scalars, keep = self._detect(window.signals["ecg"], fixed)
        with phase("inference"):
            feats = self._features(morph, scalars)
            labels = self.nfc_.predict(feats, q=_Q_FEAT if fixed else None) if len(feats) else np.zeros(0, int)
        beats = r[keep]
        return AppOutput(
            int(labels.any()),
            {
                "combined_ecg": comb,
                "relative_energy": rel,
                "r_peaks": beats.astype(float),
                "beat_abnormal": labels.astype(float),
            },
        )

    def static_bytes(self) -> int:
        # RP matrix as 2-bit codes, scaler and NFC parameters in 16-bit words
        return int(np.ceil(self.rp_.size * 2 / 8)) + 2 * (self.scaler_.nbytes + self.nfc_.n_params)

    # -- data and training ------------------------------------------------------------------------------
    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> HeartBeatClass:
        mitdb = get_dataset("mitdb")
        if mitdb.available(data_root):
            self.synthetic = False
            self.info = _info(2)
            train_ids, test_ids = (QUICK_TRAIN, QUICK_TEST) if quick else (TRAIN_RECORDS, TEST_RECORDS)
            self.data_source = (
                f"MIT-BIH (mitdb), 2 leads resampled 360->256 Hz; train {len(train_ids)} records, "
                f"test {len(test_ids)} other records"
            )
            train = [w for rid in train_ids for w in _mitdb_windows(mitdb, rid, data_root, 12 if quick else None)]
            test = [w for rid in test_ids for w in _mitdb_windows(mitdb, rid, data_root, 2 if quick else 4)]
        else:
            self.info = _info(3)
            self.data_source = "synthetic 3-lead ECG (biowear generator)"
            train = [_synthetic_window(seed * 1000 + k) for k in range(20 if quick else 80)]
            test = [_synthetic_window(seed * 1000 + 500 + k) for k in range(4 if quick else 20)]
        n_morph = len(range(-int(_BEFORE_S * FS_HZ), int(_AFTER_S * FS_HZ), _DECIM))
        self.rp_ = sparse_random_projection(n_morph, self.rp_dims, seed)
        morphs, scalars, ys = [], [], []
        for w in train:
            _, _, r, morph, sc, keep = self._detect(w.signals["ecg"], fixed=False)
            y = _beat_labels(r[keep], w)
            ok = y >= 0
            morphs.append(morph[ok])
            scalars.append(sc[ok])
            ys.append(y[ok])
        raw = np.hstack([project(self.rp_, np.vstack(morphs)) * np.sqrt(3.0 / self.rp_dims), np.vstack(scalars)])
        self.scaler_ = Standardizer.fit(raw)
        self.nfc_ = NeuroFuzzyClassifier.fit(self.scaler_(raw), np.concatenate(ys))
        self.test_windows = test
        return self

    def scores(self, outputs: list[AppOutput]) -> dict[str, float]:
        """Beat-level sensitivity/specificity of 'abnormal' on detected beats matched to the test windows'
        annotations."""
        tp = fn = tn = fp = 0
        for out, w in zip(outputs, self.test_windows):
            y = _beat_labels(out.intermediates["r_peaks"].astype(np.int64), w)
            pred = out.intermediates["beat_abnormal"].astype(int)
            ok = y >= 0
            y, pred = y[ok], pred[ok]
            tp += int(np.sum((y == 1) & (pred == 1)))
            fn += int(np.sum((y == 1) & (pred == 0)))
            tn += int(np.sum((y == 0) & (pred == 0)))
            fp += int(np.sum((y == 0) & (pred == 1)))
        se = tp / (tp + fn) if tp + fn else float("nan")
        sp = tn / (tn + fp) if tn + fp else float("nan")
        return {
            "beats": float(tp + fn + tn + fp),
            "abnormal_sensitivity": se,
            "normal_specificity": sp,
            "balanced_accuracy": 0.5 * (se + sp),
        }


def _beat_labels(r: np.ndarray, w: Window) -> np.ndarray:
    """0 normal, 1 abnormal, -1 unmatched/unclassified, for detections ``r`` against the window's beats."""
    ref, sym = w.annotations.get("beat_samples"), w.annotations.get("beat_classes")
    out = -np.ones(len(r), dtype=np.int64)
    if ref is None or sym is None:
        return out
    order = np.argsort(ref)
    m = match_events(ref[order], r, int(0.15 * FS_HZ))
    det_order = np.argsort(r)
    out[det_order[m.det_index]] = sym[order][m.ref_index]
    return out


def _encode(symbols) -> np.ndarray:
    return np.array([0 if s in NORMAL else (1 if s in ABNORMAL else -1) for s in symbols], dtype=np.int64)


def _make_window(x: np.ndarray, samples: np.ndarray, symbols) -> Window:
    codes = _encode(symbols)
    return Window(
        {"ecg": x},
        {"ecg": FS_HZ},
        int((codes == 1).any()),
        {"beat_samples": np.asarray(samples, dtype=np.int64), "beat_classes": codes},
    )


def _synthetic_window(seed: int) -> Window:
    x, r, symbols = ecg_three_lead(WINDOW_S, FS_HZ, seed)
    return _make_window(x, np.asarray(r), symbols)


def _mitdb_windows(dataset, record_id: str, root, limit: int | None) -> list[Window]:
    rec = dataset.load(record_id, root)
    x = resample(rec.signal.astype(np.float64), rec.fs_hz, FS_HZ).T
    beats = np.array([s in BEAT_SYMBOLS for s in rec.annotations.symbol])
    samples = np.rint(rec.annotations.sample[beats] * FS_HZ / rec.fs_hz).astype(np.int64)
    symbols = [s for s, b in zip(rec.annotations.symbol, beats) if b]
    n = int(WINDOW_S * FS_HZ)
    starts = list(range(0, x.shape[1] - n + 1, n))
    if limit is not None and len(starts) > limit:
        starts = [starts[i] for i in np.linspace(0, len(starts) - 1, limit).round().astype(int)]
    out = []
    for s in starts:
        sel = (samples >= s) & (samples < s + n)
        out.append(_make_window(x[:, s : s + n], samples[sel] - s, [sym for sym, k in zip(symbols, sel) if k]))
    return out
