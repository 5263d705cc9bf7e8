"""Training: cross-validate the candidates on the marker's scripts, choose one, fit it.

The protocol, the same for the bundled corpus, a teacher's class and the ASAP benchmark:

- Only the *evaluation* scripts (the teacher's, or all of them when there is no base
  corpus) are split into folds; scripts from the bundled corpus are in every training
  fold, weighted so that the teacher's marks carry most of the weight.
- Small sets (under 200 scripts) use repeated stratified folds, so the figures do not
  hang on one lucky split; the figures pool every repeat.
- Each candidate's continuous out-of-fold predictions are cut into marks by thresholds
  fitted on the *other* folds' predictions (cross-fitting), so no script's own mark
  tunes the cut points that mark it.
- The text features are hashed n-grams, which are stateless: each script is hashed once
  and the folds reuse the counts. `_FoldFeatures` then builds exactly what
  `model.mark_pipeline` builds (a test holds the two together), fold by fold.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.preprocessing import StandardScaler

from essay_marker.coverage import analyse_coverage
from essay_marker.dataset import MarkedSet
from essay_marker.features import (
    Analysis,
    analyse_essay,
    feature_table,
    numeric_columns,
    word_pairs,
)
from essay_marker.model import (
    CANDIDATES,
    FORMAT_VERSION,
    LENGTH_COLUMNS,
    SEED,
    SPAG_CANDIDATE,
    Candidate,
    OrdinalModel,
    Progress,
    SentenceModel,
    TrainedModel,
    _quiet,
    agreement,
    apply_thresholds,
    fit_sentence_model,
    fit_thresholds,
    hashers,
    mark_pipeline,
    one_blas_thread,
    sentence_examples,
    sentence_figures,
    spag_agreement,
)
from essay_marker.rubric import Rubric

TEACHER_SHARE = 0.75  # of the total training weight, when a base corpus is added
SMALL = 200  # below this many evaluation scripts, folds are repeated
BASELINE = "length-baseline"


@dataclass(frozen=True)
class TrainingSet:
    """The scripts to learn from: which are evaluated on, and how much each weighs."""

    marked: MarkedSet  # every script, evaluation scripts first
    evaluated: int  # the first `evaluated` scripts are the teacher's: folds and figures use them
    weight: float = 1.0  # of each evaluation script; base scripts weigh 1
    base_name: str | None = None

    @property
    def weights(self) -> np.ndarray:
        n = len(self.marked.scripts)
        return np.where(np.arange(n) < self.evaluated, self.weight, 1.0)


def with_base(teacher: MarkedSet, base: MarkedSet | None, base_name: str = "") -> TrainingSet:
    """The teacher's scripts, plus the base corpus weighted so the teacher's marks dominate.

    Base scripts whose text the teacher also gave are dropped (the teacher's mark wins).
    """
    n = len(teacher.scripts)
    if base is None or not base.scripts:
        return TrainingSet(teacher, n)
    own = {text_key(s.text) for s in teacher.scripts}
    extra = tuple(s for s in base.scripts if text_key(s.text) not in own)
    if not extra:
        return TrainingSet(teacher, n)
    files = {s.file for s in extra}
    # A teacher's file may share a name with a corpus file: keep the corpus's apart.
    clash = files & {s.file for s in teacher.scripts}
    rename = {f: f"{base_name or 'base'}/{f}" for f in clash}
    scripts = teacher.scripts + tuple(
        type(s)(rename.get(s.file, s.file), s.text, s.mark, s.spag) for s in extra
    )
    notes = teacher.annotations + tuple(
        type(a)(rename.get(a.file, a.file), a.start, a.end, a.factor, a.role)
        for a in base.annotations
        if a.file in files
    )
    digest = hashlib.sha256((teacher.sha256 + base.sha256).encode()).hexdigest()
    weight = max(1.0, TEACHER_SHARE / (1 - TEACHER_SHARE) * len(extra) / n)
    return TrainingSet(MarkedSet(scripts, notes, digest), n, round(weight, 3), base_name or None)


def text_key(text: str) -> str:
    """A short hash of a script's words, kept in a card to know what a model has seen."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- analyses


@dataclass
class _Analyser:
    """Analyses scripts once; only coverage is redone when the sentence model changes."""

    texts: Sequence[str]
    rubric: Rubric
    plain: list[Analysis] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.plain:
            self.plain = [analyse_essay(t, self.rubric) for t in self.texts]

    def with_model(self, model: SentenceModel | None) -> list[Analysis]:
        """The analyses with the sentence model's hints (one prediction for every sentence)."""
        if model is None:
            return self.plain
        hints = model.predict([" ".join(s) for a in self.plain for s in a.stems])
        out, start = [], 0
        for a in self.plain:
            mine = hints[start : start + len(a.stems)]
            start += len(a.stems)
            coverage = analyse_coverage(a.doc, self.rubric, lambda *_, h=mine: h, list(a.stems))
            out.append(Analysis(a.doc, a.stems, coverage, a.spag))
        return out


class _FoldFeatures:
    """The mark pipeline's features for one fold, as linear kernels between scripts.

    Mirrors `mark_pipeline`: scaled numeric columns, then TF-IDF of the hashed word and
    character counts (hashed once for all scripts). With a few hundred scripts and a
    quarter of a million columns, ridge regression is solved fastest in its dual form
    (scikit-learn's KernelRidge on the precomputed linear kernel), and every candidate
    alpha reuses the same kernel. The intercept is a constant column so large that its
    penalty is negligible, as the pipeline's Ridge leaves its intercept unpenalised.
    """

    INTERCEPT = 100.0

    def __init__(self, numeric: np.ndarray, counts: list[sparse.csr_matrix], train, test):
        scaler = StandardScaler().fit(numeric[train])
        self.numeric = scaler.transform(numeric[train]), scaler.transform(numeric[test])
        self.text: list[tuple[Any, Any]] = []
        for m in counts:
            tfidf = TfidfTransformer(sublinear_tf=True).fit(m[train])
            self.text.append((tfidf.transform(m[train]), tfidf.transform(m[test])))
        self._kernels: dict[Any, tuple[np.ndarray, np.ndarray]] = {}

    def matrices(self, text: bool) -> tuple[Any, Any]:
        """The training and test feature matrices, exactly as the pipeline builds them."""
        if not text:
            return self.numeric
        return (
            sparse.hstack([self.numeric[0]] + [a for a, _ in self.text]).tocsr(),
            sparse.hstack([self.numeric[1]] + [b for _, b in self.text]).tocsr(),
        )

    def _kernel(self, key: Any) -> tuple[np.ndarray, np.ndarray]:
        if key not in self._kernels:
            if key == "text":
                pairs = [(a @ a.T, b @ a.T) for a, b in self.text]
                value = tuple(np.asarray(sum(p[i] for p in pairs).todense()) for i in (0, 1))
            else:  # numeric columns: all, or a tuple of their positions
                a, b = (m if key == "numeric" else m[:, list(key)] for m in self.numeric)
                value = (a @ a.T, b @ a.T)
            self._kernels[key] = value
        return self._kernels[key]

    def fit_predict(
        self,
        text: bool,
        alpha: float,
        y: np.ndarray,
        weights: np.ndarray,
        columns: Sequence[int] | None = None,
        lead: tuple[Sequence[int], float] | None = None,
    ) -> np.ndarray:
        """Ridge on these features: all numeric columns or only `columns`, the `lead`
        columns scaled up by its weight, and the text views if `text`; test outputs."""
        k_train, k_test = self._kernel("numeric" if columns is None else tuple(columns))
        if lead:
            led, weight = tuple(lead[0]), lead[1]
            rest = tuple(i for i in range(self.numeric[0].shape[1]) if i not in led)
            (l_train, l_test), (r_train, r_test) = self._kernel(led), self._kernel(rest)
            k_train, k_test = weight**2 * l_train + r_train, weight**2 * l_test + r_test
        if text:
            t_train, t_test = self._kernel("text")
            k_train, k_test = k_train + t_train, k_test + t_test
        c = self.INTERCEPT**2
        ridge = KernelRidge(alpha=alpha, kernel="precomputed")
        return ridge.fit(k_train + c, y, sample_weight=weights).predict(k_test + c)


def hashed_counts(texts: Sequence[str]) -> list[sparse.csr_matrix]:
    """The hashed word and character n-gram counts of the model texts (stateless)."""
    return [h.transform(texts) for h in hashers()]


# --------------------------------------------------------------------------- folds


def fold_plan(
    rubric: Rubric, marks: Sequence[int], folds: int
) -> tuple[int, list[tuple[np.ndarray, np.ndarray]]]:
    """Repeats and (train, test) splits of the evaluation scripts, stratified by level."""
    n = len(marks)
    folds = max(2, min(folds, n))
    repeats = 1 if n >= SMALL else min(10, math.ceil(SMALL / n))
    levels = np.array([rubric.level_for(int(m)).level for m in marks])
    idx = np.arange(n)
    counts = np.bincount(levels)
    if repeats == 1 and counts[counts > 0].min() < folds:
        return 1, list(KFold(folds, shuffle=True, random_state=SEED).split(idx))
    if repeats == 1:
        return 1, list(StratifiedKFold(folds, shuffle=True, random_state=SEED).split(idx, levels))
    try:
        with warnings.catch_warnings():
            # A level with fewer scripts than folds cannot be in every fold: that is fine.
            warnings.simplefilter("ignore", UserWarning)
            split = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
            return repeats, list(split.split(idx, levels))
    except ValueError:
        split = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
        return repeats, list(split.split(idx))


def _cross_fit(
    y: np.ndarray, raw: np.ndarray, tests: list[np.ndarray], low: int, high: int
) -> np.ndarray:
    """Marks for one repeat: each fold cut by thresholds fitted on the other folds."""
    marks = np.zeros(len(y), dtype=int)
    for test in tests:
        rest = np.setdiff1d(np.arange(len(y)), test)
        cuts = fit_thresholds(y[rest], raw[rest], low, high)
        marks[test] = apply_thresholds(raw[test], cuts, low)
    return marks


@dataclass
class Evaluation:
    """Cross-validated figures, the chosen candidate and what the final fit needs."""

    chosen: Candidate
    figures: dict[str, Any]
    oof: dict[str, list[int]] = field(default_factory=dict)
    raw: dict[str, np.ndarray] = field(default_factory=dict)  # pooled out-of-fold outputs
    pooled_y: dict[str, np.ndarray] = field(default_factory=dict)


@one_blas_thread
def cross_validate(
    data: TrainingSet | MarkedSet,
    rubric: Rubric,
    folds: int = 5,
    candidates: Sequence[Candidate] = CANDIDATES,
    progress: Progress = _quiet,
    analyser: _Analyser | None = None,
) -> Evaluation:
    """Cross-validated agreement of every candidate, the SPaG model and the length baseline.

    In each fold the sentence model, the scaling, the TF-IDF weights and the regression
    see only that fold's training scripts; the thresholds come from the other folds.
    """
    ts = data if isinstance(data, TrainingSet) else TrainingSet(data, len(data.scripts))
    marked = ts.marked
    y_all = np.array(marked.marks)
    n_eval = ts.evaluated
    y = y_all[:n_eval]
    weights = ts.weights
    spag_all = np.array([-1 if s.spag is None else s.spag for s in marked.scripts])
    has_spag = rubric.spag_max > 0 and bool((spag_all >= 0).all())
    cols = numeric_columns(rubric)
    factors = [f.id for f in rubric.factors]
    repeats, splits = fold_plan(rubric, y, folds)
    per_repeat = len(splits) // repeats
    base_idx = np.arange(n_eval, len(y_all))

    progress(f"analysing {len(y_all)} scripts")
    analyser = analyser or _Analyser([s.text for s in marked.scripts], rubric)
    counts = hashed_counts(feature_table(analyser.plain, rubric)["text"].tolist())
    sentences = sentence_examples(marked, rubric) if factors and marked.annotations else None
    files = [s.file for s in marked.scripts]
    tables: dict[frozenset[str], np.ndarray] = {}
    length = [cols.index(col) for col in LENGTH_COLUMNS]

    names = [c.name for c in candidates] + [BASELINE] + (["spag"] if has_spag else [])
    raw = {k: np.zeros((repeats, n_eval)) for k in names}
    for k, (tr_eval, te) in enumerate(splits):
        r = k // per_repeat
        if k % per_repeat == 0:
            progress(f"repeat {r + 1}/{repeats}" if repeats > 1 else f"{per_repeat} folds")
        train = np.concatenate([tr_eval, base_idx])
        numeric = _numeric_for_fold(
            tables, sentences, {files[i] for i in train}, factors, analyser, rubric, cols
        )
        fold = _FoldFeatures(numeric, counts, train, te)
        w = weights[train]
        for c in candidates:
            lead = (length, c.length_lead) if c.length_lead else None
            raw[c.name][r, te] = fold.fit_predict(c.text, c.alpha, y_all[train], w, lead=lead)
        raw[BASELINE][r, te] = fold.fit_predict(False, 1.0, y_all[train], w, length)
        if has_spag:
            s = SPAG_CANDIDATE
            raw["spag"][r, te] = fold.fit_predict(s.text, s.alpha, spag_all[train], w)

    tests_by_repeat = [
        [te for _, te in splits[r * per_repeat : (r + 1) * per_repeat]] for r in range(repeats)
    ]
    oof: dict[str, np.ndarray] = {}
    for name in names:
        spag = name == "spag"
        target, top = (spag_all[:n_eval], rubric.spag_max) if spag else (y, rubric.max_mark)
        oof[name] = np.concatenate(
            [_cross_fit(target, raw[name][r], tests_by_repeat[r], 0, top) for r in range(repeats)]
        )
    pooled = np.tile(y, repeats)
    scores = {name: agreement(rubric, pooled, oof[name]) for name in names if name != "spag"}
    for figures_of in scores.values():  # pooled over repeats, but each script counts once
        figures_of.update(n=n_eval, predictions=n_eval * repeats)
    by_repeat = {
        c.name: [
            agreement(rubric, y, oof[c.name][r * n_eval : (r + 1) * n_eval])["qwk"]
            for r in range(repeats)
        ]
        for c in candidates
    }
    chosen = max(candidates, key=lambda c: (scores[c.name]["qwk"], -candidates.index(c)))
    figures: dict[str, Any] = {
        "folds": per_repeat,
        "repeats": repeats,
        "model": scores[chosen.name],
        "length_baseline": scores[BASELINE],
        "selection": {c.name: scores[c.name]["qwk"] for c in candidates},
        "chosen": chosen.name,
        "evaluated_on": n_eval,
    }
    if repeats > 1:
        qwks = by_repeat[chosen.name]
        figures["model"]["qwk_repeats"] = [round(min(qwks), 4), round(max(qwks), 4)]
    if len(y_all) > n_eval:
        figures["base_corpus"] = {
            "name": ts.base_name,
            "scripts": len(y_all) - n_eval,
            "teacher_weight": ts.weight,
        }
    if has_spag:
        figures["spag"] = spag_agreement(
            np.tile(spag_all[:n_eval], repeats), oof["spag"], rubric.spag_max
        )
        figures["spag"]["n"] = n_eval
    return Evaluation(
        chosen,
        figures,
        {k: v.tolist() for k, v in oof.items()},
        {k: v.reshape(-1) for k, v in raw.items()},
        {"mark": pooled, "spag": np.tile(spag_all[:n_eval], repeats)},
    )


def _numeric_for_fold(
    tables: dict[frozenset[str], np.ndarray],
    sentences: Any,
    train_files: set[str],
    factors: list[str],
    analyser: _Analyser,
    rubric: Rubric,
    cols: list[str],
) -> np.ndarray:
    """The numeric features of every script under this fold's sentence model (cached).

    The sentence model depends only on the annotated scripts in the fold, so folds whose
    annotated scripts are the same (always, when they all come from the base corpus)
    share one set of analyses.
    """
    if sentences is None:
        key: frozenset[str] = frozenset()
    else:
        key = frozenset(g for g in set(sentences.groups) if g in train_files)
    if key not in tables:
        model = None
        if key:
            keep = [i for i, g in enumerate(sentences.groups) if g in key]
            model = fit_sentence_model(sentences.subset(keep), factors)
        tables[key] = feature_table(analyser.with_model(model), rubric)[cols].to_numpy(float)
    return tables[key]


# --------------------------------------------------------------------------- train


@one_blas_thread
def train(
    data: TrainingSet | MarkedSet,
    rubric: Rubric,
    name: str,
    folds: int = 5,
    candidates: Sequence[Candidate] = CANDIDATES,
    progress: Progress = _quiet,
    analyses: Sequence[Analysis] | None = None,
) -> TrainedModel:
    """Cross-validate, choose the estimator by QWK, fit it on everything and write its card.

    `analyses` (of the scripts, in order, without a sentence model) saves redoing them when
    the caller already has them, as the ASAP benchmark does across its folds.
    """
    import platform

    import nltk
    import sklearn
    import skops

    started = time.perf_counter()
    ts = data if isinstance(data, TrainingSet) else TrainingSet(data, len(data.scripts))
    marked = ts.marked
    analyser = _Analyser([s.text for s in marked.scripts], rubric, list(analyses or []))
    evaluation = cross_validate(ts, rubric, folds, candidates, progress, analyser)
    sentences: dict[str, Any] = {}
    own_files = {s.file for s in marked.scripts[: ts.evaluated]}
    if rubric.factors and any(a.file in own_files for a in marked.annotations):
        # Labels from the base corpus alone: its figures are in the bundled model's card.
        progress("sentence model figures")
        sentences = sentence_figures(marked, rubric, folds)
    progress("fitting the final model on all scripts")
    factors = [f.id for f in rubric.factors]
    smodel = fit_sentence_model(sentence_examples(marked, rubric), factors) if factors else None
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
    familiar, familiar_card = trusted_familiar(
        [a for a, m in zip(analyses, marked.marks, strict=True) if m > 0]
    )
    credited = (
        common_pairs(
            [
                a
                for a, m in zip(analyses, marked.marks, strict=True)
                if rubric.level_for(m).level >= 2
            ]
        )
        if familiar
        else frozenset()
    )
    familiar_card["credited_pairs"] = len(credited)
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
            "text_keys": sorted({text_key(s.text) for s in own}),
        },
        "estimator": {
            "chosen": chosen.name,
            "alpha": chosen.alpha,
            "text_features": chosen.text,
            "ordinal": "ridge regression, thresholds tuned for QWK on out-of-fold predictions",
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
    from essay_marker.flags import threshold

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
) -> OrdinalModel:
    """Fit on every script; thresholds and error spread from the pooled out-of-fold outputs."""
    pipeline.fit(table, y, ridge__sample_weight=weights)
    thresholds = fit_thresholds(pooled_y, pooled_raw, 0, high)
    sigma = float(max(np.sqrt(np.mean((pooled_raw - pooled_y) ** 2)), 0.25))
    return OrdinalModel(pipeline, thresholds, sigma, 0, high)
