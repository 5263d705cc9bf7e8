"""The trained marker: its pipelines, thresholds, figures, and saving and loading (skops only).

The mark is an ordinal treatment of a ridge regression: the regression's continuous
output is cut into marks by thresholds tuned for quadratic weighted kappa on
out-of-fold predictions of the training data. A sentence-level factor model finds
factors written in the student's own words, on top of the rubric's cue phrases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score, precision_score
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from essay_marker.analysis.coverage import AGREES, FactorHook
from essay_marker.analysis.features import Analysis, analyse_essay, feature_table
from essay_marker.dataset import MarkedSet
from essay_marker.errors import ModelError
from essay_marker.fsutil import read_card
from essay_marker.records import Hint, Role
from essay_marker.rubric import Rubric, bundled_dirs

FORMAT_VERSION = 1
SEED = 0
Marks = Sequence[int] | np.ndarray  # integer marks, as a list or an array
# Types a model file may contain; skops refuses anything else. Never taken from input.
ALLOWED_TYPES = (
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.utils._bunch.Bunch",
)


@dataclass(frozen=True)
class Candidate:
    """One configuration of the mark model considered in selection."""

    name: str
    alpha: float
    text: bool
    # > 0: the length column is scaled up by this, so the ridge penalty barely touches it and
    # the other features only adjust a length-led mark (a strong prior for small classes).
    length_lead: float = 0.0


# Considered by cross-validated QWK; the first in a tie wins (simplest first).
CANDIDATES = (
    Candidate("ridge-features-a1", 1.0, False),
    Candidate("ridge-features-a10", 10.0, False),
    Candidate("ridge-features+text-a1", 1.0, True),
    Candidate("ridge-features+text-a3", 3.0, True),
    Candidate("ridge-features+text-a10", 10.0, True),
    # Length-led: the other features only adjust a length-based mark. A class set of 35 is
    # too few to learn 40 features from scratch; on ASAP samples of 35 these lifted the
    # chosen model's QWK from 0.54 to 0.64 (length alone: 0.60).
    Candidate("ridge-length-led-a30", 30.0, False, 10.0),
    Candidate("ridge-length-led-a100", 100.0, False, 10.0),
    Candidate("ridge-length-led+text-a30", 30.0, True, 10.0),
    Candidate("ridge-length-led+text-a100", 100.0, True, 10.0),
)
# For training sets under 200 scripts (a class set without the bundled corpus): without the
# weakly penalised ones (alpha 1 and 3), which fit 40 features and n-grams to 28 scripts
# almost unchecked. Fewer near-equal noisy figures to choose between, and a third less work.
SMALL_SET_CANDIDATES = tuple(c for c in CANDIDATES if c.alpha >= 10)
SPAG_CANDIDATE = Candidate("ridge-features+text-a10", 10.0, True)


# --------------------------------------------------------------------------- pipelines


def _hashing(analyzer: str, ngrams: tuple[int, int], bits: int) -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=analyzer, ngram_range=ngrams, n_features=2**bits, alternate_sign=False, norm=None
    )


def _tfidf(analyzer: str, ngrams: tuple[int, int], bits: int) -> Pipeline:
    """TF-IDF over hashed n-grams: no vocabulary to store, so model files stay small."""
    hashing = _hashing(analyzer, ngrams, bits)
    return Pipeline([("hash", hashing), ("tfidf", TfidfTransformer(sublinear_tf=True))])


# The mark model's text views: word 1-2 grams and character 4-grams within words. 4-grams
# alone hash in a quarter of the time of 2-5-grams and, when chosen, agreed as well on the
# corpus (QWK 0.929 cross-validated, 0.953 held out, against 0.926 and 0.950; RESULTS.md).
TEXT_VIEWS = (("words", "word", (1, 2), 17), ("chars", "char_wb", (4, 4), 17))
LENGTH_COLUMNS = ("log_words",)


def hashers() -> list[HashingVectorizer]:
    """The mark model's text hashers, in pipeline order (training hashes each script once)."""
    return [_hashing(analyzer, ngrams, bits) for _, analyzer, ngrams, bits in TEXT_VIEWS]


def mark_pipeline(columns: Sequence[str], candidate: Candidate) -> Pipeline:
    """Scaled numeric features (and TF-IDF word and character n-grams) into a ridge regression."""
    parts: list[tuple[str, Any, Any]] = [("num", StandardScaler(), list(columns))]
    weights = None
    if candidate.length_lead:
        others = [c for c in columns if c not in LENGTH_COLUMNS]
        parts = [
            ("length", StandardScaler(), list(LENGTH_COLUMNS)),
            ("num", StandardScaler(), others),
        ]
        weights = {"length": candidate.length_lead}
    if candidate.text:
        parts += [(name, _tfidf(a, ng, bits), "text") for name, a, ng, bits in TEXT_VIEWS]
    features = ColumnTransformer(parts, transformer_weights=weights)
    return Pipeline([("features", features), ("ridge", Ridge(alpha=candidate.alpha))])


def length_pipeline() -> Pipeline:
    """The baseline: the mark from the log word count alone."""
    return Pipeline(
        [
            ("features", ColumnTransformer([("num", StandardScaler(), list(LENGTH_COLUMNS))])),
            ("ridge", Ridge(alpha=1.0)),
        ]
    )


def role_pipeline() -> Pipeline:
    """Sentence stems to 'explains or weighs' versus 'only describes'."""
    classifier = LogisticRegression(C=2.0, max_iter=2000, class_weight="balanced")
    return Pipeline([("tfidf", _tfidf("word", (1, 3), 16)), ("lr", classifier)])


def sentence_pipeline() -> Pipeline:
    """Sentence stems to factors, one logistic regression per factor."""
    classifier = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    return Pipeline(
        [("tfidf", _tfidf("word", (1, 2), 16)), ("ovr", OneVsRestClassifier(classifier))]
    )


# --------------------------------------------------------------------------- thresholds


def apply_thresholds(pred: np.ndarray, thresholds: Sequence[float], low: int) -> np.ndarray:
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


def _qwk(y: Marks, p: Marks, labels: Sequence[int] | None = None) -> float:
    if len(set(y)) < 2 and len(set(p)) < 2:
        return 1.0 if list(y) == list(p) else 0.0
    value = cohen_kappa_score(y, p, weights="quadratic", labels=labels)
    return 0.0 if math.isnan(value) else float(value)


# --------------------------------------------------------------------------- fitted parts


@dataclass
class OrdinalModel:
    """A regression pipeline plus the thresholds that turn its output into marks."""

    pipeline: Pipeline
    thresholds: list[float]
    sigma: float
    low: int
    high: int

    def predict_raw(self, table: pd.DataFrame) -> np.ndarray:
        """The continuous prediction."""
        return self.pipeline.predict(table)

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """Integer marks."""
        return apply_thresholds(self.predict_raw(table), self.thresholds, self.low)

    def band_probability(self, raw: float, low_mark: int, high_mark: int) -> float:
        """P(true mark in [low_mark, high_mark]) under the cross-validated error spread."""
        t = self.thresholds
        upper = t[high_mark - self.low] if high_mark < self.high else math.inf
        lower = t[low_mark - self.low - 1] if low_mark > self.low else -math.inf
        return _phi((upper - raw) / self.sigma) - _phi((lower - raw) / self.sigma)

    def check(self) -> None:
        """Raise TypeError or ValueError unless every part has the type and size it needs."""
        if not all(isinstance(v, int) for v in (self.low, self.high)) or self.high <= self.low:
            raise ValueError("mark range")
        if not isinstance(self.thresholds, list) or len(self.thresholds) != self.high - self.low:
            raise ValueError("thresholds")
        if not all(isinstance(t, int | float) for t in [*self.thresholds, self.sigma]):
            raise TypeError("thresholds")
        if not self.sigma > 0 or not hasattr(self.pipeline, "predict"):
            raise ValueError("sigma or pipeline")

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "thresholds": self.thresholds,
            "sigma": self.sigma,
            "low": self.low,
            "high": self.high,
        }


def _phi(z: float) -> float:
    if math.isinf(z):
        return 1.0 if z > 0 else 0.0
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


@dataclass
class SentenceModel:
    """Finds factors in a sentence, and whether it explains rather than describes."""

    pipeline: Pipeline
    factors: list[str]
    threshold: float
    role_pipeline: Pipeline | None = None

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


# --------------------------------------------------------------------------- evaluation


def agreement(rubric: Rubric, y: Marks, p: Marks) -> dict[str, Any]:
    """QWK, exact/adjacent level agreement, MAE, Pearson r and the level confusion matrix."""
    y, p = np.asarray(y), np.asarray(p)
    ly = np.array([rubric.level_for(int(m)).level for m in y])
    lp = np.array([rubric.level_for(int(m)).level for m in p])
    levels = sorted(lv.level for lv in rubric.levels)
    pearson = float(np.corrcoef(y, p)[0, 1]) if np.std(y) and np.std(p) else 0.0
    return {
        "n": len(y),
        "qwk": round(_qwk(y, p, list(range(rubric.max_mark + 1))), 4),
        "qwk_level": round(_qwk(ly, lp, levels), 4),
        "exact": round(float(np.mean(ly == lp)), 4),
        "adjacent": round(float(np.mean(np.abs(ly - lp) <= 1)), 4),
        "exact_mark": round(float(np.mean(y == p)), 4),
        "mae": round(float(np.mean(np.abs(y - p))), 4),
        "pearson": round(pearson, 4),
        "levels": levels,
        "confusion": confusion_matrix(ly, lp, labels=levels).tolist(),
    }


def spag_agreement(y: Marks, p: Marks, top: int) -> dict[str, Any]:
    y, p = np.asarray(y), np.asarray(p)
    return {
        "n": len(y),
        "qwk": round(_qwk(y, p, list(range(top + 1))), 4),
        "exact": round(float(np.mean(y == p)), 4),
        "adjacent": round(float(np.mean(np.abs(y - p) <= 1)), 4),
    }


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def one_blas_thread(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run with one BLAS thread: training makes many small solves, and threads that wait
    for a busy second core made them 30 times slower (0.39 s against 0.012 s)."""
    from functools import wraps

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


@one_blas_thread
def sentence_figures(marked: MarkedSet, rubric: Rubric, folds: int = 5) -> dict[str, Any]:
    """F1 of cues alone, the sentence models alone, and both, by script-grouped CV.

    Per factor: is the factor in the sentence? And over sentences about a factor: does the
    sentence explain (or weigh) it rather than only describe it?
    """
    from essay_marker.analysis.coverage import EXPLAIN_ALONE, EXPLAIN_WITH_CUE

    data = sentence_examples(marked, rubric)
    factors = [f.id for f in rubric.factors]
    if len(set(data.groups)) < folds:
        return {}
    hints: list[Hint] = [Hint() for _ in data.texts]
    for train, test in GroupKFold(n_splits=folds).split(data.texts, groups=data.groups):
        model = fit_sentence_model(data.subset(train), factors)
        if model:
            for i, hint in zip(test, model.predict([data.texts[i] for i in test]), strict=True):
                hints[i] = hint
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
        both = [
            (data.cue_explains[i] and hints[i].explains >= EXPLAIN_WITH_CUE)
            or hints[i].explains >= EXPLAIN_ALONE
            for i in about
        ]
        out["explains"] = {
            "support": int(sum(gold)),
            "sentences": len(about),
            "f1_cues": round(float(f1_score(gold, cue, zero_division=0)), 3),
            "f1_model": round(
                float(f1_score(gold, [hints[i].explains >= 0.5 for i in about], zero_division=0)), 3
            ),
            "f1_cues_and_model": round(float(f1_score(gold, both, zero_division=0)), 3),
            "precision_cues_and_model": round(
                float(precision_score(gold, both, zero_division=0)), 3
            ),
        }
    return out


# --------------------------------------------------------------------------- the model


@dataclass
class TrainedModel:
    """Everything `check` needs to mark from a trained model."""

    name: str
    rubric_id: str
    rubric_sha256: str
    columns: list[str]
    mark: OrdinalModel
    spag: OrdinalModel | None
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
        marks = apply_thresholds(raws, self.mark.thresholds, self.mark.low)
        spags = (
            apply_thresholds(spag_raws, self.spag.thresholds, self.spag.low)
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
        mark, spag = self.mark.pipeline, self.spag.pipeline
        if self._shared_features is None:
            self._shared_features = _same_fitted(mark.steps[:-1], spag.steps[:-1])
        if not self._shared_features:
            return self.mark.predict_raw(table), self.spag.predict_raw(table)
        features = mark[:-1].transform(table)
        return mark[-1].predict(features), spag[-1].predict(features)


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


# --------------------------------------------------------------------------- files


def _types_in(path: Path) -> set[str]:
    """Every type named in a skops file's schema, read without loading anything."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def save_model(model: TrainedModel, path: str | Path) -> Path:
    """Write the model with skops and its card as JSON beside it (same stem, .json)."""
    import json
    import zipfile

    import skops.io as sio

    path = Path(path)
    bundle = {
        "format_version": FORMAT_VERSION,
        "name": model.name,
        "rubric_id": model.rubric_id,
        "rubric_sha256": model.rubric_sha256,
        "columns": model.columns,
        # One string, not a list: thousands of skops list items make loading slow.
        "familiar": "\n".join(sorted(model.familiar)),
        "credited": "\n".join(sorted(model.credited)),
        "mark": model.mark.to_dict(),
        "spag": model.spag.to_dict() if model.spag else {},
        "sentence": (
            {
                "pipeline": model.sentence.pipeline,
                "factors": model.sentence.factors,
                "threshold": model.sentence.threshold,
                "role_pipeline": model.sentence.role_pipeline,
            }
            if model.sentence
            else {}
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(bundle, tmp, compression=zipfile.ZIP_DEFLATED)
    tmp.replace(path)
    card_path = path.with_suffix(".json")
    card_tmp = card_path.with_name(card_path.name + ".tmp")
    card_tmp.write_text(json.dumps(model.card, indent=2) + "\n", encoding="utf-8")
    card_tmp.replace(card_path)
    return path


_SKOPS_DEFAULTS = "skops.io._trusted_types"


def _no_default_types(name: str) -> list[str]:
    if name.endswith("_TYPE_NAMES"):
        return []
    raise AttributeError(name)


def skip_skops_default_trust() -> None:
    """Let this process import skops.io without building skops' default trust lists.

    At import, skops.io lists every scikit-learn estimator (importing all of scikit-learn)
    and every SciPy and NumPy ufunc, to trust them by default: about 0.6 s, a quarter of
    `essaymark check`. load_model never relies on those defaults: it checks every type in
    a file against ALLOWED_TYPES and passes that list to skops, so with empty defaults
    skops trusts less, not more. For processes essaymark owns (the CLI): other code there
    that loads skops files without naming the types it trusts would find them refused.
    Does nothing once skops.io is imported.
    """
    import sys
    import types

    if "skops.io" in sys.modules or _SKOPS_DEFAULTS in sys.modules:
        return
    defaults = types.ModuleType(_SKOPS_DEFAULTS, "Empty default trust lists (essaymark).")
    defaults.__getattr__ = _no_default_types  # type: ignore[method-assign]
    defaults.essaymark_stand_in = True  # type: ignore[attr-defined]
    sys.modules[_SKOPS_DEFAULTS] = defaults


def _skops_io() -> Any:
    """skops.io; imported in full if a newer skops needs more than the empty trust lists."""
    import sys

    try:
        import skops.io as sio
    except ImportError:
        if not getattr(sys.modules.get(_SKOPS_DEFAULTS), "essaymark_stand_in", False):
            raise
        for name in [m for m in sys.modules if m == "skops.io" or m.startswith("skops.io.")]:
            del sys.modules[name]
        import skops.io as sio
    return sio


def load_model(path: str | Path, rubric: Rubric | None) -> TrainedModel:
    """Load a skops model file for this rubric, refusing unknown types and other rubrics.

    rubric None checks the file alone (`models use` when the rubric is given by id only).
    """
    import zipfile

    sio = _skops_io()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path} does not exist", "train one with 'essaymark train'")
    try:
        found = _types_in(path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RecursionError) as exc:
        raise ModelError(
            f"{path} is not a skops model file ({exc.__class__.__name__})",
            "essaymark only loads models saved by 'essaymark train'",
        ) from None
    refused = sorted(found - set(ALLOWED_TYPES))
    if refused:
        raise ModelError(
            f"{path} contains types essaymark does not trust: {', '.join(refused[:3])}",
            "only load models saved by 'essaymark train'",
        )
    try:
        bundle = sio.load(path, trusted=list(ALLOWED_TYPES))
    except Exception as exc:  # skops raises many kinds on a damaged file
        raise ModelError(
            f"{path} could not be loaded ({exc.__class__.__name__})",
            "train the model again with 'essaymark train'",
        ) from None
    if not isinstance(bundle, dict) or bundle.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} is not an essaymark model of format {FORMAT_VERSION}",
            "train the model again with 'essaymark train'",
        )
    damaged = ModelError(
        f"{path} is damaged (a part of it has the wrong type or is missing)",
        "train the model again with 'essaymark train'",
    )
    if not all(isinstance(bundle.get(k), str) for k in ("name", "rubric_id", "rubric_sha256")):
        raise damaged
    if rubric and (bundle["rubric_id"] != rubric.id or bundle["rubric_sha256"] != rubric.sha256):
        raise ModelError(
            f"{path} was trained for rubric '{bundle['rubric_id']}' "
            f"(sha256 {bundle['rubric_sha256'][:12]}), not this version of '{rubric.id}' "
            f"({rubric.sha256[:12]})",
            "retrain with 'essaymark train' after changing a rubric",
        )
    try:
        sentence = bundle["sentence"]
        trained = TrainedModel(
            name=bundle["name"],
            rubric_id=bundle["rubric_id"],
            rubric_sha256=bundle["rubric_sha256"],
            columns=[str(c) for c in bundle["columns"]],
            mark=OrdinalModel(**bundle["mark"]),
            spag=OrdinalModel(**bundle["spag"]) if bundle["spag"] else None,
            sentence=SentenceModel(**sentence) if sentence else None,
            card=read_card(path.with_suffix(".json")),
            familiar=_stored_pairs(bundle.get("familiar", "")),
            # Files saved before this set existed judge everyday things by the familiar pairs.
            credited=_stored_pairs(bundle.get("credited", bundle.get("familiar", ""))),
        )
        trained.check()
    except (KeyError, TypeError, ValueError, AttributeError):
        raise damaged from None
    return trained


def _stored_pairs(stored: str | list[str]) -> frozenset[str]:
    """Word pairs as saved: one newline-separated string (older files: a list)."""
    pairs = stored.split("\n") if isinstance(stored, str) else stored
    return frozenset(p for p in pairs if p)


def model_dirs() -> list[Path]:
    """Where bundled models live."""
    return bundled_dirs("models")


def bundled_model_path(rubric: Rubric) -> Path | None:
    """The file of the model shipped for this rubric, if there is one."""
    for d in model_dirs():
        path = d / f"{rubric.id}.skops"
        if path.is_file():
            return path
    return None


def bundled_model(rubric: Rubric) -> TrainedModel | None:
    """The model shipped for this rubric, or None when there is none."""
    path = bundled_model_path(rubric)
    return load_model(path, rubric) if path else None
