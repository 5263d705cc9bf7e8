"""Marks from a regression: thresholds tuned for QWK cut its output into whole marks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from essay_marker.model.metrics import Marks

SIGMA_FLOOR = 0.25


def apply_thresholds(
    pred: np.ndarray, thresholds: Sequence[float] | np.ndarray, low: int
) -> np.ndarray:
    """Continuous predictions to integer marks: low + how many thresholds each passes."""
    return low + np.searchsorted(np.asarray(thresholds), np.asarray(pred), side="right")


def fit_thresholds(y: np.ndarray, pred: np.ndarray, low: int, high: int) -> list[float]:
    """Cut points between marks that maximise QWK of out-of-fold predictions (coordinate search).

    Each cut in turn tries 19 positions between its neighbours, keeping the first that
    beats the best so far. The 19 trials are scored together (`_trial_qwks`): nested
    cross-validation fits thousands of threshold sets, and scored one at a time they were
    over half of a class set's training time. A test holds it to the one-at-a-time search.
    """
    cuts = np.arange(low, high, dtype=float) + 0.5
    if len(cuts) == 0:
        return []
    pred = np.asarray(pred, dtype=float)
    truth = np.asarray(y)
    best = float(_trial_qwks(truth, apply_thresholds(pred, cuts, low)[None, :])[0])
    for _ in range(3):
        before = best
        for i in range(len(cuts)):
            lo = cuts[i - 1] if i else min(pred.min(), cuts[0]) - 1
            hi = cuts[i + 1] if i + 1 < len(cuts) else max(pred.max(), cuts[-1]) + 1
            values = np.linspace(lo, hi, 21)[1:-1]
            # Marks without cut i, then each trial's cut added back (cuts stay in order).
            others = low + np.searchsorted(np.delete(cuts, i), pred, side="right")
            trials = others[None, :] + (values[:, None] <= pred[None, :])
            for value, score in zip(values, _trial_qwks(truth, trials), strict=True):
                if score > best + 1e-9:
                    best, cuts = score, cuts.copy()
                    cuts[i] = value
        if best == before:  # nothing moved: another pass would try the very same positions
            break
    return [float(c) for c in cuts]


def _trial_qwks(y: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """QWK of each row of `trials` against y, both integer marks.

    With quadratic weights the kappa needs no confusion matrix: the observed disagreement
    is the sum of squared differences, and the chance disagreement is
    sum(y^2) + sum(p^2) - 2 sum(y) sum(p) / n (the same formula as sklearn's, expanded).
    """
    y = y.astype(float)
    p = trials.astype(float)
    n = float(len(y))
    observed = ((p - y[None, :]) ** 2).sum(axis=1)
    chance = (y**2).sum() + (p**2).sum(axis=1) - 2.0 * y.sum() * p.sum(axis=1) / n
    safe = np.where(chance > 0, chance, 1.0)
    return np.where(chance > 0, 1.0 - observed / safe, 0.0)


class OrdinalRegressor(RegressorMixin, BaseEstimator):
    """A regression whose continuous output is cut into whole marks low..high.

    `fit` fits a clone of `estimator` and learns `thresholds_` (cut points tuned for QWK)
    and `sigma_` (the spread of its errors, for the confidence of a level). Both are
    learned from out-of-fold predictions when `fit` is given them (`oof`): the in-sample
    predictions of a ridge regression on text are too good to set cuts by.
    """

    def __init__(self, estimator: Any = None, low: int = 0, high: int = 1) -> None:
        self.estimator = estimator
        self.low = low
        self.high = high

    def fit(
        self,
        X: pd.DataFrame,
        y: Marks,
        *,
        oof: tuple[Marks, np.ndarray] | None = None,
        **fit_params: Any,
    ) -> OrdinalRegressor:
        """Fit the regression on X, y; thresholds and spread from `oof` = (marks, predictions)."""
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        truth, raw = oof if oof is not None else (y, self.estimator_.predict(X))
        truth = np.asarray(truth, dtype=float)
        raw = np.asarray(raw, dtype=float)
        self.thresholds_ = fit_thresholds(truth, raw, self.low, self.high)
        # Floor: a tiny spread on a small set would make every level look certain.
        self.sigma_ = float(max(np.sqrt(np.mean((raw - truth) ** 2)), SIGMA_FLOOR))
        return self

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The continuous prediction."""
        check_is_fitted(self)
        return np.asarray(self.estimator_.predict(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Integer marks."""
        return apply_thresholds(self.predict_raw(X), self.thresholds_, self.low)

    def band_probability(self, raw: float, low_mark: int, high_mark: int) -> float:
        """P(true mark in [low_mark, high_mark]) under the cross-validated error spread."""
        t = self.thresholds_
        upper = t[high_mark - self.low] if high_mark < self.high else math.inf
        lower = t[low_mark - self.low - 1] if low_mark > self.low else -math.inf
        return _phi((upper - raw) / self.sigma_) - _phi((lower - raw) / self.sigma_)

    def check(self) -> None:
        """Raise TypeError or ValueError unless every part has the type and size it needs."""
        if not all(isinstance(v, int) for v in (self.low, self.high)) or self.high <= self.low:
            raise ValueError("mark range")
        if not isinstance(self.thresholds_, list) or len(self.thresholds_) != self.high - self.low:
            raise ValueError("thresholds")
        if not all(isinstance(t, int | float) for t in [*self.thresholds_, self.sigma_]):
            raise TypeError("thresholds")
        if not self.sigma_ > 0 or not hasattr(self.estimator_, "predict"):
            raise ValueError("sigma or pipeline")

    def to_dict(self) -> dict[str, Any]:
        """What a model file stores: plain types and the fitted pipeline (the file's format)."""
        return {
            "pipeline": self.estimator_,
            "thresholds": self.thresholds_,
            "sigma": self.sigma_,
            "low": self.low,
            "high": self.high,
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> OrdinalRegressor:
        """The fitted regressor a model file holds; `check` tells whether it is whole."""
        model = cls(stored["pipeline"], stored["low"], stored["high"])
        model.estimator_ = stored["pipeline"]
        model.thresholds_ = stored["thresholds"]
        model.sigma_ = stored["sigma"]
        return model


def _phi(z: float) -> float:
    if math.isinf(z):
        return 1.0 if z > 0 else 0.0
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))
