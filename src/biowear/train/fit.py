"""The one training loop: Adam, mini-batches over in-memory tensors, early stopping, best-state restore."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
import torch
from torch import nn

from biowear.errors import ConfigError, DataError
from biowear.train.metrics import Metrics, compute_metrics

CLASS_WEIGHTINGS: tuple[str, ...] = ("none", "balanced")


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

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a positive number, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise ConfigError(
                f"unknown class weighting {self.class_weighting!r}; valid options are: {', '.join(CLASS_WEIGHTINGS)}"
            )
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            raise ConfigError(f"grad_clip_norm must be positive or None, got {self.grad_clip_norm}")
        if self.patience < 0:
            raise ConfigError(f"patience must be >= 0, got {self.patience}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"unknown device {self.device!r}; valid options are: auto, cpu, cuda")
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


def _as_tensors(x: np.ndarray, y: np.ndarray, device: torch.device, name: str) -> _Tensors:
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} inputs but {len(y)} labels")
    if len(x) == 0:
        raise DataError(f"{name}: no samples")
    if not np.all(np.isfinite(x)):
        raise DataError(f"{name}: inputs contain NaN/inf")
    return _Tensors(
        torch.as_tensor(x, dtype=torch.float32, device=device), torch.as_tensor(y, dtype=torch.long, device=device)
    )


def _class_weights(y: np.ndarray, n_classes: int, mode: str, device: torch.device) -> torch.Tensor | None:
    if mode == "none":
        return None
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32, device=device)


@torch.no_grad()
def _loss_and_logits(model: nn.Module, data: _Tensors, loss_fn: nn.Module, batch_size: int):
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
) -> FitResult:
    """Train ``model`` in place and restore its best validation-loss weights.

    Args:
        model: network mapping ``(B, C, L)`` inputs to ``(B, n_classes)`` logits.
        x_train, y_train: training inputs and integer labels.
        x_val, y_val: validation inputs and labels (early stopping, best-state selection).
        config: training settings.
        callbacks: progress hooks (also used to enforce pruning masks).
        loss: optional training loss ``loss(model, x, y)`` replacing cross-entropy (e.g. distillation);
            validation and early stopping still use plain cross-entropy.

    Returns:
        The training history and timing.

    Raises:
        DataError: empty sets, mismatched lengths or non-finite inputs.
    """
    device = config.resolved_device()
    model.to(device)
    train = _as_tensors(x_train, y_train, device, "training set")
    val = _as_tensors(x_val, y_val, device, "validation set")
    n_classes = int(max(y_train.max(), y_val.max())) + 1
    weights = _class_weights(y_train, n_classes, config.class_weighting, device)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    eval_loss = nn.CrossEntropyLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    n = len(train.y)
    n_batches = math.ceil(n / config.batch_size)
    history: list[EpochLog] = []
    best_loss, best_epoch, best_state = math.inf, 0, copy.deepcopy(model.state_dict())
    stale, samples_seen, stopped_early = 0, 0, False
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        for epoch in range(1, config.epochs + 1):
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
                if not torch.isfinite(batch_loss):
                    raise DataError(f"training diverged at epoch {epoch} (loss {float(batch_loss)}); lower the lr")
                batch_loss.backward()
                if config.grad_clip_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
                optimiser.step()
                running += float(batch_loss.detach()) * len(idx)
                samples_seen += len(idx)
                for cb in callbacks:
                    cb.on_batch_end(epoch, b, float(batch_loss.detach()))
            val_loss, val_logits = _loss_and_logits(model, val, eval_loss, max(config.batch_size, 1024))
            val_acc = float((val_logits.argmax(1) == val.y).float().mean())
            log = EpochLog(epoch, running / n, val_loss, val_acc, time.perf_counter() - t0)
            history.append(log)
            for cb in callbacks:
                cb.on_epoch_end(log)
            if val_loss < best_loss - config.min_delta:
                best_loss, best_epoch, stale = val_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if config.patience and stale >= config.patience:
                    stopped_early = True
                    break
    train_time = time.perf_counter() - started
    model.load_state_dict(best_state)
    return FitResult(tuple(history), best_epoch, stopped_early, train_time, samples_seen, str(device))


@torch.no_grad()
def predict_proba(model: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` for inputs ``x`` (on the model's device; CPU for a model without
    float parameters, such as an int8 network)."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.as_tensor(x[start : start + batch_size], dtype=torch.float32, device=device)
        out.append(torch.softmax(model(xb), dim=1).cpu())
    return torch.cat(out).numpy()


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, classes: tuple[str, ...]) -> Metrics:
    """Metrics of ``model`` on ``(x, y)``."""
    if len(x) == 0:
        raise DataError("cannot evaluate on an empty set")
    return compute_metrics(y, predict_proba(model, x), classes)
