"""The one training loop: Adam, mini-batches over in-memory tensors, early stopping, best-state restore."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from biowear.data.task import Task
from biowear.errors import ConfigError, DataError
from biowear.registry import Registry
from biowear.train.metrics import Metrics, RegressionMetrics, compute_metrics, compute_regression_metrics
from biowear.train.state import LoopState, load_state, restore_rng, save_state
from biowear.validate import Interval, Options, check

CLASS_WEIGHTINGS: Registry[str] = Registry("class weighting")
CLASS_WEIGHTINGS.register("none", "every window weighs the same")
CLASS_WEIGHTINGS.register("balanced", "loss weights inversely proportional to class frequency")
#: Training losses of regression tasks (classification always uses cross-entropy).
REGRESSION_LOSSES: Registry[type[nn.Module]] = Registry("regression loss")
REGRESSION_LOSSES.register("l1", nn.L1Loss)
REGRESSION_LOSSES.register("mse", nn.MSELoss)
DEVICES: Registry[str] = Registry("device")
DEVICES.register("auto", "CUDA when available, else CPU")
DEVICES.register("cpu", "the CPU")
DEVICES.register("cuda", "the first CUDA device")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Args:
        epochs: maximum number of epochs.
        batch_size: mini-batch size.
        lr: Adam learning rate.
        weight_decay: Adam L2 penalty.
        class_weighting: ``none`` or ``balanced`` (loss weights inversely proportional to class frequency).
        patience: stop after this many epochs without a validation-loss improvement larger than
            ``min_delta``; the best epoch's weights are restored. 0 disables early stopping.
        min_delta: smallest validation-loss decrease that counts as an improvement.
        grad_clip_norm: clip the global gradient norm to this value before each step (None: no clipping);
            the default 1.0 keeps the LSTM stable on full MIT-BIH (without it training loss rose in epoch 2).
        seed: seed of weight shuffling and dropout (the global RNG is left untouched).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        regression_loss: ``l1`` (mean absolute error, the PULSE loss) or ``mse``; regression tasks only.
    """

    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    class_weighting: str = "none"
    patience: int = 3
    min_delta: float = 1e-4
    grad_clip_norm: float | None = 1.0
    seed: int = 0
    device: str = "auto"
    regression_loss: str = "l1"

    RULES = {
        "epochs": Interval(int, 1, None),
        "batch_size": Interval(int, 1, None),
        "lr": Interval(float, 0, None, closed="right"),
        "weight_decay": Interval(float, 0, None),
        "class_weighting": Options(CLASS_WEIGHTINGS.names),
        "patience": Interval(int, 0, None),
        "min_delta": Interval(float, 0, None),
        "grad_clip_norm": Interval(float, 0, None, closed="right", optional=True),
        "seed": Interval(int, 0, None),
        "device": Options(DEVICES.names),
        "regression_loss": Options(REGRESSION_LOSSES.names),
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' requested but no CUDA device is available; use auto or cpu")

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclass(frozen=True)
class EpochLog:
    """What one epoch did."""

    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float
    val_mae: float = float("nan")
    monitored: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line: losses and the validation accuracy (classification) or MAE (regression)."""
        quality = f"val MAE {self.val_mae:.4f}" if math.isfinite(self.val_mae) else f"val acc {self.val_accuracy:.4f}"
        return (
            f"epoch {self.epoch}: train loss {self.train_loss:.4f}, val loss {self.val_loss:.4f}, {quality} "
            f"({self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit`."""

    history: tuple[EpochLog, ...]
    best_epoch: int
    stopped_early: bool
    train_time_s: float
    samples_seen: int
    device: str

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def samples_per_s(self) -> float:
        return self.samples_seen / self.train_time_s if self.train_time_s > 0 else float("nan")

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.update(epochs_run=self.epochs_run, samples_per_s=self.samples_per_s)
        return d


class Callback(Protocol):
    """Progress hooks; every method is optional in practice (see :class:`NullCallback`)."""

    def on_epoch_start(self, epoch: int, n_batches: int) -> None: ...
    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None: ...
    def on_epoch_end(self, log: EpochLog) -> None: ...


@dataclass
class NullCallback:
    """A callback that does nothing; subclass it and override what you need."""

    def on_epoch_start(self, epoch: int, n_batches: int) -> None:
        pass

    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
        pass

    def on_epoch_end(self, log: EpochLog) -> None:
        pass


@dataclass
class _Tensors:
    x: torch.Tensor
    y: torch.Tensor


def _as_tensors(x: np.ndarray, y: np.ndarray, device: torch.device, name: str, task: Task) -> _Tensors:
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} inputs but {len(y)} labels")
    if len(x) == 0:
        raise DataError(f"{name}: no samples")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name}: inputs contain NaN/inf")
    if task.is_regression:
        if not np.all(np.isfinite(y)):
            raise DataError(f"{name}: regression targets contain NaN/inf")
        target = torch.as_tensor(np.asarray(y, dtype=np.float32), device=device)
    else:
        if not np.issubdtype(np.asarray(y).dtype, np.integer):
            raise DataError(f"{name}: classification labels must be integers, got {np.asarray(y).dtype}")
        if len(y) and (y.min() < 0 or y.max() >= task.n_outputs):
            raise DataError(f"{name}: labels must lie in 0..{task.n_outputs - 1}, got {y.min()}..{y.max()}")
        target = torch.as_tensor(y, dtype=torch.long, device=device)
    return _Tensors(torch.as_tensor(x, dtype=torch.float32, device=device), target)


def infer_task(y_train: np.ndarray, y_val: np.ndarray) -> Task:
    """The task implied by label arrays: float targets are regression, integer labels classification."""
    if np.issubdtype(np.asarray(y_train).dtype, np.floating):
        return Task.regression()
    n = int(max(np.max(y_train), np.max(y_val))) + 1 if len(y_train) else 2
    return Task.classification(tuple(str(i) for i in range(max(n, 2))))


class _RegressionLoss(nn.Module):
    """A regression loss on the single output column: ``(B, 1)`` or ``(B,)`` predictions vs ``(B,)`` targets."""

    def __init__(self, name: str):
        super().__init__()
        self.inner = REGRESSION_LOSSES.get(name)()

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.inner(out.reshape(len(out), -1)[:, 0], y)


def _class_weights(y: np.ndarray, n_classes: int, mode: str, device: torch.device) -> torch.Tensor | None:
    if mode == "none":
        return None
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32, device=device)


@torch.no_grad()
def _loss_and_logits(model: nn.Module, data: _Tensors, loss_fn: nn.Module, batch_size: int):
    """Mean loss and the raw outputs over ``data`` in evaluation mode.

    ``no_grad`` rather than ``inference_mode``: the latter saves nothing measurable here (large kernels dominate)
    and would turn tensors that a module assigns during evaluation (e.g. observer statistics) into inference
    tensors that a later training step cannot use.
    """
    model.eval()
    total, logits = 0.0, []
    for start in range(0, len(data.y), batch_size):
        out = model(data.x[start : start + batch_size])
        total += float(loss_fn(out, data.y[start : start + batch_size])) * len(out)
        logits.append(out)
    return total / len(data.y), torch.cat(logits)


def fit(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig,
    callbacks: Sequence[Callback] = (),
    loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    task: Task | None = None,
    monitor: Callable[[nn.Module], dict] | None = None,
    state: Path | None = None,
) -> FitResult:
    """Train ``model`` in place and restore its best validation-loss weights.

    Args:
        model: network mapping ``(B, C, L)`` inputs to ``(B, n_classes)`` logits, or to ``(B, 1)`` values
            for a regression task.
        x_train, y_train: training inputs and integer labels (classification) or float targets (regression).
        x_val, y_val: validation inputs and labels (early stopping, best-state selection).
        config: training settings.
        callbacks: progress hooks (also used to enforce pruning masks).
        loss: optional training loss ``loss(model, x, y)`` replacing the task's loss (e.g. distillation);
            validation and early stopping still use the task's plain loss.
        task: classification (cross-entropy) or regression (``config.regression_loss``); default: inferred
            from the labels' dtype (float targets are regression).
        monitor: called with the model (in evaluation mode) after each epoch; what it returns is kept as the
            epoch's :attr:`EpochLog.monitored` (e.g. test metrics for learning curves). It must not train the
            model or draw random numbers; its time is not counted as training time.
        state: a resumable training state file (:mod:`biowear.train.state`). When it exists, training
            continues from it (same settings but ``epochs``, which may only grow) and gives the result an
            uninterrupted run of ``config.epochs`` would give; at the end the state is written there.

    Returns:
        The training history and timing.

    Raises:
        DataError: empty sets, mismatched lengths, non-finite inputs or labels outside the task.
    """
    device = config.resolved_device()
    model.to(device)
    task = task or infer_task(y_train, y_val)
    train = _as_tensors(x_train, y_train, device, "training set", task)
    val = _as_tensors(x_val, y_val, device, "validation set", task)
    if task.is_regression:
        loss_fn: nn.Module = _RegressionLoss(config.regression_loss)
        eval_loss: nn.Module = _RegressionLoss(config.regression_loss)
    else:
        n_classes = int(max(y_train.max(), y_val.max())) + 1
        weights = _class_weights(y_train, n_classes, config.class_weighting, device)
        loss_fn = nn.CrossEntropyLoss(weight=weights)
        eval_loss = nn.CrossEntropyLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    n = len(train.y)
    n_batches = math.ceil(n / config.batch_size)
    loop = LoopState.fresh(model)
    resumed = load_state(state, config, model, optimiser, generator, EpochLog) if state is not None else None
    if resumed is not None:
        loop = resumed
    history = loop.history
    monitor_time = 0.0
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        if resumed is not None:
            restore_rng(resumed, device)
        for epoch in range(len(history) + 1, config.epochs + 1):
            if loop.stopped_early:
                break
            t0 = time.perf_counter()
            for cb in callbacks:
                cb.on_epoch_start(epoch, n_batches)
            model.train()
            order = torch.randperm(n, generator=generator).to(device)
            running = 0.0
            for b in range(n_batches):
                idx = order[b * config.batch_size : (b + 1) * config.batch_size]
                optimiser.zero_grad(set_to_none=True)
                xb, yb = train.x[idx], train.y[idx]
                batch_loss = loss_fn(model(xb), yb) if loss is None else loss(model, xb, yb)
                loss_value = float(batch_loss.detach())  # the batch's one host read (a device sync on CUDA)
                if not math.isfinite(loss_value):
                    raise DataError(f"training diverged at epoch {epoch} (loss {loss_value}); lower the lr")
                batch_loss.backward()
                if config.grad_clip_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
                optimiser.step()
                running += loss_value * len(idx)
                loop.samples_seen += len(idx)
                for cb in callbacks:
                    cb.on_batch_end(epoch, b, loss_value)
            val_loss, val_out = _loss_and_logits(model, val, eval_loss, max(config.batch_size, 1024))
            if task.is_regression:
                val_mae = float((val_out.reshape(len(val_out), -1)[:, 0] - val.y).abs().mean())
                log = EpochLog(epoch, running / n, val_loss, float("nan"), time.perf_counter() - t0, val_mae)
            else:
                val_acc = float((val_out.argmax(1) == val.y).float().mean())
                log = EpochLog(epoch, running / n, val_loss, val_acc, time.perf_counter() - t0)
            if monitor is not None:
                t1 = time.perf_counter()
                log = replace(log, monitored=dict(monitor(model)))
                monitor_time += time.perf_counter() - t1
            history.append(log)
            for cb in callbacks:
                cb.on_epoch_end(log)
            if val_loss < loop.best_loss - config.min_delta:
                loop.best_loss, loop.best_epoch, loop.stale = val_loss, epoch, 0
                loop.best_state = copy.deepcopy(model.state_dict())
            else:
                loop.stale += 1
                if config.patience and loop.stale >= config.patience:
                    loop.stopped_early = True
        loop.train_time_s += time.perf_counter() - started - monitor_time
        if state is not None:
            save_state(state, config, model, optimiser, generator, loop, device)
    model.load_state_dict(loop.best_state)
    return FitResult(
        tuple(history), loop.best_epoch, loop.stopped_early, loop.train_time_s, loop.samples_seen, str(device)
    )


@torch.no_grad()
def predict_outputs(model: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Raw network outputs ``(n, n_outputs)`` for inputs ``x`` (on the model's device; CPU for a model without
    float parameters, such as an int8 network)."""
    if not np.all(np.isfinite(x)):
        raise DataError("inputs contain NaN/inf")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[start : start + batch_size], dtype=torch.float32, device=device)
        y = model(xb)
        out.append(y.reshape(len(y), -1).cpu())
    return torch.cat(out).numpy()


def predict_proba(model: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of a classifier for inputs ``x``."""
    return torch.softmax(torch.as_tensor(predict_outputs(model, x, batch_size)), dim=1).numpy()


def predict(model: nn.Module, x: np.ndarray, task: Task, batch_size: int = 1024) -> np.ndarray:
    """Predictions for ``x``: class indices (classification) or values in the target's unit (regression)."""
    out = predict_outputs(model, x, batch_size)
    return out[:, 0].astype(np.float32) if task.is_regression else out.argmax(axis=1)


def evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, task: Task | tuple[str, ...] | list[str]
) -> Metrics | RegressionMetrics:
    """Metrics of ``model`` on ``(x, y)``: classification metrics for class names or a classification task,
    regression metrics (MAE, RMSE, Pearson r, within 5 units) for a regression task."""
    if len(x) == 0:
        raise DataError("cannot evaluate on an empty set")
    if isinstance(task, Task) and task.is_regression:
        return compute_regression_metrics(y, predict_outputs(model, x)[:, 0])
    classes = task.classes if isinstance(task, Task) else tuple(task)
    return compute_metrics(y, predict_proba(model, x), classes)
