"""The settings of heart-rate estimation: data, the two networks, training budget, distillation, post-processing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from biowear.errors import ConfigError
from biowear.validate import Interval, Options, check

#: How the PPG input row is made from a recording's PPG channels.
PPG_MODES = ("mean", "1", "2")


@dataclass(frozen=True)
class HRConfig:
    """Heart-rate estimation settings (PULSE, seed 003).

    Args:
        dataset: registered heart-rate dataset (``ieee_spc2015``, ``ppg_dalia``, ``wesad_hr``).
        fs_hz: model rate; PPG and accelerometer are resampled to it (32 Hz as in PULSE).
        ppg: the PPG input row: ``mean`` of the channels, or channel ``1`` or ``2``.
        teacher, student: architecture texts of the ``pulse_teacher`` / ``pulse_student`` families
            ("" = the family's default).
        epochs: training epochs of every network (teacher, student with and without distillation: one budget).
        patience: early-stopping patience on the validation subjects' L1 loss (0 = off).
        batch_size, lr, weight_decay: Adam training.
        val_subjects: validation subjects carved from each fold's training subjects.
        distill_gamma: PULSE's g, the weight of the output terms against the relation term.
        distill_beta: PULSE's b, the weight of the label L1 against the L1 to the teacher's estimate.
        relation_distance, relation_angle: weights of the RKD distance and angle terms in the relation loss.
        band_bpm, history: post-processing: each estimate limited to ``median(previous history) ± band``.
        calibration_windows: training windows observed by int8 post-training quantisation.
        platform: MCU platform of the latency and energy estimates (``biowear bench`` platforms).
        seed: seed of weights, batches, validation draw and calibration windows.
        device: ``auto``, ``cpu`` or ``cuda``.
    """

    dataset: str = "ieee_spc2015"
    fs_hz: float = 32.0
    ppg: str = "mean"
    teacher: str = ""
    student: str = ""
    epochs: int = 20
    patience: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.0
    val_subjects: int = 2
    distill_gamma: float = 0.5
    distill_beta: float = 0.5
    relation_distance: float = 1.0
    relation_angle: float = 2.0
    band_bpm: float = 10.0
    history: int = 5
    calibration_windows: int = 512
    platform: str = "apollo3"
    seed: int = 0
    device: str = "auto"

    RULES = {
        "fs_hz": Interval(float, 8.0, 1000.0),
        "ppg": Options(lambda: PPG_MODES),
        "epochs": Interval(int, 1, None),
        "patience": Interval(int, 0, None),
        "batch_size": Interval(int, 2, None),
        "lr": Interval(float, 0.0, None, closed="right"),
        "weight_decay": Interval(float, 0.0, None),
        "val_subjects": Interval(int, 1, None),
        "distill_gamma": Interval(float, 0.0, 1.0),
        "distill_beta": Interval(float, 0.0, 1.0),
        "relation_distance": Interval(float, 0.0, None),
        "relation_angle": Interval(float, 0.0, None),
        "band_bpm": Interval(float, 0.0, None, closed="right"),
        "history": Interval(int, 1, None),
        "calibration_windows": Interval(int, 1, None),
        "seed": Interval(int, 0, None),
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)
        from biowear.bench.platforms import PLATFORMS

        if self.platform not in PLATFORMS:
            raise ConfigError(f"unknown platform {self.platform!r}; valid options are: {PLATFORMS.choices(', ')}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
