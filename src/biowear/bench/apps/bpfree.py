"""Bio-BPfree (reduced): on-device, layer-wise, backpropagation-free fine-tuning of one convolutional block
(Baghersalimi et al. 2023; seed 001): input length 64, 32 channels, 64 filters, four stored samples, one epoch.

The block is first trained layer-wise on a "server" population (synthetic EEG segments of other subjects),
then personalised on the device with one epoch over the patient's four stored samples. No acquisition phase.
The reported quality is the nearest-centroid accuracy of held-out segments of the same patient in the
block's output space, before and after the on-device epoch.

A user with CHB-MIT (EDF + ``chbXX-summary.txt``) runs it on real EEG (:meth:`BioBPfree.real_prepare`, used by
``bench Bio-BPfree --data-dir PATH``): balanced 0.25-s segments (64 samples at 256 Hz) of the 23 CHB-MIT leads,
zero-padded to the block's 32 input channels (stated in the source; the block's shape is seed 001's). The
server population is every patient but the last; the last patient's first two seizure and first two
non-seizure segments are the four stored samples, the rest of that patient's segments the held-out set.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from biowear.bench.app import App, AppInfo, AppOutput, SignalSpec, Window
from biowear.bench.classifiers.bpfree import ConvBlock, block_outputs, pair_loss, train_epoch
from biowear.bench.inputs import eeg_seizure_windows
from biowear.kernels.profiler import phase

CHANNELS, LENGTH, FILTERS, SAMPLES, FS_HZ = 32, 64, 64, 4, 256.0
INFO = AppInfo(
    "Bio-BPfree",
    (SignalSpec("eeg", CHANNELS, FS_HZ, SAMPLES * LENGTH / FS_HZ, 32),),
    "fp32",
    0.0,
    "CONV-GRAD",
    "training",
)


def _segments(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = eeg_seizure_windows(n, CHANNELS, FS_HZ, LENGTH / FS_HZ, seed=seed)
    return x / 100.0, y


def centroid_accuracy(block: ConvBlock, x_ref: np.ndarray, y_ref: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Nearest-class-centroid accuracy of ``x`` in the block's output space (centroids from ``x_ref``)."""
    h_ref, h = block_outputs(block, x_ref), block_outputs(block, x)
    cents = np.stack([h_ref[y_ref == c].mean(axis=0) for c in (0, 1)])
    pred = np.argmin(((h[:, None, :] - cents[None]) ** 2).sum(axis=-1), axis=1)
    return float(np.mean(pred == y))


def _loss(block: ConvBlock, x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    h = block_outputs(block, x)
    return h, pair_loss(h, labels)[0]


class BioBPfree(App):
    """See the module docstring."""

    info = INFO

    def process(self, window: Window, fixed: bool = False) -> AppOutput:
        x = window.signals["eeg"].reshape(CHANNELS, SAMPLES, LENGTH).transpose(1, 0, 2)
        labels = window.annotations["sample_labels"]
        with phase("training"):
            block, loss = train_epoch(self.block_, x, labels, lr=self.lr)
            _, loss_after = _loss(block, x, labels)
        return AppOutput(
            int(loss_after < loss),
            {
                "loss_before": np.array([loss]),
                "loss_after": np.array([loss_after]),
                "weight": block.weight,
                "bias": block.bias,
            },
        )

    def scores(self, outputs: list[AppOutput]) -> dict[str, float]:
        """Held-out nearest-centroid accuracy of the patient's segments before and after the on-device epoch."""
        w = self.test_windows[0]
        x = w.signals["eeg"].reshape(CHANNELS, SAMPLES, LENGTH).transpose(1, 0, 2)
        labels = w.annotations["sample_labels"]
        out = outputs[0].intermediates
        after = replace(self.block_, weight=out["weight"], bias=out["bias"])
        return {
            "loss_before": float(out["loss_before"][0]),
            "loss_after": float(out["loss_after"][0]),
            "holdout_accuracy_before": centroid_accuracy(self.block_, x, labels, self.holdout_x_, self.holdout_y_),
            "holdout_accuracy_after": centroid_accuracy(after, x, labels, self.holdout_x_, self.holdout_y_),
        }

    def static_bytes(self) -> int:
        return 4 * (self.block_.n_params + 2 * FILTERS)

    def real_prepare(
        self, folder: Path | None, dataset: str | None, seed: int = 0, quick: bool = False, lr: float = 0.5
    ) -> BioBPfree:
        """Server training on other patients' CHB-MIT segments, on-device samples of the last patient.

        Raises:
            DataError: fewer than two patients, or the last patient has < 2 segments of a class.
        """
        from biowear.bench.apps.seizure_cnn import chbmit_windows
        from biowear.errors import DataError

        data = chbmit_windows(INFO.name, folder, dataset, 23, FS_HZ, LENGTH / FS_HZ, 16 if quick else None)
        x = np.stack([np.vstack([w.signals["eeg"], np.zeros((CHANNELS - 23, LENGTH))]) for w in data.windows]) / 100
        patients = data.subjects
        if len(patients) < 2:
            raise DataError(f"Bio-BPfree needs seizures of two patients (server + device); found {patients}")
        mine = data.groups == patients[-1]
        pos, neg = np.flatnonzero(mine & (data.labels == 1)), np.flatnonzero(mine & (data.labels == 0))
        if len(pos) < 3 or len(neg) < 3:
            raise DataError(f"Bio-BPfree: patient {patients[-1]} needs >= 3 seizure and non-seizure segments")
        stored = np.concatenate([pos[:2], neg[:2]])
        rest = np.setdiff1d(np.flatnonzero(mine), stored)
        self.lr = lr
        block = ConvBlock.init(CHANNELS, FILTERS, 3, 2, seed=seed)
        rng = np.random.default_rng(seed)
        s_pos = rng.permutation(np.flatnonzero(~mine & (data.labels == 1)))
        s_neg = rng.permutation(np.flatnonzero(~mine & (data.labels == 0)))
        m = min(len(s_pos), len(s_neg))
        order = np.stack([s_pos[:m], s_neg[:m]], axis=1).ravel()  # every mini-batch of 4 holds both classes
        for _ in range(1 if quick else 3):
            block, _ = train_epoch(block, x[order], data.labels[order], lr=lr)
        self.block_ = block
        self.holdout_x_, self.holdout_y_ = x[rest], data.labels[rest]
        window = x[stored].transpose(1, 0, 2).reshape(CHANNELS, SAMPLES * LENGTH)
        self.test_windows = [Window({"eeg": window}, {"eeg": FS_HZ}, None, {"sample_labels": data.labels[stored]})]
        self.synthetic = False
        self.data_source = (
            f"real: {data.dataset}; server {', '.join(patients[:-1])}, device patient {patients[-1]} "
            "(23 leads zero-padded to 32)"
        )
        return self

    def prepare(self, seed: int = 0, data_root: Path | None = None, quick: bool = False, lr: float = 0.5):
        self.data_source = "synthetic 32-channel EEG segments (biowear generator)"
        self.lr = lr
        block = ConvBlock.init(CHANNELS, FILTERS, 3, 2, seed=seed)
        server_x, server_y = _segments(16 if quick else 64, seed + 1)
        for _ in range(1 if quick else 3):
            block, _ = train_epoch(block, server_x, server_y, lr=lr)
        self.block_ = block
        patient_x, patient_y = _segments(SAMPLES + 32, seed + 2)
        stored = patient_x[:SAMPLES]
        self.holdout_x_, self.holdout_y_ = patient_x[SAMPLES:], patient_y[SAMPLES:]
        window = stored.transpose(1, 0, 2).reshape(CHANNELS, SAMPLES * LENGTH)
        self.test_windows = [Window({"eeg": window}, {"eeg": FS_HZ}, None, {"sample_labels": patient_y[:SAMPLES]})]
        return self
