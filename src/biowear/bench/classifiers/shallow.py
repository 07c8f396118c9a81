"""Inference kernels of the classical classifiers the BiomedBench apps use (SVM, random forest, MLP, KNN,
random projection), reading parameters fitted by scikit-learn.

Training uses scikit-learn; inference is written out so that its operations can be counted and run in
emulated fixed point, and tests check it against scikit-learn's own predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import OpCounts, kernel


@dataclass(frozen=True)
class Standardizer:
    """Per-feature ``(x - mean) / scale`` fitted on training features."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardizer:
        x = np.asarray(x, dtype=np.float64)
        return cls(x.mean(axis=0), np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.scale

    @property
    def nbytes(self) -> int:
        return int(self.mean.size + self.scale.size)


@dataclass(frozen=True)
class RBFSVM:
    """A binary RBF-kernel SVM: ``f(x) = sum_i c_i exp(-gamma |x - s_i|^2) + b``; class 1 when f > 0."""

    support_vectors: np.ndarray
    dual_coef: np.ndarray
    intercept: float
    gamma: float

    @classmethod
    def from_sklearn(cls, svc: object) -> RBFSVM:
        if getattr(svc, "kernel", None) != "rbf" or len(svc.classes_) != 2:  # type: ignore[attr-defined]
            raise ConfigError("RBFSVM needs a fitted binary sklearn SVC with kernel='rbf'")
        return cls(
            np.asarray(svc.support_vectors_, dtype=np.float64),  # type: ignore[attr-defined]
            np.asarray(svc.dual_coef_[0], dtype=np.float64),  # type: ignore[attr-defined]
            float(svc.intercept_[0]),  # type: ignore[attr-defined]
            float(svc._gamma),  # type: ignore[attr-defined]
        )

    @property
    def n_params(self) -> int:
        return int(self.support_vectors.size + self.dual_coef.size + 2)


def _svm_ops(y: np.ndarray, model: RBFSVM, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    n_sv, d = model.support_vectors.shape
    rows = int(np.atleast_2d(x).shape[0])
    return OpCounts(
        adds=rows * n_sv * (d + 1), macs=rows * n_sv * (d + 1), muls=rows * n_sv, transcendental=rows * n_sv
    )


@kernel("svm", _svm_ops)
def svm_decision(model: RBFSVM, x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Decision values for rows of ``x`` (standardized features).

    Fixed point: features and support vectors are codes of ``q``; squared distances accumulate in 64 bits;
    the exponential is evaluated on the dequantized argument and re-quantized (a table look-up of ``q``'s
    precision); the weighted sum accumulates in 64 bits.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if q is None:
        d2 = ((x[:, None, :] - model.support_vectors[None]) ** 2).sum(axis=-1)
        return np.exp(-model.gamma * d2) @ model.dual_coef + model.intercept
    xq, sq = q.quantize(x), q.quantize(model.support_vectors)
    diff = xq[:, None, :] - sq[None]
    d2 = q.to_float(q.shift_round(np.sum(diff * diff, axis=-1), q.frac_bits))
    k = q.quantize(np.exp(-model.gamma * d2))
    return q.to_float(q.matmul(k, q.quantize(model.dual_coef))) + q.roundtrip(np.array(model.intercept))


@dataclass(frozen=True)
class Forest:
    """Decision trees in flat arrays (scikit-learn's layout): per tree, ``left``, ``right``, ``feature``,
    ``threshold`` and per-leaf class probabilities ``value``."""

    trees: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]
    n_classes: int

    @classmethod
    def from_sklearn(cls, forest: object) -> Forest:
        trees = []
        for est in forest.estimators_:  # type: ignore[attr-defined]
            t = est.tree_
            value = t.value[:, 0, :]
            value = value / np.maximum(value.sum(axis=1, keepdims=True), 1e-12)
            trees.append((t.children_left.copy(), t.children_right.copy(), t.feature.copy(), t.threshold.copy(), value))
        return cls(tuple(trees), int(len(forest.classes_)))  # type: ignore[attr-defined]

    @property
    def n_nodes(self) -> int:
        return int(sum(t[0].size for t in self.trees))


def _forest_ops(y: tuple[np.ndarray, int], model: Forest, x: np.ndarray, *args: object, **kw: object) -> OpCounts:
    visited = y[1]
    rows = int(np.atleast_2d(x).shape[0])
    return OpCounts(cmps=visited, moves=2 * visited, adds=rows * len(model.trees) * model.n_classes)


@kernel("random_forest", _forest_ops)
def _forest_traverse(model: Forest, x: np.ndarray, q: QFormat | None = None) -> tuple[np.ndarray, int]:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if q is not None:
        x = q.roundtrip(x)
    proba = np.zeros((x.shape[0], model.n_classes))
    visited = 0
    for left, right, feature, threshold, value in model.trees:
        thr = q.roundtrip(threshold) if q is not None else threshold
        for r in range(x.shape[0]):
            node = 0
            while left[node] != -1:
                node = left[node] if x[r, feature[node]] <= thr[node] else right[node]
                visited += 1
            proba[r] += value[node]
    return proba / len(model.trees), visited


def forest_proba(model: Forest, x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Class probabilities averaged over trees (scikit-learn's ``predict_proba``); with ``q`` features and
    thresholds are compared as fixed-point codes."""
    return _forest_traverse(model, x, q)[0]


@dataclass(frozen=True)
class MLP:
    """A ReLU multilayer perceptron with softmax output (weights as scikit-learn's ``coefs_``)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @classmethod
    def from_sklearn(cls, mlp: object) -> MLP:
        if getattr(mlp, "activation", None) != "relu":
            raise ConfigError("MLP kernel supports sklearn MLPClassifier(activation='relu')")
        return cls(tuple(np.asarray(w) for w in mlp.coefs_), tuple(np.asarray(b) for b in mlp.intercepts_))  # type: ignore[attr-defined]

    @property
    def n_params(self) -> int:
        return int(sum(w.size for w in self.weights) + sum(b.size for b in self.biases))


def _mlp_ops(y: np.ndarray, model: MLP, x: np.ndarray, *args: object, **kwargs: object) -> OpCounts:
    rows = int(np.atleast_2d(x).shape[0])
    macs = sum(w.size for w in model.weights)
    outs = sum(b.size for b in model.biases)
    k = model.biases[-1].size
    return OpCounts(macs=rows * macs, adds=rows * outs, cmps=rows * outs, transcendental=rows * k)


@kernel("mlp", _mlp_ops)
def mlp_proba(model: MLP, x: np.ndarray) -> np.ndarray:
    """Class probabilities (softmax; a single output unit is a logistic binary classifier)."""
    h = np.atleast_2d(np.asarray(x, dtype=np.float64))
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        h = h @ w + b
        if i < len(model.weights) - 1:
            h = np.maximum(h, 0.0)
    if h.shape[1] == 1:
        p = 1 / (1 + np.exp(-h[:, 0]))
        return np.stack([1 - p, p], axis=1)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _knn_ops(y: float, train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray, k: int, **kw: object) -> OpCounts:
    n, d = np.asarray(train_x).shape
    # distances, then k passes of selection sort over the remaining distances (min search + swap)
    return OpCounts(adds=n * d, macs=n * d, cmps=sum(n - i for i in range(k)), moves=3 * k, transcendental=0)


@kernel("knn", _knn_ops)
def knn_fraction(train_x: np.ndarray, train_y: np.ndarray, x: np.ndarray, k: int) -> float:
    """Fraction of class-1 labels among the ``k`` nearest training points of ``x`` (squared Euclidean
    distance; ties keep the lower index, as a selection sort does)."""
    train_x = np.asarray(train_x, dtype=np.float64)
    if not 1 <= k <= train_x.shape[0]:
        raise ConfigError(f"k must be within 1..{train_x.shape[0]} training points, got {k}")
    d2 = ((train_x - np.asarray(x, dtype=np.float64)) ** 2).sum(axis=1)
    nearest = np.argsort(d2, kind="stable")[:k]
    return float(np.mean(np.asarray(train_y)[nearest] == 1))


def sparse_random_projection(n_in: int, n_out: int, seed: int) -> np.ndarray:
    """Achlioptas' database-friendly projection: entries +1/-1 with probability 1/6 each, else 0.

    Returns:
        Integer matrix (n_out, n_in) of -1/0/+1 (the sqrt(3/n_out) scale is left to the classifier).
    """
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1, 0, 1]), size=(n_out, n_in), p=[1 / 6, 2 / 3, 1 / 6]).astype(np.int64)


def _rp_ops(y: np.ndarray, matrix: np.ndarray, x: np.ndarray, **kw: object) -> OpCounts:
    rows = int(np.atleast_2d(x).shape[0])
    return OpCounts(adds=rows * int(np.count_nonzero(matrix)))


@kernel("random_projection", _rp_ops)
def project(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Apply a -1/0/+1 projection to rows of ``x``: additions and subtractions only (exact on codes)."""
    x = np.atleast_2d(np.asarray(x))
    return x @ matrix.T
