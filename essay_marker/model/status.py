"""Whether an essay explains a reason, learned from what the rules and sentence model read.

The rules say a reason is explained when one sentence about it reads as saying how. For
the named reasons that works (explained F1 0.87 on the blind dev set in session 12); for
the others, whose cues overlap ("clever", "mistakes", "scared") and whose explanations the
sentence model has seen less often, it does not (0.66; with this model 0.70, and on two
rounds of writers nobody tuned on 0.57 -> 0.66 each time). A logistic regression over
the rules' and the model's readings of the essay and their pairwise products (how many
sentences are about the reason, how many name it, say how, or are ones the model places
it in; the model's surest "explains"; the rules' status; the essay's length) decides
instead, for the reasons it was trained on. It is fitted on readings made by sentence
models that never saw the essay (cross-fitted), so it learns how far to trust them on
unseen writing.

A named reason can be misread too: the sentence model places the link with Lenin in most
sentences about Lenin's Testament, which annotators file under the rivals' mistakes or the
factions, so wherever one of them says how, the rules call the link explained (F1 0.75 on
the dev essays). Each named reason therefore gets a model of its own, kept where it beats
the rules (`training.fit`): 0.75 -> 0.76 for the link with Lenin, cross-validated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from essay_marker.records import (
    EXPLAINING,
    Coverage,
    FactorCoverage,
    Hint,
    Role,
    SentenceRoles,
    Status,
)

if TYPE_CHECKING:
    from essay_marker.analysis.features import Analysis
    from essay_marker.dataset import Annotation
    from essay_marker.rubric import Rubric

STATUSES = tuple(Status)
_THRESHOLDS = np.linspace(0.1, 0.9, 33)


def reading_row(coverage: Coverage, factor: str, factors: Sequence[str], words: int) -> list[float]:
    """What the rules and the sentence model read about one reason in one essay."""
    about = [s for s in coverage.sentences if any(f == factor for f, _ in s.roles)]
    names = [s for s in about if factor in s.named]
    placed = [s for s in coverage.sentences if factor in s.hinted]

    def surest(ss: Sequence[SentenceRoles]) -> float:
        return max((s.explains or 0.0 for s in ss), default=0.0)

    def role_count(role: Role) -> int:
        return sum(any(f == factor and r == role for f, r in s.roles) for s in about)

    status = coverage.factor(factor).status
    return [
        len(about),
        len(names),
        sum(s.causal for s in about),
        sum(s.causal for s in names),
        surest(about),
        surest(names),
        len(placed),
        sum(factor in s.agreed for s in coverage.sentences),
        sum(s.causal for s in placed),
        surest(placed),
        role_count(Role.JUDGE),
        role_count(Role.WEIGH),
        math.log1p(words),
        *(float(status == st) for st in STATUSES),
        *(float(factor == f) for f in factors),
    ]


@dataclass
class StatusModel:
    """Decides "explained" for some of the rubric's reasons from an essay's readings."""

    pipeline: Pipeline
    factors: list[str]
    threshold: float

    def explained(self, coverage: Coverage, words: int) -> dict[str, bool]:
        """For each of its reasons the essay touches: is it explained?"""
        touched = [f for f in self.factors if coverage.factor(f).status != Status.ABSENT]
        if not touched:
            return {}
        rows = [reading_row(coverage, f, self.factors, words) for f in touched]
        probs = self.pipeline.predict_proba(np.array(rows, dtype=float))[:, 1]
        return {f: bool(p >= self.threshold) for f, p in zip(touched, probs, strict=True)}

    def revise(self, coverage: Coverage, words: int) -> Coverage:
        """The coverage with its reasons' statuses decided by the model: explained (or
        weighed, where the rules found it weighed) or only mentioned. Its sentences,
        evidence and judgement are unchanged."""
        says = self.explained(coverage, words)
        if not says:
            return coverage
        return replace(
            coverage, factors=tuple(_decided(f, says.get(f.id)) for f in coverage.factors)
        )

    def check(self) -> None:
        """Raise TypeError unless every part has the type it needs."""
        if not isinstance(self.factors, list) or not all(isinstance(f, str) for f in self.factors):
            raise TypeError("status factors")
        if not isinstance(self.threshold, int | float) or not hasattr(
            self.pipeline, "predict_proba"
        ):
            raise TypeError("status threshold or pipeline")


def _decided(f: FactorCoverage, explained: bool | None) -> FactorCoverage:
    if explained is None or explained == (f.status in EXPLAINING):
        return f
    if not explained:
        return replace(f, status=Status.MENTIONED)
    weighs = any(e.role == Role.WEIGH for e in f.support)
    return replace(f, status=Status.WEIGHED if weighs else Status.EXPLAINED)


def status_pipeline() -> Pipeline:
    """Scaled readings and their pairwise products into a strongly regularised logistic
    regression. The readings work together ("many sentences about it, but none says how",
    "the model is sure, but of a sentence that names it only in passing"), which the
    readings alone show a linear model one at a time: writer-grouped ten-fold on the dev
    essays' readings (three shuffles), explained F1 0.704 -> 0.719 for the other reasons,
    0.750 -> 0.760 for the link with Lenin, the rest within 0.004. Boosted trees did as well
    but weighed 4 MB and a second at every start-up (plain) or predicted on OpenMP threads,
    which hang in a batch worker forked after them (histogram)."""
    return make_pipeline(
        StandardScaler(),
        PolynomialFeatures(2, interaction_only=True, include_bias=False),
        StandardScaler(),
        LogisticRegression(C=0.03, max_iter=5000),
    )


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    scores = [f1_score(y, p >= t, zero_division=0) for t in _THRESHOLDS]
    return float(_THRESHOLDS[int(np.argmax(scores))])


@dataclass(frozen=True)
class Readings:
    """Each (essay, reason) row, whether the annotation says it is explained, and what the
    rules said, grouped by essay."""

    rows: np.ndarray
    gold: np.ndarray
    rules: np.ndarray
    groups: list[str]


def readings(
    coverages: Sequence[Coverage],
    words: Sequence[int],
    gold: Sequence[set[str]],
    files: Sequence[str],
    factors: Sequence[str],
) -> Readings:
    """The training rows: every essay's reading of every one of these reasons."""
    rows, y, rules, groups = [], [], [], []
    for cov, n, explained, file in zip(coverages, words, gold, files, strict=True):
        for f in factors:
            rows.append(reading_row(cov, f, factors, n))
            y.append(f in explained)
            rules.append(cov.factor(f).status in EXPLAINING)
            groups.append(file)
    return Readings(np.array(rows, dtype=float), np.array(y), np.array(rules), groups)


MIN_EXPLAINED = 20  # explained (essay, reason) pairs needed before a model is fitted


def fit_status_model(data: Readings, factors: list[str]) -> StatusModel | None:
    """The model for these reasons; None when the annotation has too few explained."""
    if int(data.gold.sum()) < MIN_EXPLAINED or data.gold.all():
        return None
    pipeline = status_pipeline().fit(data.rows, data.gold)
    threshold = _best_threshold(data.gold, pipeline.predict_proba(data.rows)[:, 1])
    return StatusModel(pipeline, factors, threshold)


def status_figures(data: Readings, factors: list[str], folds: int = 5) -> dict[str, float]:
    """Explained F1 of the rules and of the model, each essay's reasons decided by a model
    fitted without it (folds grouped by essay)."""
    if len(set(data.groups)) < folds or int(data.gold.sum()) < MIN_EXPLAINED:
        return {}
    said = np.zeros(len(data.gold), dtype=bool)
    for train, test in GroupKFold(n_splits=folds).split(data.rows, groups=data.groups):
        part = Readings(data.rows[train], data.gold[train], data.rules[train], [])
        model = fit_status_model(part, factors)
        if model is None:
            said[test] = data.rules[test]
            continue
        said[test] = model.pipeline.predict_proba(data.rows[test])[:, 1] >= model.threshold
    return {
        "pairs": len(data.gold),
        "explained": int(data.gold.sum()),
        "f1_rules": round(float(f1_score(data.gold, data.rules, zero_division=0)), 3),
        "f1_model": round(float(f1_score(data.gold, said, zero_division=0)), 3),
    }


@dataclass(frozen=True)
class CrossFitted:
    """Annotated essays' coverages redone with out-of-fold hints, ready to be read for any
    set of reasons (computed once: the coverages are the costly part)."""

    coverages: list[Coverage]
    words: list[int]
    gold: list[set[str]]
    files: list[str]

    def readings(self, factors: Sequence[str]) -> Readings:
        """The training rows for these reasons."""
        return readings(self.coverages, self.words, self.gold, self.files, factors)


def cross_fitted(
    groups: Sequence[str],
    hints: Sequence[Hint],
    analyses: dict[str, Analysis],
    annotations: Sequence[Annotation],
    rubric: Rubric,
    files: set[str] | None = None,
) -> CrossFitted:
    """Every annotated essay's (or only these files') coverage, redone with the out-of-fold
    hints (`sentence.out_of_fold_hints`: models that never saw it); `groups` names the
    script of each hint's sentence."""
    from essay_marker.analysis.coverage import analyse_coverage

    by_file: dict[str, list[Hint]] = {}
    for file, hint in zip(groups, hints, strict=True):
        by_file.setdefault(file, []).append(hint)
    gold: dict[str, set[str]] = {}
    for a in annotations:
        if a.role in (Role.EXPLAIN, Role.WEIGH):
            gold.setdefault(a.file, set()).add(a.factor)
    names = [f for f in by_file if files is None or f in files]
    return CrossFitted(
        [
            analyse_coverage(a.doc, rubric, stems=list(a.stems), hints=by_file[f])
            for f, a in ((f, analyses[f]) for f in names)
        ],
        [analyses[f].doc.word_count for f in names],
        [gold.get(f, set()) for f in names],
        names,
    )
