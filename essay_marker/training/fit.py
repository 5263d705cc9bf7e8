"""Fitting the model a teacher uses: the training set, the final fit, held-out figures."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from essay_marker.analysis.features import (
    Analysis,
    feature_table,
    numeric_columns,
    word_pairs,
)
from essay_marker.dataset import MarkedSet
from essay_marker.errors import DataError
from essay_marker.model.metrics import agreement, spag_agreement
from essay_marker.model.ordinal import LENGTH_COLUMN, OrdinalRegressor
from essay_marker.model.persist import FORMAT_VERSION
from essay_marker.model.pipeline import (
    SEED,
    SPAG_CANDIDATE,
    Candidate,
    Progress,
    mark_pipeline,
    one_blas_thread,
    quiet,
)
from essay_marker.model.sentence import (
    SentenceData,
    figures_from_hints,
    fit_sentence_model,
    out_of_fold_hints,
    sentence_examples,
)
from essay_marker.model.status import (
    StatusModel,
    cross_fitted,
    fit_status_model,
    status_figures,
)
from essay_marker.model.trained import TrainedModel
from essay_marker.records import Hint
from essay_marker.rubric import Rubric
from essay_marker.training.crossval import cross_validate
from essay_marker.training.folds import Analyser
from essay_marker.training.sets import TrainingSet, text_key


def trained_on(model: TrainedModel) -> set[str]:
    """The text keys of the scripts a saved model was trained on (from its card)."""
    keys = model.card.get("data", {}).get("text_keys", []) if isinstance(model.card, dict) else []
    return {k for k in keys if isinstance(k, str)}


def held_out_figures(
    model: TrainedModel, marked: MarkedSet, rubric: Rubric, include_trained: bool = False
) -> dict[str, Any]:
    """Agreement of a saved model with marks, on the scripts it was not trained on.

    The card keeps a hash of every training script's words, so scripts the model has seen
    are recognised and left out (unless include_trained), and the figures say how many.
    """
    from essay_marker.scoring import score_essays

    seen = trained_on(model)
    used = [s for s in marked.scripts if text_key(s.text) in seen]
    scripts = (
        list(marked.scripts) if include_trained else [s for s in marked.scripts if s not in used]
    )
    if not scripts:
        raise DataError(
            f"the model was trained on all {len(marked.scripts)} of these scripts",
            "evaluate it on scripts it has not seen, or give --include-trained",
        )
    results = score_essays([(s.text, s.file) for s in scripts], rubric, model)
    figures: dict[str, Any] = {
        "model": agreement(rubric, [s.mark for s in scripts], [r.mark for r in results]),
        "trained_on": len(used),
        "included_trained": include_trained,
    }
    spags = [s.spag for s in scripts if s.spag is not None]
    if rubric.spag_max and len(spags) == len(scripts):
        figures["spag"] = spag_agreement(spags, [r.spag.mark for r in results], rubric.spag_max)
    figures["refer_to_teacher"] = sum(r.refer_to_teacher for r in results)
    return figures


@one_blas_thread
def train(
    data: TrainingSet | MarkedSet,
    rubric: Rubric,
    name: str,
    folds: int = 5,
    candidates: Sequence[Candidate] | None = None,
    progress: Progress = quiet,
    analyses: Sequence[Analysis] | None = None,
    jobs: int | None = None,
    familiar_from: frozenset[str] | None = None,
) -> TrainedModel:
    """Cross-validate (nested), choose the estimator by QWK, fit it on everything, write its card.

    `analyses` (of the scripts, in order, without a sentence model) saves redoing them when
    the caller already has them, as the ASAP benchmark does across its folds.
    `familiar_from` names the scripts whose word pairs the flags take as what marked answers
    talk about (default: all): their thresholds were measured with those pairs.
    """
    import platform

    import nltk
    import sklearn
    import skops

    started = time.perf_counter()
    ts = data if isinstance(data, TrainingSet) else TrainingSet(data, len(data.scripts))
    marked = ts.marked
    analyser = Analyser([s.text for s in marked.scripts], rubric, list(analyses or []))
    evaluation = cross_validate(ts, rubric, folds, candidates, progress, analyser, jobs)
    sentences: dict[str, Any] = {}
    own_files = {s.file for s in marked.scripts[: ts.evaluated]}
    factors = [f.id for f in rubric.factors]
    examples = sentence_examples(marked, rubric) if factors else None
    status: list[StatusModel] = []
    if examples is not None and any(a.file in own_files for a in marked.annotations):
        # Labels from the base corpus alone: its figures are in the bundled model's card.
        progress("sentence model figures")
        hints = out_of_fold_hints(examples, factors, folds)
        sentences = figures_from_hints(examples, hints, factors)
        status, sentences["status"] = _status_models(
            examples, hints, analyser, marked, rubric, folds, own_files
        )
    progress("fitting the final model on all scripts")
    smodel = fit_sentence_model(examples, factors) if examples is not None else None
    if smodel and status:
        smodel = replace(smodel, status=status)
    analyses = analyser.with_model(smodel)
    table = feature_table(analyses, rubric)
    cols = numeric_columns(rubric)
    chosen = evaluation.chosen
    weights = ts.weights
    mark = _final(
        mark_pipeline(cols, chosen),
        table,
        np.array(marked.marks),
        weights,
        evaluation.pooled_y["mark"],
        evaluation.raw[chosen.name],
        rubric.max_mark,
        table[LENGTH_COLUMN].to_numpy(float)[: ts.evaluated] if rubric.length_neutral else None,
    )
    spag = None
    if "spag" in evaluation.figures:
        spag = _final(
            mark_pipeline(cols, SPAG_CANDIDATE),
            table,
            np.array([s.spag for s in marked.scripts]),
            weights,
            evaluation.pooled_y["spag"],
            evaluation.raw["spag"],
            rubric.spag_max,
        )
    known = [
        (a, m)
        for a, m, s in zip(analyses, marked.marks, marked.scripts, strict=True)
        if familiar_from is None or s.file in familiar_from
    ]
    familiar, familiar_card = trusted_familiar([a for a, m in known if m > 0])
    credited = (
        common_pairs([a for a, m in known if rubric.level_for(m).level >= 2])
        if familiar
        else frozenset()
    )
    familiar_card["credited_pairs"] = len(credited)
    familiar_card["from_scripts"] = len(known)
    own = marked.scripts[: ts.evaluated]
    card = {
        "name": name,
        "format_version": FORMAT_VERSION,
        "rubric": {"id": rubric.id, "sha256": rubric.sha256},
        "data": {
            "sha256": marked.sha256,
            "scripts": len(own),
            "annotated_scripts": len({a.file for a in marked.annotations}),
            "mark_counts": {
                str(k): int(v) for k, v in sorted(Counter(s.mark for s in own).items())
            },
            "base_corpus": evaluation.figures.get("base_corpus"),
            # Every script it learned from (the base corpus too): evaluate leaves them out.
            "text_keys": sorted({text_key(s.text) for s in marked.scripts}),
        },
        "estimator": {
            "chosen": chosen.name,
            "alpha": chosen.alpha,
            "text_features": chosen.text,
            "ordinal": "ridge regression, thresholds tuned for QWK on out-of-fold predictions",
            "candidates": list(evaluation.figures["selection"]),
            # Marks per unit of log words taken off (0: the rubric is not length-neutral, or
            # the model did not clearly credit length), centred on the mean log length, with
            # lengths held to the middle of the training scripts' (`words`, when bounded; the
            # length column is log(1 + words)).
            "length_correction": {
                "length_neutral": rubric.length_neutral,
                "slope": round(mark.length_slope_, 4),
                "centre": round(mark.length_centre_, 4),
                "words": [round(math.expm1(b)) for b in mark.length_bounds_]
                if math.isfinite(mark.length_bounds_[0])
                else None,
            },
            "seed": SEED,
        },
        "cross_validation": evaluation.figures,
        "sentence_model": sentences,
        "familiar_pairs": familiar_card,
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "nltk": nltk.__version__,
            "skops": skops.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return TrainedModel(
        name, rubric.id, rubric.sha256, cols, mark, spag, smodel, card, familiar, credited
    )


def _status_models(
    examples: SentenceData,
    hints: list[Hint],
    analyser: Analyser,
    marked: MarkedSet,
    rubric: Rubric,
    folds: int,
    own: set[str],
) -> tuple[list[StatusModel], dict[str, Any]]:
    """The status models, with their cross-validated figures: one for the reasons beyond
    the named ones together, and one for each named reason alone; each kept only when it
    beats the rules at that. It learns from the teacher's own annotated scripts alone: what
    counts as "explained" is their call, and a base corpus annotated by other hands draws
    the line elsewhere.

    A named reason's rules can be fooled in ways a model of the essay's readings sees
    through: a reason the sentence model places in many sentences about something near it
    (Lenin's Testament for the Lenin link) reads as explained wherever one of them says how.
    """
    if not hints:
        return [], {}
    plain = {s.file: a for s, a in zip(marked.scripts, analyser.plain, strict=True)}
    fitted = cross_fitted(examples.groups, hints, plain, marked.annotations, rubric, own)
    others = [f.id for f in rubric.factors if not f.named]
    parts: list[tuple[str, list[str]]] = [("others", others)] if others else []
    parts += [(f.id, [f.id]) for f in rubric.factors if f.named]
    models, figures = [], {}
    for key, ids in parts:
        data = fitted.readings(ids)
        got: dict[str, Any] = status_figures(data, ids, folds)
        model = fit_status_model(data, ids)
        used = model is not None and bool(got) and got["f1_model"] > got["f1_rules"]
        figures[key] = got | {"used": used, "factors": ids}
        if used and model is not None:
            models.append(model)
            figures[key]["threshold"] = round(model.threshold, 3)
    return models, figures


FAMILIAR_MIN_DOCS = 2  # a word pair is familiar once this many marked answers use it


FAMILIAR_SLIP = 0.01  # genuine answers the familiar-pair checks may misjudge, at most


def common_pairs(answers: Sequence[Analysis]) -> frozenset[str]:
    """Word pairs (stems) that FAMILIAR_MIN_DOCS or more of these answers use."""
    return _common(Counter(p for a in answers for p in set(word_pairs(a))))


def _common(docs: Counter[str]) -> frozenset[str]:
    """The pairs of a count of answers per pair that enough answers use."""
    return frozenset(p for p, n in docs.items() if n >= FAMILIAR_MIN_DOCS)


def trusted_familiar(answers: Sequence[Analysis]) -> tuple[frozenset[str], dict[str, Any]]:
    """The word pairs of marked answers, if there are enough answers to judge new ones by.

    The flags call an essay nonsense or off the question when few of its word pairs occur
    in marked answers. With a class set of answers, most genuine essays would fail that
    (on ASAP essays, 35 answers put 70-96% of genuine essays under the line). Each marked
    answer is checked against the pairs of the *other* answers; unless at most 1% fall
    under the line, the model keeps no pairs and those checks are skipped.
    """
    from essay_marker.screen.flags import threshold

    too_short = threshold("too_short", "words")
    unfamiliar = threshold("off_topic.unfamiliar", "familiar_pairs")
    pairs = [word_pairs(a) for a in answers]
    docs: Counter[str] = Counter(p for mine in pairs for p in set(mine))
    shares = [
        # familiar without this answer: in FAMILIAR_MIN_DOCS answers besides it
        sum(docs[p] > FAMILIAR_MIN_DOCS for p in mine) / len(mine)
        for a, mine in zip(answers, pairs, strict=True)
        if mine and a.doc.word_count >= too_short
    ]
    below = float(np.mean(np.array(shares) < unfamiliar)) if shares else 1.0
    trusted = below <= FAMILIAR_SLIP
    familiar = _common(docs) if trusted else frozenset()
    card = {
        "pairs": len(familiar),
        "used_by_flags": trusted,
        "answers_below_line": round(below, 4),
    }
    return familiar, card


def _final(
    pipeline: Any,
    table: pd.DataFrame,
    y: np.ndarray,
    weights: np.ndarray,
    pooled_y: np.ndarray,
    pooled_raw: np.ndarray,
    high: int,
    length: np.ndarray | None = None,
) -> OrdinalRegressor:
    """Fit on every script; thresholds and error spread from the pooled out-of-fold outputs.

    With `length` (log words of the evaluated scripts) a length correction is learned too;
    the pooled outputs are then one row per repeat.
    """
    oof: tuple[Any, np.ndarray] = (pooled_y, pooled_raw)
    if length is not None:
        repeats = len(pooled_y) // len(length)
        oof = (pooled_y[: len(length)], np.reshape(pooled_raw, (repeats, len(length))))
    return OrdinalRegressor(pipeline, 0, high).fit(
        table, y, oof=oof, oof_length=length, ridge__sample_weight=weights
    )
