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
  and the folds reuse the counts. `FoldFeatures` then builds exactly what
  `model.mark_pipeline` builds (a test holds the two together), fold by fold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from essay_marker.analysis.features import (
    Analysis,
    feature_table,
    numeric_columns,
    table_columns,
)
from essay_marker.dataset import MarkedSet
from essay_marker.model.metrics import agreement, qwk, spag_agreement
from essay_marker.model.ordinal import (
    apply_thresholds,
    corrected,
    fit_length,
    fit_thresholds,
)
from essay_marker.model.pipeline import (
    CANDIDATES,
    LENGTH_COLUMNS,
    SMALL_SET_CANDIDATES,
    SPAG_CANDIDATE,
    Candidate,
    Progress,
    one_blas_thread,
    quiet,
)
from essay_marker.model.sentence import (
    sentence_examples,
)
from essay_marker.rubric import Rubric
from essay_marker.training.folds import (
    SMALL,
    Analyser,
    FoldFeatures,
    cross_fit,
    fold_plan,
    hashed_counts,
    numeric_for_fold,
)
from essay_marker.training.sets import TrainingSet

BASELINE = "length-baseline"


# --------------------------------------------------------------------------- analyses


# --------------------------------------------------------------------------- folds


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
            [cross_fit(y, raw[name][r], tests, 0, top) for r, tests in enumerate(tests_by_repeat)]
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
    log_words: np.ndarray | None  # of every script: learn a length correction (else none)


@dataclass(frozen=True)
class _OuterResult:
    raw: dict[str, np.ndarray]  # each fit, trained on the whole training part: test outputs
    chosen: str  # the candidate the inner folds chose
    marks: dict[str, np.ndarray]  # the procedure's test marks: "model", BASELINE, "spag"
    length_slope: float  # the chosen model's length correction (0: none)


@one_blas_thread
def _outer_fold(job: _OuterJob) -> _OuterResult:
    """Every fit on the fold's training part, and the whole procedure scored on its test part.

    The procedure is what `train` does with all the scripts: choose a candidate by
    cross-validated QWK (here on the inner folds of the training part), learn its length
    correction and cut its output by thresholds, both from its out-of-fold outputs, fit
    it on the whole training part. The length baseline and SPaG go through the same
    steps, without the choice and the correction.
    """
    fold = FoldFeatures(job.numeric, job.counts, job.train, job.test)
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
    slope = 0.0
    for key, name in (("model", chosen), (BASELINE, BASELINE), ("spag", "spag")):
        if name not in raw:
            continue
        target = "spag" if name == "spag" else "mark"
        fitted, tested = inner[name], raw[name]
        if key == "model" and job.log_words is not None:
            length_in = job.log_words[job.train[:n_in]]
            slope, centre, bounds = fit_length(y_in, fitted, length_in)
            fitted = corrected(fitted, length_in, slope, centre, bounds)
            tested = corrected(tested, job.log_words[job.test], slope, centre, bounds)
        truth = np.tile(job.targets[target][job.train[:n_in]], job.inner_repeats)
        cuts = fit_thresholds(truth, fitted.reshape(-1), 0, job.tops[target])
        marks[key] = apply_thresholds(tested, cuts, 0)
    return _OuterResult(raw, chosen, marks, slope)


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
    analyser: Analyser | None = None,
    jobs: int | None = None,
) -> Evaluation:
    """Nested cross-validation: the outer folds score the whole procedure, inner folds choose.

    Every candidate, the SPaG model and the length baseline are fitted on each outer
    fold's training part. In each outer fold the sentence model, the scaling, the TF-IDF
    weights and the regression see only that fold's training scripts; its inner folds
    reuse those features and refit only the regressions and thresholds (`FoldFeatures`).

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
    cols = table_columns(rubric)
    # The columns the candidates learn from (a length-neutral rubric's leave out size).
    learned = tuple(cols.index(c) for c in numeric_columns(rubric))
    used = None if len(learned) == len(cols) else learned
    factors = [f.id for f in rubric.factors]
    repeats, splits = fold_plan(rubric, y, folds)
    per_repeat = len(splits) // repeats
    base_idx = np.arange(n_eval, len(y_all))

    progress(f"analysing {len(y_all)} scripts")
    analyser = analyser or Analyser([s.text for s in marked.scripts], rubric)
    counts = hashed_counts(feature_table(analyser.plain, rubric)["text"].tolist())
    sentences = sentence_examples(marked, rubric) if factors and marked.annotations else None
    files = [s.file for s in marked.scripts]
    tables: dict[frozenset[str], np.ndarray] = {}
    length = tuple(cols.index(col) for col in LENGTH_COLUMNS)
    fits = (
        *(
            _Fit(
                c.name,
                c.text,
                c.alpha,
                columns=used,
                lead=(length, c.length_lead) if c.length_lead else None,
            )
            for c in candidates
        ),
        _Fit(BASELINE, False, 1.0, columns=length),
    )
    if has_spag:
        s = SPAG_CANDIDATE
        fits += (_Fit("spag", s.text, s.alpha, columns=used, target="spag"),)
    targets = {"mark": y_all, "spag": spag_all}
    tops = {"mark": rubric.max_mark, "spag": rubric.spag_max}

    outer_jobs = []
    for tr_eval, te in splits:
        train = np.concatenate([tr_eval, base_idx])
        numeric = numeric_for_fold(
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
                numeric[:, length[0]] if rubric.length_neutral else None,
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
    slopes = [result.length_slope for result in results]
    for k, ((_, te), result) in enumerate(zip(splits, results, strict=True)):
        r = k // per_repeat
        for name, values in result.raw.items():
            raw[name][r, te] = values
        for key, values in result.marks.items():
            nested[key][r, te] = values
        winners[result.chosen] += 1

    # The figures are of the marks `check` gives: the screen and the caps applied.
    as_check_marks(nested, analyser.plain[:n_eval], rubric)
    tests_by_repeat = _by_repeat(splits, repeats)
    oof: dict[str, np.ndarray] = {}
    for f in fits:
        spag = f.target == "spag"
        target, top = (spag_all[:n_eval], rubric.spag_max) if spag else (y, rubric.max_mark)
        oof[f.name] = np.concatenate(
            [cross_fit(target, raw[f.name][r], tests_by_repeat[r], 0, top) for r in range(repeats)]
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
        # Marks per unit of log words taken back from the chosen model in each outer fold
        # (a length-neutral rubric's; no fold is corrected for other rubrics).
        "length_correction": {
            "folds_corrected": sum(s > 0 for s in slopes),
            "folds": len(slopes),
            "mean_slope": round(float(np.mean(slopes)), 3),
        },
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


def as_check_marks(
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


# --------------------------------------------------------------------------- train
