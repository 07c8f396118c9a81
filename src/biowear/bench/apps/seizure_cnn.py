"""SeizureDetCNN: seizure detection from 23-channel EEG with a fully convolutional network (after
Gomez et al. 2020; seed 001). No pre-processing or feature extraction: the 4 s window goes to the network,
which runs in float or emulated 16-bit fixed point. The network is trained here on synthetic EEG
(CHB-MIT is not available in this environment).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.eeg_fcn import FCNSpec, FoldedFCN, build_fcn, calibrate, fcn_logits
from biowear.bench.inputs import eeg_seizure_windows
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import phase

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
