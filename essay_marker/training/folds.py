"""The folds' features, made fast: scripts hashed once, kernels reused across candidates.

`FoldFeatures` builds, fold by fold, exactly what `model.pipeline.mark_pipeline` builds (a
test holds the two together), as linear kernels between scripts: kernel ridge on them gives
the ridge regression's predictions. Through the full pipeline, nested cross-validation of
a class set with the bundled corpus took about 170 s; this way about 35 s
(benchmarks/RESULTS.md, "Training time"). The final model and `check` use the pipeline.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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
)
from essay_marker.model.metrics import Marks
from essay_marker.model.ordinal import apply_thresholds, fit_thresholds
from essay_marker.model.pipeline import (
    SEED,
    hashers,
)
from essay_marker.model.sentence import (
    SentenceModel,
    fit_sentence_model,
)
from essay_marker.rubric import Rubric


@dataclass
class Analyser:
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


class FoldFeatures:
    """The mark pipeline's features for one fold, as linear kernels between scripts.

    Mirrors `mark_pipeline`: scaled numeric columns, then TF-IDF of the hashed word and
    character counts (hashed once for all scripts). With a few hundred scripts and a
    quarter of a million columns, ridge regression is solved fastest in its dual form
    (kernel ridge on the precomputed linear kernel, `kernel_ridge`), and every candidate
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

    def matrices(self, text: bool, columns: Sequence[int] | None = None) -> tuple[Any, Any]:
        """The training and test feature matrices (all numeric columns or only `columns`),
        exactly as the pipeline builds them."""
        a, b = (m if columns is None else m[:, list(columns)] for m in self.numeric)
        if not text:
            return a, b
        return (
            sparse.hstack([a] + [x for x, _ in self.text]).tocsr(),
            sparse.hstack([b] + [y for _, y in self.text]).tocsr(),
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
            every = range(self.numeric[0].shape[1]) if columns is None else columns
            rest = tuple(i for i in every if i not in led)
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
        return kernel_ridge(k_train, y, weights, alpha, k_test)


def kernel_ridge(
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


def cross_fit(
    y: np.ndarray, raw: np.ndarray, tests: list[np.ndarray], low: int, high: int
) -> np.ndarray:
    """Marks for one repeat: each fold cut by thresholds fitted on the other folds."""
    marks = np.zeros(len(y), dtype=int)
    for test in tests:
        rest = np.setdiff1d(np.arange(len(y)), test)
        cuts = fit_thresholds(y[rest], raw[rest], low, high)
        marks[test] = apply_thresholds(raw[test], cuts, low)
    return marks


def numeric_for_fold(
    tables: dict[frozenset[str], np.ndarray],
    sentences: Any,
    train_files: set[str],
    factors: list[str],
    analyser: Analyser,
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


SMALL = 200  # below this many evaluation scripts, folds are repeated
