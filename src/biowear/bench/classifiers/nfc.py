"""A neuro-fuzzy classifier over random projections (after Braojos, Ansaloni & Atienza 2013).

Every class has one fuzzy rule whose antecedents are Gaussian membership functions, one per input feature;
the rule's firing strength is their product. The classifier works in the log domain (a sum of weighted
squared distances, no exponential), so the embedded version needs only multiply-accumulates. Means and
widths are fitted from class statistics; the decision offset between the two rules is set for the best
balanced accuracy on the training set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.errors import ConfigError
from biowear.kernels.fixed import QFormat
from biowear.kernels.profiler import OpCounts, kernel


@dataclass(frozen=True)
class NeuroFuzzyClassifier:
    """Two-rule (normal / abnormal) fuzzy classifier with Gaussian memberships.

    Attributes:
        centers: (2, features) membership centres per rule.
        inv_two_var: (2, features) ``1 / (2 sigma^2)`` per membership.
        log_norm: (2,) ``-sum(log sigma)`` per rule.
        offset: decision offset; abnormal when ``score_1 - score_0 > offset``.
    """

    centers: np.ndarray
    inv_two_var: np.ndarray
    log_norm: np.ndarray
    offset: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, min_sigma: float = 1e-3) -> NeuroFuzzyClassifier:
        """Fit on features ``x`` (samples, features) and binary labels ``y`` (both classes required)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
        if set(np.unique(y)) != {0, 1}:
            raise ConfigError("the neuro-fuzzy classifier needs training samples of both classes 0 and 1")
        centers = np.stack([x[y == c].mean(axis=0) for c in (0, 1)])
        sigma = np.stack([np.maximum(x[y == c].std(axis=0), min_sigma) for c in (0, 1)])
        model = cls(centers, 1.0 / (2 * sigma**2), -np.log(sigma).sum(axis=1), 0.0)
        margin = model.margin(x)
        candidates = np.quantile(margin, np.linspace(0.01, 0.99, 99))
        best = max(candidates, key=lambda t: _balanced_accuracy(y, margin > t))
        return cls(centers, model.inv_two_var, model.log_norm, float(best))

    @property
    def n_params(self) -> int:
        return int(self.centers.size + self.inv_two_var.size + self.log_norm.size + 1)

    def margin(self, x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
        """``score_abnormal - score_normal`` per row (log firing strengths)."""
        return nfc_margin(self, x, q)

    def predict(self, x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
        return (self.margin(x, q) > self.offset).astype(np.int64)


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return 0.5 * (np.mean(pred[y == 0] == 0) + np.mean(pred[y == 1] == 1))


def _nfc_ops(y: np.ndarray, model: NeuroFuzzyClassifier, x: np.ndarray, *args: object, **kw: object) -> OpCounts:
    rows = int(np.atleast_2d(x).shape[0])
    f = model.centers.size
    return OpCounts(adds=rows * (f + 2), macs=rows * 2 * f, cmps=rows)


@kernel("neuro_fuzzy", _nfc_ops)
def nfc_margin(model: NeuroFuzzyClassifier, x: np.ndarray, q: QFormat | None = None) -> np.ndarray:
    """Log-domain rule scores difference; in fixed point the distances and weights are codes of ``q``
    multiplied with 64-bit intermediates."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if q is None:
        scores = -np.einsum("rcf,cf->rc", (x[:, None, :] - model.centers[None]) ** 2, model.inv_two_var)
        scores = scores + model.log_norm
        return scores[:, 1] - scores[:, 0]
    d = q.quantize(x)[:, None, :] - q.quantize(model.centers)[None]
    d2 = q.saturate(q.shift_round(d * d, q.frac_bits))
    w = q.quantize(model.inv_two_var)
    acc = q.shift_round(np.einsum("rcf,cf->rc", d2, w), q.frac_bits)
    scores = q.to_float(q.saturate(-acc)) + q.roundtrip(model.log_norm)
    return scores[:, 1] - scores[:, 0]
