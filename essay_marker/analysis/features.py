"""Essays to a feature table for the model: coverage, writing features and normalised text."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from essay_marker.analysis.coverage import (
    CueSet,
    FactorHook,
    analyse_coverage,
    cue_set,
    sentence_stems,
)
from essay_marker.analysis.spag import estimate_spag
from essay_marker.records import EXPLAINING, Coverage, Hint, Role, Spag, Status
from essay_marker.rubric import STATUSES, Rubric
from essay_marker.text import Doc, analyse, drop_labels

ROLE_COUNTS = (Role.DESCRIBE, Role.EXPLAIN, Role.WEIGH)


@dataclass(frozen=True)
class Analysis:
    """Everything read off one essay before it is marked."""

    doc: Doc
    stems: tuple[tuple[str, ...], ...]
    coverage: Coverage
    spag: Spag


def analyse_essay(text: str, rubric: Rubric, extra_factors: FactorHook | None = None) -> Analysis:
    """Sentences, coverage and SPaG for one essay."""
    return analyse_essays([text], rubric, extra_factors)[0]


def analyse_essays(
    texts: Sequence[str], rubric: Rubric, extra_factors: FactorHook | None = None
) -> list[Analysis]:
    """analyse_essay for many essays, asking extra_factors once about all their sentences.

    A model call has a fixed cost well above its cost per sentence, so one call per essay
    would dominate batch marking.
    """
    labels = frozenset(rubric.language.labels)
    docs = [drop_labels(analyse(text), labels) for text in texts]
    stems = [sentence_stems(doc, rubric) for doc in docs]
    hints: list[list[Hint] | None] = [None] * len(docs)
    if extra_factors:
        flat = extra_factors([s for essay in stems for s in essay])
        start = 0
        for i, essay in enumerate(stems):
            hints[i] = flat[start : start + len(essay)]
            start += len(essay)
    return [
        Analysis(
            doc,
            tuple(st),
            analyse_coverage(doc, rubric, stems=st, hints=h),
            estimate_spag(doc, rubric, st),
        )
        for doc, st, h in zip(docs, stems, hints, strict=True)
    ]


# How much was written rather than what it does. A length-neutral rubric's model does not
# learn from these (the length may act only through what the essay does), though the table
# keeps them: the length-led candidates, the length baseline and the length correction read
# "log_words". Left in, they let the mark follow length on writers the model never saw: on
# 65 essays by five fresh blind writers (session 14) the length leak was 0.346 with them
# and 0.248 without, the QWK 0.963 both ways.
SIZE_COLUMNS = frozenset(
    {"log_words", "sentences", "paragraphs", "specialist_terms", "topic_mentions"}
)


def numeric_columns(rubric: Rubric) -> list[str]:
    """The numeric features a rubric's model learns from, in a fixed order."""
    cols = table_columns(rubric)
    return [c for c in cols if c not in SIZE_COLUMNS] if rubric.length_neutral else cols


def table_columns(rubric: Rubric) -> list[str]:
    """Every numeric column of the feature table, in a fixed order."""
    cols = []
    for f in rubric.factors:
        cols += [f"{f.id}__status"] + [f"{f.id}__{r}" for r in ROLE_COUNTS]
    return [
        *cols,
        "mentioned",
        "explained",
        "weighed",
        "developed",
        "named_mentioned",
        "named_explained",
        "named_weighed",
        "judgement",
        "judgement_supported",
        "judgement_inconsistent",
        "judge_sentences",
        "evidence",
        "misconceptions",
        "log_words",
        "sentences",
        "mean_sentence_words",
        "paragraphs",
        "connectives_per_100",
        "causal_share",
        "weighing_share",
        "factor_share",
        "spelling_accuracy",
        "sentence_control",
        "specialist_terms",
        "type_token_ratio",
        "topic_mentions",
    ]


def essay_features(a: Analysis, rubric: Rubric) -> dict[str, float]:
    """The numeric features of one analysed essay."""
    row: dict[str, float] = {}
    factors = a.coverage.factors
    for f in factors:
        row[f"{f.id}__status"] = STATUSES.index(f.status)
        for r in ROLE_COUNTS:
            row[f"{f.id}__{r}"] = len(f.sentences_with(r))
    done = EXPLAINING
    words = a.doc.word_count
    n_sent = max(1, len(a.doc.sentences))
    sentences = a.coverage.sentences
    j = a.coverage.judgement
    tokens = [t.norm for t in a.doc.tokens]
    row.update(
        mentioned=sum(f.status != Status.ABSENT for f in factors),
        explained=sum(f.status in done for f in factors),
        weighed=sum(f.status == Status.WEIGHED for f in factors),
        developed=sum(f.status in done and len(f.support) >= 2 for f in factors),
        named_mentioned=sum(f.named and f.status != Status.ABSENT for f in factors),
        named_explained=sum(f.named and f.status in done for f in factors),
        named_weighed=sum(f.named and f.status == Status.WEIGHED for f in factors),
        judgement=float(j.present),
        judgement_supported=float(j.supported),
        judgement_inconsistent=float(j.consistent is False),
        judge_sentences=len(j.evidence),
        evidence=len(a.coverage.specific_evidence),
        misconceptions=len(a.coverage.misconceptions),
        log_words=math.log1p(words),
        sentences=len(a.doc.sentences),
        mean_sentence_words=words / n_sent,
        paragraphs=a.doc.paragraph_count,
        connectives_per_100=100 * _count(_connectives(rubric), a.stems) / max(words, 1),
        causal_share=causal_share(a),
        weighing_share=sum(s.weighing for s in sentences) / n_sent,
        factor_share=sum(bool(s.roles) for s in sentences) / n_sent,
        spelling_accuracy=a.spag.spelling_accuracy,
        sentence_control=a.spag.sentence_control,
        specialist_terms=len(a.spag.specialist_terms),
        type_token_ratio=len(set(tokens)) / max(1, len(tokens)),
        topic_mentions=_count(_topic(rubric), a.stems),
    )
    return row


def causal_share(a: Analysis) -> float:
    """The share of the essay's sentences read as saying how or why."""
    return sum(s.causal for s in a.coverage.sentences) / max(1, len(a.doc.sentences))


def word_pairs(a: Analysis) -> list[str]:
    """Adjacent word pairs (stems) within each sentence: what "familiar wording" is made of."""
    return [f"{x} {y}" for st in a.stems for x, y in pairwise(st)]


def model_text(a: Analysis) -> str:
    """The essay as stems (misspellings of rubric terms corrected) for text features."""
    return " ".join(" ".join(s) for s in a.stems)


def feature_table(analyses: Iterable[Analysis], rubric: Rubric) -> pd.DataFrame:
    """One row per essay: the numeric features and a `text` column."""
    rows = [{**essay_features(a, rubric), "text": model_text(a)} for a in analyses]
    return pd.DataFrame(rows, columns=[*table_columns(rubric), "text"])


def _connectives(rubric: Rubric) -> CueSet:
    return cue_set(rubric.language.connectives)


def _topic(rubric: Rubric) -> CueSet:
    return cue_set(rubric.topic_terms)


def _count(cues: CueSet, stems: Iterable[tuple[str, ...]]) -> int:
    return sum(len(cues.find(s)) for s in stems)
