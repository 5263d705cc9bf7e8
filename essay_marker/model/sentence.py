"""The sentence models: which factors a sentence is about, and whether it explains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from essay_marker.analysis.coverage import AGREES, SURE, FactorHook
from essay_marker.analysis.features import analyse_essay
from essay_marker.dataset import MarkedSet
from essay_marker.model.pipeline import one_blas_thread, role_pipeline, sentence_pipeline
from essay_marker.model.status import StatusModel
from essay_marker.records import Hint, Role
from essay_marker.rubric import Rubric


@dataclass
class SentenceModel:
    """Finds factors in a sentence, and whether it explains rather than describes."""

    pipeline: Pipeline
    factors: list[str]
    threshold: float
    role_pipeline: Pipeline | None = None
    # Decide "explained" for the reasons they were fitted for (model.status): the reasons
    # beyond the named ones together, and named ones each alone, where each beat the rules.
    status: list[StatusModel] = field(default_factory=list)

    def predict(self, stems: Sequence[str]) -> list[Hint]:
        """A hint per sentence (each given as its stems joined by spaces)."""
        if not stems:
            return []
        probs = np.atleast_2d(self.pipeline.predict_proba(list(stems)))
        explains = (
            self.role_pipeline.predict_proba(list(stems))[:, 1]
            if self.role_pipeline is not None
            else [None] * len(stems)
        )
        return [
            Hint(
                frozenset(f for f, p in zip(self.factors, row, strict=True) if p >= self.threshold),
                None if e is None else float(e),
                frozenset(f for f, p in zip(self.factors, row, strict=True) if p >= AGREES),
                frozenset(f for f, p in zip(self.factors, row, strict=True) if p >= SURE),
            )
            for row, e in zip(probs, explains, strict=True)
        ]

    def check(self) -> None:
        """Raise TypeError unless every part has the type it needs."""
        if not isinstance(self.factors, list) or not all(isinstance(f, str) for f in self.factors):
            raise TypeError("factors")
        if not isinstance(self.threshold, int | float) or not hasattr(
            self.pipeline, "predict_proba"
        ):
            raise TypeError("threshold or pipeline")
        if self.role_pipeline is not None and not hasattr(self.role_pipeline, "predict_proba"):
            raise TypeError("role pipeline")
        if not isinstance(self.status, list):
            raise TypeError("status models")
        for part in self.status:
            part.check()

    def hook(self) -> FactorHook:
        """The coverage hook: hints per sentence, each sentence given by its stems."""

        def extra(stems: list[tuple[str, ...]]) -> list[Hint]:
            return self.predict([" ".join(s) for s in stems])

        return extra


@dataclass
class SentenceData:
    """Sentences of annotated scripts with their labels and what the cue phrases found."""

    texts: list[str] = field(default_factory=list)  # stems joined by spaces
    labels: list[list[str]] = field(default_factory=list)  # gold factor ids
    explains: list[bool] = field(default_factory=list)  # gold: explains or weighs a factor
    groups: list[str] = field(default_factory=list)  # script file
    cue_factors: list[set[str]] = field(default_factory=list)
    cue_explains: list[bool] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # the sentence as written

    def subset(self, idx: Sequence[int]) -> SentenceData:
        """The sentences at these positions."""
        return SentenceData(
            *([getattr(self, k)[i] for i in idx] for k in self.__dataclass_fields__)
        )


def sentence_examples(
    marked: MarkedSet, rubric: Rubric, files: set[str] | None = None
) -> SentenceData:
    """Every sentence of the annotated scripts (optionally only these files), labelled."""
    by_file: dict[str, list] = {}
    for a in marked.annotations:
        if files is None or a.file in files:
            by_file.setdefault(a.file, []).append(a)
    data = SentenceData()
    scripts = {s.file: s for s in marked.scripts}
    for name, notes in sorted(by_file.items()):
        analysis = analyse_essay(scripts[name].text, rubric)
        for sent, stems, roles in zip(
            analysis.doc.sentences, analysis.stems, analysis.coverage.sentences, strict=True
        ):
            gold = [a for a in notes if _overlaps(sent.start, sent.end, a.start, a.end)]
            data.texts.append(" ".join(stems))
            data.labels.append(sorted({a.factor for a in gold}))
            data.explains.append(any(a.role in (Role.EXPLAIN, Role.WEIGH) for a in gold))
            data.groups.append(name)
            data.cue_factors.append({f for f, _ in roles.roles})
            data.cue_explains.append(any(r in (Role.EXPLAIN, Role.WEIGH) for _, r in roles.roles))
            data.words.append(sent.text)
    return data


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    shared = min(a1, b1) - max(a0, b0)
    return shared > 0 and shared >= 0.5 * min(a1 - a0, b1 - b0)


def fit_sentence_model(
    data: SentenceData, factors: list[str], threshold: float = 0.5
) -> SentenceModel | None:
    """Train the sentence models; None when there are too few labelled sentences."""
    y = np.array([[f in lab for f in factors] for lab in data.labels], dtype=int).reshape(
        -1, len(factors)
    )
    usable = [i for i, f in enumerate(factors) if y[:, i].sum() >= 3]
    if len(data.texts) < 20 or not usable:
        return None
    pipeline = sentence_pipeline().fit(data.texts, y[:, usable])
    # The role model learns from sentences about a factor: does it explain, or describe?
    about = [i for i, lab in enumerate(data.labels) if lab]
    role_y = [data.explains[i] for i in about]
    role = None
    if len(set(role_y)) == 2 and min(sum(role_y), len(role_y) - sum(role_y)) >= 5:
        role = role_pipeline().fit([data.texts[i] for i in about], role_y)
    return SentenceModel(pipeline, [factors[i] for i in usable], threshold, role)


@one_blas_thread
def out_of_fold_hints(data: SentenceData, factors: list[str], folds: int = 5) -> list[Hint]:
    """Every sentence's hint from a sentence model fitted without its script (grouped
    folds); empty when there are fewer scripts than folds."""
    if len(set(data.groups)) < folds:
        return []
    hints: list[Hint] = [Hint() for _ in data.texts]
    for train, test in GroupKFold(n_splits=folds).split(data.texts, groups=data.groups):
        model = fit_sentence_model(data.subset(train), factors)
        if model:
            for i, hint in zip(test, model.predict([data.texts[i] for i in test]), strict=True):
                hints[i] = hint
    return hints


def sentence_figures(marked: MarkedSet, rubric: Rubric, folds: int = 5) -> dict[str, Any]:
    """F1 of cues alone, the sentence models alone, and both, by script-grouped CV."""
    data = sentence_examples(marked, rubric)
    factors = [f.id for f in rubric.factors]
    return figures_from_hints(data, out_of_fold_hints(data, factors, folds), factors)


def figures_from_hints(
    data: SentenceData, hints: Sequence[Hint], factors: list[str]
) -> dict[str, Any]:
    """F1 of cues alone, the sentence models alone, and both, from out-of-fold hints.

    Per factor: is the factor in the sentence? And over sentences about a factor: does the
    sentence explain (or weigh) it rather than only describe it?
    """
    from essay_marker.analysis.coverage import reads_as_explaining

    if not hints:
        return {}
    out: dict[str, Any] = {
        "sentences": len(data.texts),
        "scripts": len(set(data.groups)),
        "factors": {},
    }
    for f in factors:
        gold = [f in lab for lab in data.labels]
        if sum(gold) == 0:
            continue
        cue = [f in c for c in data.cue_factors]
        mod = [f in h.factors for h in hints]
        both = [a or b for a, b in zip(cue, mod, strict=True)]
        out["factors"][f] = {
            "support": int(sum(gold)),
            "f1_cues": round(float(f1_score(gold, cue, zero_division=0)), 3),
            "f1_model": round(float(f1_score(gold, mod, zero_division=0)), 3),
            "f1_cues_and_model": round(float(f1_score(gold, both, zero_division=0)), 3),
        }
    about = [i for i, lab in enumerate(data.labels) if lab]
    if about and all(hints[i].explains is not None for i in about):
        gold = [data.explains[i] for i in about]
        cue = [data.cue_explains[i] for i in about]
        scores = [float(hints[i].explains or 0.0) for i in about]  # none is None (checked)
        both = [
            reads_as_explaining(x, data.cue_explains[i], data.words[i])
            for i, x in zip(about, scores, strict=True)
        ]
        out["explains"] = {
            "support": int(sum(gold)),
            "sentences": len(about),
            "f1_cues": round(float(f1_score(gold, cue, zero_division=0)), 3),
            "f1_model": round(
                float(f1_score(gold, [x >= 0.5 for x in scores], zero_division=0)), 3
            ),
            "f1_cues_and_model": round(float(f1_score(gold, both, zero_division=0)), 3),
            "precision_cues_and_model": round(
                float(precision_score(gold, both, zero_division=0)), 3
            ),
        }
    return out
