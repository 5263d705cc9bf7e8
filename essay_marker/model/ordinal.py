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

# The length correction is applied only when the out-of-fold errors rise with length at
# least this many standard errors above zero: on a class set the estimate is noisy, and
# a correction that is not clearly there would only move marks at random.
LENGTH_T_MIN = 2.0
LENGTH_COLUMN = "log_words"


def length_slope(truth: Marks, raw: np.ndarray, log_words: np.ndarray) -> tuple[float, float]:
    """How much more the model gives a longer script than a shorter one of the same true
    mark: the coefficient of log words when the out-of-fold error is regressed on the true
    mark and log words, and its t statistic.

    `raw` may hold several repeats of the out-of-fold outputs (one row each); they are
    averaged per script first, so repeats do not count as more scripts than there are.
    """
    raw = np.asarray(raw, dtype=float)
    mean = raw.mean(axis=0) if raw.ndim == 2 else raw
    truth = np.asarray(truth, dtype=float)
    x = np.column_stack([np.ones(len(truth)), truth, np.asarray(log_words, dtype=float)])
    if len(truth) <= x.shape[1] or np.linalg.matrix_rank(x) < x.shape[1]:
        return 0.0, 0.0
    coef, *_ = np.linalg.lstsq(x, mean - truth, rcond=None)
    resid = mean - truth - x @ coef
    var = float(resid @ resid) / (len(truth) - x.shape[1])
    se = math.sqrt(var * float(np.linalg.inv(x.T @ x)[2, 2]))
    return float(coef[2]), float(coef[2] / se) if se > 0 else 0.0


def length_correction(truth: Marks, raw: np.ndarray, log_words: np.ndarray) -> tuple[float, float]:
    """The slope to take off and the log length it is centred on: what `length_slope`
    finds when the model clearly credits length beyond the marks, else no correction.

    The mark may follow length only through what a longer essay does; whatever the model
    gives for length alone among scripts of the same true mark is taken back. A negative
    slope (shorter scripts favoured) is left alone: adding marks for length is never right.
    """
    slope, t = length_slope(truth, raw, log_words)
    if slope <= 0 or t < LENGTH_T_MIN:
        return 0.0, 0.0
    return slope, float(np.mean(log_words))


LENGTH_SPAN = (5.0, 95.0)  # percentiles of the training scripts' log lengths
UNBOUNDED = (-math.inf, math.inf)


def length_bounds(log_words: np.ndarray) -> tuple[float, float]:
    """The log lengths a correction learned on these scripts holds between: the middle
    LENGTH_SPAN of them. Beyond, the nearest end counts, so a line fitted where the
    scripts are is not drawn out to a 20-word note (it lifted one to a mark)."""
    low, high = np.percentile(np.asarray(log_words, dtype=float), LENGTH_SPAN)
    return float(low), float(high)


def fit_length(
    truth: Marks, raw: np.ndarray, log_words: np.ndarray
) -> tuple[float, float, tuple[float, float]]:
    """Everything a length correction learns from out-of-fold outputs, for `corrected`:
    its slope and centre (`length_correction`) and the lengths it holds to (`length_bounds`).
    Cross-validation's folds and the final fit both learn it here, so they learn the same."""
    return (*length_correction(truth, raw, log_words), length_bounds(log_words))


def corrected(
    raw: np.ndarray,
    log_words: np.ndarray,
    slope: float,
    centre: float,
    bounds: tuple[float, float] = UNBOUNDED,
) -> np.ndarray:
    """Continuous outputs with the length correction taken off, lengths held to `bounds`."""
    if not slope:
        return np.asarray(raw, dtype=float)
    lengths = np.clip(np.asarray(log_words, dtype=float), *bounds)
    return np.asarray(raw, dtype=float) - slope * (lengths - centre)


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

    Given the out-of-fold scripts' log word counts too (`oof_length`), it also learns a
    length correction (`length_correction`): `length_slope_` per unit of log words, taken
    off around `length_centre_` before the cuts. The thresholds and spread are fitted on
    the corrected outputs.
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
        oof_length: np.ndarray | None = None,
        **fit_params: Any,
    ) -> OrdinalRegressor:
        """Fit the regression on X, y; thresholds and spread from `oof` = (marks, predictions).

        With `oof_length` (log words of the out-of-fold scripts), the predictions may be
        several repeats, one row per repeat, and `oof`'s marks are each script's once.
        """
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        truth, raw = oof if oof is not None else (y, self.estimator_.predict(X))
        truth = np.asarray(truth, dtype=float)
        raw = np.asarray(raw, dtype=float)
        self.length_slope_, self.length_centre_ = 0.0, 0.0
        self.length_bounds_ = UNBOUNDED
        if oof_length is not None:
            self.length_slope_, self.length_centre_, self.length_bounds_ = fit_length(
                truth, raw, oof_length
            )
            raw = corrected(
                raw, oof_length, self.length_slope_, self.length_centre_, self.length_bounds_
            )
            truth = np.tile(truth, raw.shape[0]) if raw.ndim == 2 else truth
            raw = raw.reshape(-1)
        self.thresholds_ = fit_thresholds(truth, raw, self.low, self.high)
        # Floor: a tiny spread on a small set would make every level look certain.
        self.sigma_ = float(max(np.sqrt(np.mean((raw - truth) ** 2)), SIGMA_FLOOR))
        return self

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The continuous prediction (length correction taken off)."""
        check_is_fitted(self)
        return self.adjust(self.estimator_.predict(X), X)

    def adjust(self, raw: np.ndarray, X: pd.DataFrame) -> np.ndarray:
        """The regression's outputs for X with the learned length correction taken off."""
        if not self.length_slope_:
            return np.asarray(raw, dtype=float)
        lengths = X[LENGTH_COLUMN].to_numpy(float)
        return corrected(raw, lengths, self.length_slope_, self.length_centre_, self.length_bounds_)

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
        numbers = [*self.thresholds_, self.sigma_, self.length_slope_, self.length_centre_]
        if not all(isinstance(t, int | float) for t in numbers):
            raise TypeError("thresholds")
        bounds = self.length_bounds_
        if not (
            isinstance(bounds, tuple)
            and len(bounds) == 2
            and all(isinstance(b, int | float) for b in bounds)
            and bounds[0] <= bounds[1]
        ):
            raise ValueError("length bounds")
        if not self.sigma_ > 0 or not hasattr(self.estimator_, "predict"):
            raise ValueError("sigma or pipeline")

    def to_dict(self) -> dict[str, Any]:
        """What a model file stores: plain types and the fitted pipeline (the file's format)."""
        return {
            "pipeline": self.estimator_,
            "thresholds": self.thresholds_,
            "sigma": self.sigma_,
            "length_slope": self.length_slope_,
            "length_centre": self.length_centre_,
            # None for no bounds: a file holds no infinities.
            "length_bounds": None
            if self.length_bounds_ == UNBOUNDED
            else [float(b) for b in self.length_bounds_],
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
        # Files saved before the correction existed have none.
        model.length_slope_ = stored.get("length_slope", 0.0)
        model.length_centre_ = stored.get("length_centre", 0.0)
        bounds = stored.get("length_bounds")
        model.length_bounds_ = UNBOUNDED if bounds is None else tuple(bounds)
        return model


def _phi(z: float) -> float:
    if math.isinf(z):
        return 1.0 if z > 0 else 0.0
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))
