"""A scikit-learn-style estimator over any registered model family: ``Network(...).fit(x, y).predict(x)``.

``__init__`` only stores its arguments; :meth:`Network.fit` learns ``task_``, ``model_``, ``classes_`` and
``history_``; labels may be integers, strings (classification) or floats (regression, trained on standardised
targets kept inside the network). The fitted network saves to the same ``model.pt`` every command reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from biowear.data.arrays import task_and_labels
from biowear.data.task import Task
from biowear.errors import ConfigError, DataError
from biowear.train import TrainConfig, build_model, evaluate, fit, predict, predict_proba, save_model
from biowear.train.artifacts import SavedModel
from biowear.train.target import target_scale


class Network:
    """One network of a registered family, trained with the one :func:`biowear.train.fit` loop.

    Args:
        family: registered model-family name (``resnet_lstm``, ``ecg_cnn``, ...).
        arch: architecture text of that family (``"blocks=2,x=1,lstm=32"``) or object; None: the family default.
        train: training settings (epochs, batch size, lr, early stopping, seed, device, regression loss).
        val_fraction: share of the training windows held out for early stopping when ``fit`` gets no
            validation set (seeded by ``train.seed``; stratified for classification).
        target, unit: name and unit of a regression target, for reports.
    """

    def __init__(
        self,
        family: str = "resnet_lstm",
        arch: Any = None,
        train: TrainConfig | None = None,
        val_fraction: float = 0.15,
        target: str = "target",
        unit: str = "",
    ) -> None:
        self.family = family
        self.arch = arch
        self.train = train
        self.val_fraction = val_fraction
        self.target = target
        self.unit = unit

    # ------------------------------------------------------------ fitting
    def _arch(self) -> Any:
        from biowear.models.family import FAMILIES

        fam = FAMILIES.get(self.family)
        return self.arch if self.arch is not None and not isinstance(self.arch, str) else fam.parse(self.arch)

    def _labels(self, y: np.ndarray) -> tuple[Task, np.ndarray]:
        y = np.asarray(y)
        if y.ndim != 1:
            raise DataError(f"labels must be one value per window (1-D), got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.floating) and len(np.unique(y)) < 2:
            raise DataError(f"classification needs at least two classes in y, got {list(np.unique(y))}")
        return task_and_labels("fit(): y", y, target=self.target, unit=self.unit)

    def _encode(self, y: np.ndarray) -> np.ndarray:
        if self.task_.is_regression:
            return np.asarray(y, dtype=np.float32)
        lookup = {c: i for i, c in enumerate(self.task_.classes)}
        try:
            return np.array([lookup[str(v)] for v in np.asarray(y)], dtype=np.int64)
        except KeyError as exc:
            raise DataError(f"label {exc.args[0]!r} is not a class seen in fit(): {list(self.task_.classes)}") from None

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        fs_hz: float | None = None,
    ) -> Network:
        """Train on windows ``x`` ``(n, channels, samples)`` with labels or targets ``y``; returns self.

        Raises:
            DataError: wrong shapes, NaN/inf, fewer than two classes, or too few windows to hold some out.
        """
        from sklearn.model_selection import train_test_split

        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 3:
            raise DataError(f"x must be (windows, channels, samples), got shape {x.shape}")
        if len(x) != len(y):
            raise DataError(f"{len(x)} windows but {len(y)} labels")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        config = self.train or TrainConfig()
        self.task_, y_enc = self._labels(y)
        if x_val is None or y_val is None:
            stratify = None if self.task_.is_regression else y_enc
            try:
                idx_train, idx_val = train_test_split(
                    np.arange(len(x)), test_size=self.val_fraction, random_state=config.seed, stratify=stratify
                )
            except ValueError as exc:
                raise DataError(f"cannot hold out {self.val_fraction:g} of {len(x)} windows: {exc}") from None
            x_tr, y_tr, x_va, y_va = x[idx_train], y_enc[idx_train], x[idx_val], y_enc[idx_val]
        else:
            x_tr, y_tr, x_va, y_va = x, y_enc, np.asarray(x_val, dtype=np.float32), self._encode(y_val)
        self.arch_ = self._arch()
        self.input_shape_ = (int(x.shape[1]), int(x.shape[2]))
        self.fs_hz_ = fs_hz
        scale = target_scale(y_tr) if self.task_.is_regression else None
        self.model_ = build_model(self.arch_, self.task_, self.input_shape_, seed=config.seed, target=scale)
        self.history_ = fit(self.model_, x_tr, y_tr, x_va, y_va, config, task=self.task_)
        self.classes_ = self.task_.classes
        return self

    # ------------------------------------------------------------ using
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ConfigError("this Network is not fitted yet; call fit(x, y) first")

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class names (classification) or values (regression) for windows ``x``."""
        self._check_fitted()
        out = predict(self.model_, np.asarray(x, dtype=np.float32), self.task_)
        return out if self.task_.is_regression else np.asarray(self.task_.classes)[out]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` in the order of ``classes_``."""
        self._check_fitted()
        if self.task_.is_regression:
            raise ConfigError("predict_proba is for classifiers; this Network is a regression model")
        return predict_proba(self.model_, np.asarray(x, dtype=np.float32))

    def score(self, x: np.ndarray, y: np.ndarray) -> dict[str, object]:
        """Test metrics as a dictionary (accuracy, F1, AUC ... or MAE, RMSE, Pearson r, within 5)."""
        self._check_fitted()
        return evaluate(self.model_, np.asarray(x, dtype=np.float32), self._encode(y), self.task_).to_dict()

    def save(self, path: str | Path) -> Path:
        """Write ``model.pt`` (readable by ``biowear.load_model`` and every command)."""
        self._check_fitted()
        return save_model(Path(path), self.model_, self.arch_, self.task_, self.input_shape_, fs_hz=self.fs_hz_)

    def to_saved(self) -> SavedModel:
        """The fitted network as a :class:`SavedModel` (what ``compress`` takes)."""
        self._check_fitted()
        return SavedModel(self.model_, self.family, self.arch_, self.task_, self.input_shape_, self.fs_hz_)
