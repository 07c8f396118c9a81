"""SeizureDetCNN: seizure detection from 23-channel EEG with a fully convolutional network (after
Gomez et al. 2020; seed 001). No pre-processing or feature extraction: the 4 s window goes to the network,
which runs in float or emulated 16-bit fixed point. By default the network is trained on generated EEG (no
public scalp-EEG seizure recordings are in the data root).

A user with CHB-MIT (EDF files and ``chbXX-summary.txt``, :class:`~biowear.data.recordings.chbmit.CHBMITDataset`)
runs it on real data with ``bench SeizureDetCNN --data-dir PATH`` (or a ``chbmit`` folder under the data root):
the first 23 EEG channels in file order (CHB-MIT's 23 bipolar leads), at 256 Hz (resampled if not), cut into
non-overlapping 4-s windows; a window is ``seizure`` when it overlaps a seizure. Seizures are rare, so every
seizure window is kept with as many non-seizure windows spread evenly over each record (balanced, as in
Gomez et al. 2020). Split: leave one patient out (``chbXX``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.eeg_fcn import FCNSpec, FoldedFCN, build_fcn, calibrate, fcn_logits
from biowear.bench.inputs import eeg_seizure_windows
from biowear.errors import DataError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase

if TYPE_CHECKING:
    from biowear.bench.realdata import LabelledWindows

FS_HZ, WINDOW_S, CHANNELS = 256.0, 4.0, 23
INPUT_SCALE_UV = 100.0  # the network sees microvolts / 100
INFO = AppInfo(
    "SeizureDetCNN", (SignalSpec("eeg", CHANNELS, FS_HZ, WINDOW_S, 16),), "fx16", WINDOW_S, "CNN", "inference"
)


def train_fcn(x: np.ndarray, y: np.ndarray, spec: FCNSpec, epochs: int, seed: int) -> torch.nn.Sequential:
    """Adam, batch 16, cross-entropy; seeded without touching PyTorch's global generator state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_fcn(spec)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xt = torch.tensor(x / INPUT_SCALE_UV, dtype=torch.float32)
        yt = torch.tensor(y, dtype=torch.long)
        gen = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(epochs):
            for idx in torch.randperm(len(xt), generator=gen).split(16):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
    return model.eval()


class SeizureDetCNN(App):
    """See the module docstring."""

    info = INFO
    q = QFormat(16, 8)  # nominal; the network uses per-tensor formats from calibration

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        with phase("inference"):
            logits = fcn_logits(self.model_, window.signals["eeg"] / INPUT_SCALE_UV, self.plan_ if fixed else None)
        return AppOutput(int(np.argmax(logits)), {"logits": np.asarray(logits, dtype=np.float64)})

    def static_bytes(self) -> int:
        return 2 * self.model_.n_params

    def real_windows(self, folder: Path | None, dataset: str | None, quick: bool) -> LabelledWindows:
        """Balanced 4-s windows of CHB-MIT records (module docstring); ``quick``: at most 8 seizure windows
        per record."""
        return chbmit_windows(INFO.name, folder, dataset, CHANNELS, FS_HZ, WINDOW_S, 8 if quick else None)

    def real_splits(self, data: LabelledWindows) -> dict:
        from biowear.bench.realdata import loso

        return {"lopo": loso(data, name="lopo")}

    def fit_windows(self, windows: list[Window], labels: np.ndarray, seed: int) -> SeizureDetCNN:
        """Train the FCN on ``windows`` and calibrate its fixed-point formats on the first 16 of them."""
        x = np.stack([w.signals["eeg"] for w in windows])
        spec = FCNSpec(in_channels=CHANNELS, length=int(FS_HZ * WINDOW_S))
        module = train_fcn(x, np.asarray(labels), spec, epochs=6, seed=seed)
        self.model_ = FoldedFCN.from_module(module, spec.pool)
        self.plan_ = calibrate(self.model_, x[:16] / INPUT_SCALE_UV, word_bits=16)
        return self

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False) -> SeizureDetCNN:
        self.data_source = "synthetic 23-channel EEG with focal spike-and-wave seizures (biowear generator)"
        spec = FCNSpec(in_channels=CHANNELS, length=int(FS_HZ * WINDOW_S))
        x, y = eeg_seizure_windows(48 if quick else 240, CHANNELS, FS_HZ, WINDOW_S, seed=seed)
        module = train_fcn(x, y, spec, epochs=3 if quick else 6, seed=seed)
        self.model_ = FoldedFCN.from_module(module, spec.pool)
        self.plan_ = calibrate(self.model_, x[:16] / INPUT_SCALE_UV, word_bits=16)
        xt, yt = eeg_seizure_windows(6 if quick else 40, CHANNELS, FS_HZ, WINDOW_S, seed=seed + 7919)
        self.test_windows = [Window({"eeg": w}, {"eeg": FS_HZ}, int(lab)) for w, lab in zip(xt, yt)]
        return self


def chbmit_windows(
    app_name: str,
    folder: Path | None,
    dataset: str | None,
    channels: int,
    fs_hz: float,
    window_s: float,
    max_seizure_windows: int | None = None,
) -> LabelledWindows:
    """Balanced non-overlapping windows of a CHB-MIT folder: every seizure window (at most
    ``max_seizure_windows`` per record) and as many non-seizure windows spread evenly over the record.

    Raises:
        DataError: a record has fewer than ``channels`` EEG channels, or no record has a seizure.
    """
    from biowear.bench.realdata import LabelledWindows, resolve_dataset
    from biowear.data.recordings import resample_signal

    ds = resolve_dataset(app_name, dataset, folder)
    n = int(round(fs_hz * window_s))
    windows, labels, groups, records, starts = [], [], [], [], []
    for rec in ds.recordings():
        sig = rec.signal("eeg")
        if len(sig.channels) < channels:
            raise DataError(
                f"{rec.source}: {app_name} needs {channels} EEG channels, the file has {len(sig.channels)} "
                f"({', '.join(sig.channels)})"
            )
        x = resample_signal(sig, fs_hz).data[:, :channels].T
        k = x.shape[1] // n
        hit = np.array([bool(rec.overlapping(i * window_s, (i + 1) * window_s)) for i in range(k)], dtype=bool)
        pos = np.flatnonzero(hit)[:max_seizure_windows]
        neg_all = np.flatnonzero(~hit)
        neg = (
            neg_all[np.linspace(0, len(neg_all) - 1, min(len(pos), len(neg_all))).round().astype(int)]
            if len(pos)
            else np.zeros(0, dtype=int)
        )
        for i in sorted([*pos.tolist(), *neg.tolist()]):
            windows.append(Window({"eeg": x[:, i * n : (i + 1) * n]}, {"eeg": fs_hz}, int(hit[i])))
            labels.append(int(hit[i]))
            groups.append(rec.subject)
            records.append(rec.record_id)
            starts.append(i * window_s)
    if not any(labels):
        raise DataError(f"{ds.directory()}: no record holds a seizure window; nothing to score")
    return LabelledWindows(
        windows,
        np.asarray(labels),
        np.asarray(groups),
        ("non-seizure", "seizure"),
        ds.name,
        ds.label_source,
        {"record": np.asarray(records), "start_s": np.asarray(starts)},
        (
            f"CHB-MIT: first {channels} EEG channels at {fs_hz:g} Hz, non-overlapping {window_s:g}-s windows; "
            "label seizure = overlaps a summary seizure; every seizure window"
            + (f" (at most {max_seizure_windows} per record)" if max_seizure_windows else "")
            + " and as many non-seizure windows spread evenly over each record (balanced); records without a "
            "seizure give no window",
        ),
    )
