"""A resumable training state: what :func:`biowear.train.fit` needs to continue a run for more epochs.

Multi-fidelity search trains a network for 1 epoch, then (if promoted) continues it to 3 and 9 epochs instead of
starting again. Continuing must give exactly what an uninterrupted run gives, so the state holds the last
epoch's weights and optimiser moments, the shuffling generator and the dropout RNG, the history and the
early-stopping bookkeeping (best loss, best weights, stale epochs). The file is written atomically and read
with ``torch.load(weights_only=True)``; a state of other training settings (anything but ``epochs``) or of
another network is refused.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from biowear.errors import ConfigError

FORMAT = "biowear-fit-state"
VERSION = 1
#: Settings a continued run may change (the budget, and where it runs).
_FREE = ("epochs", "device")


@dataclass
class LoopState:
    """The training loop's bookkeeping between epochs."""

    history: list[Any] = field(default_factory=list)  # EpochLog
    best_loss: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    stale: int = 0
    stopped_early: bool = False
    samples_seen: int = 0
    train_time_s: float = 0.0
    rng: torch.Tensor | None = None
    cuda_rng: torch.Tensor | None = None

    @staticmethod
    def fresh(model: nn.Module) -> LoopState:
        return LoopState(best_state=copy.deepcopy(model.state_dict()))


def _settings(config: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(config).items() if k not in _FREE}


def save_state(
    path: Path,
    config: Any,
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    generator: torch.Generator,
    loop: LoopState,
    device: torch.device,
) -> None:
    """Write the state after the last epoch run (call inside the training RNG context)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "settings": _settings(config),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimiser": optimiser.state_dict(),
        "generator": generator.get_state(),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "history": [asdict(log) for log in loop.history],
        "best_loss": loop.best_loss,
        "best_epoch": loop.best_epoch,
        "best_state": {k: v.detach().cpu() for k, v in loop.best_state.items()},
        "stale": loop.stale,
        "stopped_early": loop.stopped_early,
        "samples_seen": loop.samples_seen,
        "train_time_s": loop.train_time_s,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(doc, tmp)
    os.replace(tmp, path)


def load_state(
    path: Path,
    config: Any,
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    generator: torch.Generator,
    log_type: Callable[..., Any],
) -> LoopState | None:
    """Load ``path`` into ``model``, ``optimiser`` and ``generator``; None when there is no state file yet.
    ``log_type`` rebuilds each history entry from its fields (the training loop's epoch log).

    Raises:
        ConfigError: the file is not a readable state, was written under other training settings, holds more
            epochs than ``config.epochs``, or belongs to another network.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same one-line message
        raise ConfigError(f"{path} is not a readable training state ({type(exc).__name__}: {exc}); delete it") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ConfigError(f"{path} is not a biowear training state of version {VERSION}; delete it")
    settings = _settings(config)
    if doc["settings"] != settings:
        changed = sorted(k for k in set(settings) | set(doc["settings"]) if settings.get(k) != doc["settings"].get(k))
        raise ConfigError(
            f"{path} was trained with other settings ({', '.join(changed)} differ); only epochs may change"
        )
    history = [log_type(**d) for d in doc["history"]]
    if len(history) > config.epochs:
        raise ConfigError(f"{path} already holds {len(history)} epochs, more than the {config.epochs} asked for")
    try:
        model.load_state_dict(doc["model"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{path} belongs to another network ({first})") from None
    optimiser.load_state_dict(doc["optimiser"])
    generator.set_state(doc["generator"])
    return LoopState(
        history=history,
        best_loss=float(doc["best_loss"]),
        best_epoch=int(doc["best_epoch"]),
        best_state=doc["best_state"],
        stale=int(doc["stale"]),
        stopped_early=bool(doc["stopped_early"]),
        samples_seen=int(doc["samples_seen"]),
        train_time_s=float(doc["train_time_s"]),
        rng=doc["rng"],
        cuda_rng=doc["cuda_rng"],
    )


def restore_rng(loop: LoopState, device: torch.device) -> None:
    """Put the dropout RNG back where the saved run left it (inside the training RNG context)."""
    if loop.rng is not None:
        torch.set_rng_state(loop.rng)
    if loop.cuda_rng is not None and device.type == "cuda":
        torch.cuda.set_rng_state(loop.cuda_rng, device)
