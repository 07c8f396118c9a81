"""The deployable heart-rate networks: final training on all recordings, saving, and prediction of a recording."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from biowear.errors import ConfigError, DataError
from biowear.hr.config import HRConfig
from biowear.hr.costs import ModelCost, model_cost
from biowear.hr.evaluate import HRWindows
from biowear.hr.train import HR_TASK, Progress, architectures, train_fold
from biowear.paths import atomic_write
from biowear.signal.ppg_hr import HistoryLimit, limit_to_history
from biowear.train.artifacts import load_model, read_json, save_model, write_json

#: Files ``biowear hr train`` writes: the networks and the settings they were trained with.
NETWORK_FILES = {"teacher": "teacher.pt", "student": "student.pt"}
CONFIG_FILE = "hr.json"


@dataclass(frozen=True)
class FinalModels:
    """What :func:`train_final` wrote."""

    paths: tuple[Path, ...]
    val_subjects: tuple[str, ...]
    costs: dict[str, ModelCost]


def train_final(windows: HRWindows, config: HRConfig, out_dir: Path, progress: Progress | None = None) -> FinalModels:
    """Train the teacher and the distilled student on every subject but ``config.val_subjects`` held out for
    early stopping (drawn with the seed), quantise the student to int8 for its figures, and save
    ``teacher.pt``, ``student.pt`` (loadable by :func:`biowear.load_model`) and ``hr.json``."""
    subjects = sorted(set(windows.subject.tolist()))
    if len(subjects) < config.val_subjects + 1:
        raise ConfigError(
            f"final training holds out {config.val_subjects} validation subject(s) and needs one more to train; "
            f"the data has {len(subjects)}"
        )
    rng = np.random.default_rng([config.seed, 10_000])
    val_subjects = tuple(sorted(rng.choice(subjects, size=config.val_subjects, replace=False).tolist()))
    val = np.flatnonzero(np.isin(windows.subject, val_subjects))
    train = np.flatnonzero(~np.isin(windows.subject, val_subjects))
    models = train_fold(
        windows.x,
        windows.y,
        train,
        val,
        config,
        progress,
        which=("teacher", "student_kd", "student_int8"),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shape = (int(windows.x.shape[1]), int(windows.x.shape[2]))
    teacher_arch, student_arch = architectures(config)
    paths = []
    for name, model, arch in (
        ("teacher", models.teacher, teacher_arch),
        ("student", models.student_kd, student_arch),
    ):
        paths.append(
            save_model(
                out_dir / NETWORK_FILES[name],
                model,
                arch,
                HR_TASK,
                shape,
                fs_hz=windows.fs_hz,
                recipe={"hr": config.to_dict()},
                data_key=windows.key,
                meta={"network": name, "distilled": name == "student", "val_subjects": list(val_subjects)},
            )
        )
    costs = {
        "teacher": model_cost(models.teacher, shape, config.platform),
        "student": model_cost(models.student_kd, shape, config.platform),
        "student_int8": model_cost(models.student_kd, shape, config.platform, int8=models.student_int8),
    }
    doc = {
        "config": config.to_dict(),
        "data_key": windows.key,
        "val_subjects": list(val_subjects),
        "train_subjects": sorted(set(windows.subject[train].tolist())),
        "best_epochs": {k: f.best_epoch for k, f in models.fits.items()},
        "train_time_s": {k: round(f.train_time_s, 1) for k, f in models.fits.items()},
        "costs": {k: c.to_dict() for k, c in costs.items()},
    }
    write_json(out_dir / CONFIG_FILE, doc)
    paths.append(out_dir / CONFIG_FILE)
    return FinalModels(tuple(paths), val_subjects, costs)


@dataclass(frozen=True)
class Prediction:
    """One BPM per window of a recording (aligned with its BPM0), and the MAE when the truth was given."""

    bpm: np.ndarray
    truth: np.ndarray | None
    shift_s: float

    @property
    def mae(self) -> float | None:
        return None if self.truth is None else float(np.mean(np.abs(self.bpm - self.truth)))

    def write_csv(self, path: Path) -> None:
        """``window,start_s,bpm[,truth_bpm]`` lines, written atomically."""
        head = "window,start_s,bpm" + (",truth_bpm" if self.truth is not None else "")
        lines = [head]
        for k, v in enumerate(self.bpm):
            row = f"{k},{k * self.shift_s:g},{v:.3f}"
            lines.append(row + (f",{self.truth[k]:.3f}" if self.truth is not None else ""))
        text = "\n".join(lines) + "\n"
        atomic_write(Path(path), lambda fh: fh.write(text.encode()))


def predict_recording(
    recording: Path, model_dir: Path, truth: Path | None = None, network: str = "student", post: bool = True
) -> Prediction:
    """Estimate a recording's heart rate with a network saved by :func:`train_final`.

    Raises:
        ConfigError: a missing or foreign model folder, or a network trained at another rate or input.
        DataError: an unreadable recording or a truth file of another length.
    """
    from biowear.hr.data import file_windows

    model_dir = Path(model_dir)
    if network not in NETWORK_FILES:
        raise ConfigError(f"unknown network {network!r}; valid options are: {', '.join(NETWORK_FILES)}")
    settings = read_json(model_dir / CONFIG_FILE, "heart-rate model settings (written by `biowear hr train`)")
    config = HRConfig(**settings["config"])
    saved = load_model(model_dir / NETWORK_FILES[network])
    if not saved.task.is_regression or saved.fs_hz != config.fs_hz:
        raise ConfigError(
            f"{model_dir / NETWORK_FILES[network]} is not the heart-rate network of {model_dir / CONFIG_FILE} "
            f"(task {saved.task.kind}, {saved.fs_hz} Hz vs {config.fs_hz} Hz)"
        )
    x, y, shift_s = file_windows(Path(recording), None if truth is None else Path(truth), config)
    if tuple(x.shape[1:]) != tuple(saved.input_shape):
        raise DataError(
            f"{recording} gives windows of {x.shape[1]} x {x.shape[2]} samples; the network takes "
            f"{saved.input_shape[0]} x {saved.input_shape[1]}"
        )
    bpm = np.asarray(saved.predict(x), dtype=np.float64).reshape(-1)
    if post:
        bpm = limit_to_history(bpm, HistoryLimit(config.band_bpm, config.history))
    return Prediction(bpm, None if y is None else np.asarray(y, dtype=np.float64), shift_s)
