"""A trained model as check uses it: the mark, SPaG and sentence models and the familiar wording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from essay_marker.analysis.coverage import FactorHook
from essay_marker.analysis.features import Analysis, feature_table
from essay_marker.model.ordinal import OrdinalRegressor, apply_thresholds
from essay_marker.model.sentence import SentenceModel
from essay_marker.records import Coverage
from essay_marker.rubric import Rubric


@dataclass
class TrainedModel:
    """Everything `check` needs to mark from a trained model."""

    name: str
    rubric_id: str
    rubric_sha256: str
    columns: list[str]
    mark: OrdinalRegressor
    spag: OrdinalRegressor | None
    sentence: SentenceModel | None
    card: dict[str, Any] = field(default_factory=dict)
    familiar: frozenset[str] = frozenset()  # word pairs seen in two or more marked answers
    # ... in two or more answers at Level 2 or above: what answers that earned credit talk about
    credited: frozenset[str] = frozenset()
    _shared_features: bool | None = field(default=None, init=False, repr=False, compare=False)

    def check(self) -> None:
        """Raise TypeError or ValueError unless every part has the type it needs (a file
        may have been damaged or edited by hand)."""
        for part in (self.mark, self.spag, self.sentence):
            if part is not None:
                part.check()

    @property
    def scorer_name(self) -> str:
        """How results name this model in `scorer`."""
        return f"model:{self.name}"

    def hook(self) -> FactorHook | None:
        """The sentence model's coverage hook, if there is one."""
        return self.sentence.hook() if self.sentence else None

    def revise(self, coverage: Coverage, words: int) -> Coverage:
        """The coverage as the result reports it: the status models, if there are any,
        decide which of their reasons are explained (the mark is read before this)."""
        for status in self.sentence.status if self.sentence else []:
            coverage = status.revise(coverage, words)
        return coverage

    def score(self, analysis: Analysis, rubric: Rubric) -> tuple[int, int, float]:
        """Mark, SPaG mark and the probability that the level is right."""
        return self.score_many([analysis], rubric)[0]

    def score_many(
        self, analyses: Sequence[Analysis], rubric: Rubric
    ) -> list[tuple[int, int, float]]:
        """score() for many essays in one call: one feature table, one prediction each."""
        if not analyses:
            return []
        table = feature_table(analyses, rubric)
        raws, spag_raws = self._predict_raw(table)
        marks = apply_thresholds(raws, self.mark.thresholds_, self.mark.low)
        spags = (
            apply_thresholds(spag_raws, self.spag.thresholds_, self.spag.low)
            if self.spag and spag_raws is not None
            else [a.spag.mark for a in analyses]
        )
        out = []
        for raw, mark, spag in zip(raws, marks, spags, strict=True):
            band = rubric.level_for(int(mark))
            confidence = self.mark.band_probability(float(raw), band.low, band.high)
            out.append((int(mark), int(spag), round(confidence, 3)))
        return out

    def _predict_raw(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """The mark and SPaG models' continuous predictions.

        `train` fits both on the same features, so their fitted feature steps are equal:
        then the features (most of the cost) are computed once for both regressions.
        """
        if self.spag is None:
            return self.mark.predict_raw(table), None
        mark, spag = self.mark.estimator_, self.spag.estimator_
        if self._shared_features is None:
            self._shared_features = _same_fitted(mark.steps[:-1], spag.steps[:-1])
        if not self._shared_features:
            return self.mark.predict_raw(table), self.spag.predict_raw(table)
        features = mark[:-1].transform(table)
        return self.mark.adjust(mark[-1].predict(features), table), spag[-1].predict(features)


def _same_fitted(a: Any, b: Any) -> bool:
    """True when two (fitted) objects hold equal parameters and learned arrays."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_fitted(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same_fitted(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return _same_fitted(vars(a), vars(b))
    return bool(a == b)
