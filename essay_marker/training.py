"""Training: cross-validate the candidates on the marker's scripts, choose one, fit it.

The protocol, the same for the bundled corpus, a teacher's class and the ASAP benchmark:

- Only the *evaluation* scripts (the teacher's, or all of them when there is no base
  corpus) are split into folds; scripts from the bundled corpus are in every training
  fold, weighted so that the teacher's marks carry most of the weight.
- Small sets (under 200 scripts) use repeated stratified folds, so the figures do not
  hang on one lucky split; the figures pool every repeat.
- Each candidate's continuous out-of-fold predictions are cut into marks by thresholds
  fitted on the *other* folds' predictions (cross-fitting), so no script's own mark
  tunes the cut points that mark it. The final model is the candidate with the best QWK
  on these folds.
- That best QWK is the best of several noisy figures, so it flatters the model. The
  figures reported are *nested*: inside each outer fold's training part, inner folds
  choose the candidate and its thresholds exactly as the final model's were chosen, and
  the outer fold's test scripts score the result. The best QWK is kept beside them as
  `qwk_inner_best`, so the optimism shows.
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
from scipy import linalg, sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.preprocessing import StandardScaler

from essay_marker.analysis.coverage import analyse_coverage
from essay_marker.analysis.features import (
    Analysis,
    analyse_essay,
    feature_table,
    numeric_columns,
    word_pairs,
)
from essay_marker.dataset import MarkedSet
from essay_marker.errors import DataError
from essay_marker.model.metrics import Marks, agreement, qwk, spag_agreement
from essay_marker.model.ordinal import OrdinalRegressor, apply_thresholds, fit_thresholds
from essay_marker.model.persist import FORMAT_VERSION
from essay_marker.model.pipeline import (
    CANDIDATES,
    LENGTH_COLUMNS,
    SEED,
    SMALL_SET_CANDIDATES,
    SPAG_CANDIDATE,
    Candidate,
    Progress,
    hashers,
    mark_pipeline,
    one_blas_thread,
    quiet,
)
from essay_marker.model.sentence import (
    SentenceModel,
    fit_sentence_model,
    sentence_examples,
    sentence_figures,
)
from essay_marker.model.trained import TrainedModel
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
    (kernel ridge on the precomputed linear kernel, `_kernel_ridge`), and every candidate
    alpha reuses the same kernel. The intercept is a constant column so large that its
    penalty is negligible, as the pipeline's Ridge leaves its intercept unpenalised.

    `fit_predict(..., inner=(fit_rows, predict_rows))` fits on some of this fold's training
    scripts and predicts others, by slicing the same kernels: the inner folds of nested
    selection. They reuse the fold's scaling and IDF weights, which saw the inner test
    scripts' words but never their marks (and never this fold's test scripts).
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
                train_k, test_k = (np.asarray(sum(p[i] for p in pairs).todense()) for i in (0, 1))
                value = (train_k, test_k)
            else:  # numeric columns: all, or a tuple of their positions
                a, b = (m if key == "numeric" else m[:, list(key)] for m in self.numeric)
                value = (a @ a.T, b @ a.T)
            self._kernels[key] = value
        return self._kernels[key]

    def kernels(
        self,
        text: bool,
        columns: Sequence[int] | None = None,
        lead: tuple[Sequence[int], float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Training-by-training and test-by-training kernels of one feature set (cached)."""
        key = (
            "model",
            text,
            None if columns is None else tuple(columns),
            lead and tuple(lead[0]),
            lead and lead[1],
        )
        if key in self._kernels:
            return self._kernels[key]
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
        self._kernels[key] = (k_train + c, k_test + c)
        return self._kernels[key]

    def fit_predict(
        self,
        text: bool,
        alpha: float,
        y: np.ndarray,
        weights: np.ndarray,
        columns: Sequence[int] | None = None,
        lead: tuple[Sequence[int], float] | None = None,
        inner: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Ridge on these features: all numeric columns or only `columns`, the `lead`
        columns scaled up by its weight, and the text views if `text`; test outputs.

        With `inner`, fit on those rows of the training scripts (`y` and `weights` are
        theirs) and predict the other rows given, instead of the test scripts.
        """
        k_train, k_test = self.kernels(text, columns, lead)
        if inner is not None:
            fit_rows, predict_rows = inner
            k_test = k_train[np.ix_(predict_rows, fit_rows)]
            k_train = k_train[np.ix_(fit_rows, fit_rows)]
        return _kernel_ridge(k_train, y, weights, alpha, k_test)


def _kernel_ridge(
    k_train: np.ndarray, y: np.ndarray, weights: np.ndarray, alpha: float, k_test: np.ndarray
) -> np.ndarray:
    """KernelRidge(alpha, kernel="precomputed").fit(k_train, y, weights).predict(k_test),
    step for step as scikit-learn computes it, without its input checks: nested selection
    makes thousands of small fits, and the checks took longer than the solves. A test
    holds the two to the same outputs."""
    sw = np.sqrt(np.asarray(weights, dtype=float))
    k = k_train * np.outer(sw, sw)
    k.flat[:: len(k) + 1] += alpha
    target = np.asarray(y, dtype=float).reshape(-1, 1) * sw[:, np.newaxis]
    try:
        dual = linalg.solve(k, target, assume_a="pos", overwrite_a=False)
    except np.linalg.LinAlgError:
        dual = linalg.lstsq(k, target)[0]
    dual *= sw[:, np.newaxis]
    return np.dot(k_test, dual.ravel())


def hashed_counts(texts: Sequence[str]) -> list[sparse.csr_matrix]:
    """The hashed word and character n-gram counts of the model texts (stateless)."""
    return [h.transform(texts) for h in hashers()]


# --------------------------------------------------------------------------- folds


def fold_plan(
    rubric: Rubric, marks: Marks, folds: int, max_repeats: int = 10
) -> tuple[int, list[tuple[np.ndarray, np.ndarray]]]:
    """Repeats and (train, test) splits of the evaluation scripts, stratified by level."""
    n = len(marks)
    folds = max(2, min(folds, n))
    repeats = 1 if n >= SMALL else min(max_repeats, math.ceil(SMALL / n))
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


def _choose(names: Sequence[str], qwks: dict[str, float]) -> str:
    """The candidate with the best QWK; the first in a tie (the simplest)."""
    return max(names, key=lambda name: (qwks[name], -names.index(name)))


def _selection_qwks(
    names: Sequence[str],
    y: np.ndarray,
    raw: dict[str, np.ndarray],
    tests_by_repeat: list[list[np.ndarray]],
    top: int,
) -> dict[str, float]:
    """Each candidate's QWK over every repeat's cross-fitted marks, rounded as reported."""
    pooled = np.tile(y, len(tests_by_repeat))
    out = {}
    for name in names:
        marks = np.concatenate(
            [_cross_fit(y, raw[name][r], tests, 0, top) for r, tests in enumerate(tests_by_repeat)]
        )
        out[name] = round(qwk(pooled, marks, list(range(top + 1))), 4)
    return out


def _by_repeat(splits: Sequence[tuple[np.ndarray, np.ndarray]], repeats: int) -> list[list[Any]]:
    """The test folds of each repeat."""
    per = len(splits) // repeats
    return [[te for _, te in splits[r * per : (r + 1) * per]] for r in range(repeats)]


@dataclass(frozen=True)
class _Fit:
    """One regression that cross-validation fits: a candidate, the length baseline or SPaG."""

    name: str
    text: bool
    alpha: float
    columns: tuple[int, ...] | None = None
    lead: tuple[tuple[int, ...], float] | None = None
    target: str = "mark"  # or "spag"


@dataclass(frozen=True)
class _OuterJob:
    """One outer fold: everything a worker process needs to run it."""

    numeric: np.ndarray
    counts: list[sparse.csr_matrix]
    train: np.ndarray  # the fold's evaluation scripts first, then the base corpus
    test: np.ndarray
    evaluated: int  # how many of `train` are evaluation scripts
    targets: dict[str, np.ndarray]  # "mark" (and "spag") of every script
    weights: np.ndarray
    fits: tuple[_Fit, ...]
    candidates: tuple[str, ...]
    tops: dict[str, int]  # highest mark of each target
    inner_repeats: int
    inner_splits: list[tuple[np.ndarray, np.ndarray]]  # positions among the evaluated


@dataclass(frozen=True)
class _OuterResult:
    raw: dict[str, np.ndarray]  # each fit, trained on the whole training part: test outputs
    chosen: str  # the candidate the inner folds chose
    marks: dict[str, np.ndarray]  # the procedure's test marks: "model", BASELINE, "spag"


@one_blas_thread
def _outer_fold(job: _OuterJob) -> _OuterResult:
    """Every fit on the fold's training part, and the whole procedure scored on its test part.

    The procedure is what `train` does with all the scripts: choose a candidate by
    cross-validated QWK (here on the inner folds of the training part), cut its output
    by thresholds fitted on its out-of-fold outputs, fit it on the whole training part.
    The length baseline and SPaG go through the same steps, without the choice.
    """
    fold = _FoldFeatures(job.numeric, job.counts, job.train, job.test)
    n_in = job.evaluated
    base_rows = np.arange(n_in, len(job.train))
    weights = job.weights[job.train]
    inner_tests = _by_repeat(job.inner_splits, job.inner_repeats)
    per = len(job.inner_splits) // job.inner_repeats
    raw: dict[str, np.ndarray] = {}
    inner: dict[str, np.ndarray] = {}
    for f in job.fits:
        y = job.targets[f.target][job.train]
        raw[f.name] = fold.fit_predict(f.text, f.alpha, y, weights, f.columns, f.lead)
        inner[f.name] = np.zeros((job.inner_repeats, n_in))
        for k, (fit_in, test_in) in enumerate(job.inner_splits):
            rows = np.concatenate([fit_in, base_rows])
            inner[f.name][k // per, test_in] = fold.fit_predict(
                f.text, f.alpha, y[rows], weights[rows], f.columns, f.lead, inner=(rows, test_in)
            )
    y_in = job.targets["mark"][job.train[:n_in]]
    qwks = _selection_qwks(job.candidates, y_in, inner, inner_tests, job.tops["mark"])
    chosen = _choose(job.candidates, qwks)
    marks = {}
    for key, name in (("model", chosen), (BASELINE, BASELINE), ("spag", "spag")):
        if name not in raw:
            continue
        target = "spag" if name == "spag" else "mark"
        truth = np.tile(job.targets[target][job.train[:n_in]], job.inner_repeats)
        cuts = fit_thresholds(truth, inner[name].reshape(-1), 0, job.tops[target])
        marks[key] = apply_thresholds(raw[name], cuts, 0)
    return _OuterResult(raw, chosen, marks)


@dataclass
class Evaluation:
    """Cross-validated figures, the chosen candidate and what the final fit needs."""

    chosen: Candidate
    figures: dict[str, Any]
    oof: dict[str, list[int]] = field(default_factory=dict)
    raw: dict[str, np.ndarray] = field(default_factory=dict)  # pooled out-of-fold outputs
    pooled_y: dict[str, np.ndarray] = field(default_factory=dict)


INNER_REPEATS = 2  # at most, in the inner folds: each is repeated for every outer fold
CLEAR_MARGIN = 0.03  # QWK above the length-only figure that counts as clearly better


def candidates_for(scripts: int) -> tuple[Candidate, ...]:
    """The candidates worth comparing for a training set of this many scripts."""
    return CANDIDATES if scripts >= SMALL else SMALL_SET_CANDIDATES


@one_blas_thread
def cross_validate(
    data: TrainingSet | MarkedSet,
    rubric: Rubric,
    folds: int = 5,
    candidates: Sequence[Candidate] | None = None,
    progress: Progress = quiet,
    analyser: _Analyser | None = None,
    jobs: int | None = None,
) -> Evaluation:
    """Nested cross-validation: the outer folds score the whole procedure, inner folds choose.

    Every candidate, the SPaG model and the length baseline are fitted on each outer
    fold's training part. In each outer fold the sentence model, the scaling, the TF-IDF
    weights and the regression see only that fold's training scripts; its inner folds
    reuse those features and refit only the regressions and thresholds (`_FoldFeatures`).

    - The *outer* figures (`figures["model"]`) score what `train` does: on each outer
      fold's training part, inner folds choose the candidate and fit its thresholds, and
      the chosen model marks the fold's test scripts. The length baseline is scored by
      the same procedure. These are the figures to trust.
    - The *inner-best* figures (`figures["inner_best"]`) are the best candidate's QWK on
      the outer folds themselves (each fold cut by thresholds from the other folds), the
      figure the choice of the final model is made on: the best of several noisy
      figures, so optimistic, most of all on a class set.

    `candidates` defaults to those for the training set's size (`candidates_for`);
    `jobs` runs outer folds in that many processes (default one). Results do not depend
    on `jobs`.
    """
    ts = data if isinstance(data, TrainingSet) else TrainingSet(data, len(data.scripts))
    marked = ts.marked
    candidates = tuple(candidates or candidates_for(len(marked.scripts)))
    names = [c.name for c in candidates]
    y_all = np.array(marked.marks)
    n_eval = ts.evaluated
    y = y_all[:n_eval]
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
    length = tuple(cols.index(col) for col in LENGTH_COLUMNS)
    fits = (
        *(
            _Fit(c.name, c.text, c.alpha, lead=(length, c.length_lead) if c.length_lead else None)
            for c in candidates
        ),
        _Fit(BASELINE, False, 1.0, columns=length),
    )
    if has_spag:
        s = SPAG_CANDIDATE
        fits += (_Fit("spag", s.text, s.alpha, target="spag"),)
    targets = {"mark": y_all, "spag": spag_all}
    tops = {"mark": rubric.max_mark, "spag": rubric.spag_max}

    outer_jobs = []
    for tr_eval, te in splits:
        train = np.concatenate([tr_eval, base_idx])
        numeric = _numeric_for_fold(
            tables, sentences, {files[i] for i in train}, factors, analyser, rubric, cols
        )
        inner_repeats, inner_splits = fold_plan(rubric, y[tr_eval], folds, INNER_REPEATS)
        outer_jobs.append(
            _OuterJob(
                numeric,
                counts,
                train,
                te,
                len(tr_eval),
                targets,
                ts.weights,
                fits,
                tuple(names),
                tops,
                inner_repeats,
                inner_splits,
            )
        )
    workers = _workers(jobs, len(outer_jobs))
    plan = f"{per_repeat} folds" + (f" repeated {repeats} times" if repeats > 1 else "")
    progress(
        f"nested cross-validation: {plan}, {len(candidates)} candidates chosen on inner folds"
        + (f", {workers} processes" if workers > 1 else "")
    )
    results = _run_outer(outer_jobs, workers)

    raw = {f.name: np.zeros((repeats, n_eval)) for f in fits}
    nested = {k: np.zeros((repeats, n_eval), dtype=int) for k in ("model", BASELINE, "spag")}
    winners: Counter[str] = Counter()
    for k, ((_, te), result) in enumerate(zip(splits, results, strict=True)):
        r = k // per_repeat
        for name, values in result.raw.items():
            raw[name][r, te] = values
        for key, values in result.marks.items():
            nested[key][r, te] = values
        winners[result.chosen] += 1

    # The figures are of the marks `check` gives: the screen and the caps applied.
    _as_check_marks(nested, analyser.plain[:n_eval], rubric)
    tests_by_repeat = _by_repeat(splits, repeats)
    oof: dict[str, np.ndarray] = {}
    for f in fits:
        spag = f.target == "spag"
        target, top = (spag_all[:n_eval], rubric.spag_max) if spag else (y, rubric.max_mark)
        oof[f.name] = np.concatenate(
            [_cross_fit(target, raw[f.name][r], tests_by_repeat[r], 0, top) for r in range(repeats)]
        )
    pooled = np.tile(y, repeats)
    scores = {name: agreement(rubric, pooled, oof[name]) for name in names}
    chosen = candidates[names.index(_choose(names, {k: v["qwk"] for k, v in scores.items()}))]
    inner_best = scores[chosen.name]
    outer = agreement(rubric, pooled, nested["model"].reshape(-1))
    length_outer = agreement(rubric, pooled, nested[BASELINE].reshape(-1))
    for figures_of in (inner_best, outer, length_outer):  # each script counts once
        figures_of.update(n=n_eval, predictions=n_eval * repeats)
    spread = _spread(rubric, y, nested["model"], nested[BASELINE], splits, repeats)
    figures: dict[str, Any] = {
        "protocol": "nested",
        "folds": per_repeat,
        "repeats": repeats,
        "inner_folds": len(outer_jobs[0].inner_splits) // outer_jobs[0].inner_repeats,
        "inner_repeats": max(j.inner_repeats for j in outer_jobs),
        "model": outer,
        "length_baseline": length_outer,
        "qwk_inner_best": inner_best["qwk"],
        "length_qwk": length_outer["qwk"],
        "spread": spread,
        "winners": {n: winners[n] for n in names if winners[n]},
        "beats_length": _beats_length(outer["qwk"], length_outer["qwk"], spread),
        "inner_best": inner_best,
        "selection": {n: scores[n]["qwk"] for n in names},
        "chosen": chosen.name,
        "evaluated_on": n_eval,
    }
    if repeats > 1:
        figures["model"]["qwk_repeats"] = [spread["min"], spread["max"]]
    if len(y_all) > n_eval:
        figures["base_corpus"] = {
            "name": ts.base_name,
            "scripts": len(y_all) - n_eval,
            "teacher_weight": ts.weight,
        }
    if has_spag:
        figures["spag"] = spag_agreement(
            np.tile(spag_all[:n_eval], repeats), nested["spag"].reshape(-1), rubric.spag_max
        )
        figures["spag"]["n"] = n_eval
    return Evaluation(
        chosen,
        figures,
        {k: v.tolist() for k, v in oof.items()},
        {k: v.reshape(-1) for k, v in raw.items()},
        {"mark": pooled, "spag": np.tile(spag_all[:n_eval], repeats)},
    )


def _as_check_marks(
    nested: dict[str, np.ndarray], analyses: Sequence[Analysis], rubric: Rubric
) -> None:
    """Put the screen's mark-setting flags and the mark scheme's caps on cross-validated
    marks in place, as `check` puts them on its marks (scoring.final_marks)."""
    from essay_marker.scoring import final_marks
    from essay_marker.screen.flags import screen

    for i, a in enumerate(analyses):
        flags = screen(a, rubric).flags
        for r in range(nested["model"].shape[0]):
            mark, spag = final_marks(
                int(nested["model"][r, i]), int(nested["spag"][r, i]), flags, a.coverage, rubric
            )
            nested["model"][r, i], nested["spag"][r, i] = mark, spag


def _spread(
    rubric: Rubric,
    y: np.ndarray,
    model: np.ndarray,
    length: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    repeats: int,
) -> dict[str, Any]:
    """How much the outer QWK moves between repeats (between folds, with one repeat).

    Also the gain over length-only in each, since the two are scored on the same splits.
    """
    labels = list(range(rubric.max_mark + 1))
    if repeats > 1:
        over = "repeats"
        parts = [np.arange(len(y))] * repeats
        rows = list(range(repeats))
    else:
        over = "folds"
        parts = [te for _, te in splits]
        rows = [0] * len(parts)
    qwks = [qwk(y[i], model[r, i], labels) for r, i in zip(rows, parts, strict=True)]
    gains = [q - qwk(y[i], length[r, i], labels) for q, r, i in zip(qwks, rows, parts, strict=True)]
    return {
        "over": over,
        "n": len(qwks),
        "min": round(min(qwks), 4),
        "max": round(max(qwks), 4),
        "sd": round(float(np.std(qwks)), 4),
        "gain_over_length_min": round(min(gains), 4),
        "gain_over_length_max": round(max(gains), 4),
    }


def _beats_length(qwk: float, length_qwk: float, spread: dict[str, Any]) -> dict[str, Any]:
    """Whether the model clearly beats length alone: by CLEAR_MARGIN, and by more than the
    outer QWK's spread (its standard deviation over repeats or folds)."""
    margin = round(max(CLEAR_MARGIN, spread["sd"]), 4)
    gain = round(qwk - length_qwk, 4)
    return {"gain": gain, "margin": margin, "clear": gain >= margin}


def _workers(jobs: int | None, folds: int) -> int:
    """Processes for the outer folds: one unless told. On the project's shared two-core
    machine two processes gained nothing reliable (RESULTS, training time), and in one
    process a class set trains in well under a minute."""
    return max(1, min(jobs or 1, folds))


def _run_outer(jobs: list[_OuterJob], workers: int) -> list[_OuterResult]:
    """Each outer fold, in order (in `workers` processes when more than one)."""
    if workers == 1:
        return [_outer_fold(job) for job in jobs]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=workers)(delayed(_outer_fold)(job) for job in jobs)


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
    candidates: Sequence[Candidate] | None = None,
    progress: Progress = quiet,
    analyses: Sequence[Analysis] | None = None,
    jobs: int | None = None,
) -> TrainedModel:
    """Cross-validate (nested), choose the estimator by QWK, fit it on everything, write its card.

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
    evaluation = cross_validate(ts, rubric, folds, candidates, progress, analyser, jobs)
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
            # Every script it learned from (the base corpus too): evaluate leaves them out.
            "text_keys": sorted({text_key(s.text) for s in marked.scripts}),
        },
        "estimator": {
            "chosen": chosen.name,
            "alpha": chosen.alpha,
            "text_features": chosen.text,
            "ordinal": "ridge regression, thresholds tuned for QWK on out-of-fold predictions",
            "candidates": list(evaluation.figures["selection"]),
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
) -> OrdinalRegressor:
    """Fit on every script; thresholds and error spread from the pooled out-of-fold outputs."""
    return OrdinalRegressor(pipeline, 0, high).fit(
        table, y, oof=(pooled_y, pooled_raw), ridge__sample_weight=weights
    )
