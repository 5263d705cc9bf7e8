"""The trained marker: ordinal thresholds, safe loading, the shipped model and its card."""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import cross_val_predict

from essay_marker.analysis.features import analyse_essay, analyse_essays, feature_table
from essay_marker.dataset import load_marked
from essay_marker.errors import ModelError
from essay_marker.model.ordinal import (
    SIGMA_FLOOR,
    OrdinalRegressor,
    _trial_qwks,
    apply_thresholds,
    corrected,
    fit_thresholds,
    length_bounds,
    length_correction,
)
from essay_marker.model.persist import ALLOWED_TYPES, bundled_model, load_model, save_model
from essay_marker.model.pipeline import CANDIDATES
from essay_marker.rubric import parse_rubric
from essay_marker.scoring import score_essay
from essay_marker.training.crossval import cross_validate
from essay_marker.training.fit import train

from .conftest import EXAMPLES, MODELS, TESTS

CORPUS = TESTS.parent / "corpus" / "stalin-main-reason"


def test_trial_qwks_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 17, 300)
    trials = np.clip(y + rng.integers(-4, 5, (5, 300)), 0, 16)
    expected = [cohen_kappa_score(y, p, weights="quadratic") for p in trials]
    assert _trial_qwks(y, trials) == pytest.approx(expected)
    assert _trial_qwks(np.full(4, 3), np.full((1, 4), 3))[0] == 0.0  # no spread: no kappa


def _one_at_a_time(y, pred, low, high):
    """The threshold search as first written: each trial scored alone from its confusion matrix."""
    k = high - low + 1
    weights = (np.subtract.outer(np.arange(k), np.arange(k)) ** 2).astype(float)
    y = np.asarray(y) - low

    def kappa(c):
        p = apply_thresholds(pred, c, low) - low
        observed = np.bincount(y * k + p, minlength=k * k).reshape(k, k)
        expected = np.outer(np.bincount(y, minlength=k), np.bincount(p, minlength=k)) / len(y)
        return 1.0 - (weights * observed).sum() / (weights * expected).sum()

    cuts = np.arange(low, high, dtype=float) + 0.5
    best = kappa(cuts)
    for _ in range(3):
        for i in range(len(cuts)):
            lo = cuts[i - 1] if i else min(pred.min(), cuts[0]) - 1
            hi = cuts[i + 1] if i + 1 < len(cuts) else max(pred.max(), cuts[-1]) + 1
            for value in np.linspace(lo, hi, 21)[1:-1]:
                trial = cuts.copy()
                trial[i] = value
                score = kappa(trial)
                if score > best + 1e-9:
                    best, cuts = score, trial
    return [float(c) for c in cuts]


@pytest.mark.parametrize("seed", range(12))
def test_thresholds_scored_together_match_the_one_at_a_time_search(seed):
    """Same cut points, so models trained before the search was vectorised mark the same."""
    rng = np.random.default_rng(seed)
    low, high = [(0, 4), (0, 16), (2, 12), (0, 60)][seed % 4]
    n = int(rng.integers(20, 400))
    y = rng.integers(low, high + 1, n)
    pred = y + rng.normal(0, rng.uniform(0.3, 4), n) if seed % 3 else rng.normal(high / 2, 2, n)
    if seed % 5 == 0:
        pred = np.round(pred, 1)  # ties
    assert fit_thresholds(y, pred, low, high) == _one_at_a_time(y, pred, low, high)


def test_thresholds_map_continuous_predictions_to_marks():
    assert list(apply_thresholds(np.array([-1.0, 0.6, 2.4, 99]), [0.5, 1.5, 2.5], 0)) == [
        0,
        1,
        2,
        3,
    ]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 200)
    pred = y * 0.6 + 1 + rng.normal(0, 0.3, 200)  # squashed and shifted: naive rounding fails
    cuts = fit_thresholds(y, pred, 0, 4)
    tuned = cohen_kappa_score(y, apply_thresholds(pred, cuts, 0), weights="quadratic")
    naive = cohen_kappa_score(y, np.clip(np.rint(pred), 0, 4).astype(int), weights="quadratic")
    assert cuts == sorted(cuts) and tuned > naive


def test_ordinal_regressor_follows_scikit_learn_conventions():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = np.clip(np.rint(X["a"] * 1.5 + 2), 0, 4).astype(int)
    unfitted = OrdinalRegressor(LinearRegression(), low=0, high=4)
    with pytest.raises(NotFittedError):
        unfitted.predict(X)
    fitted = unfitted.fit(X, y)
    assert fitted is unfitted
    assert len(fitted.thresholds_) == 4 and fitted.sigma_ >= SIGMA_FLOOR
    assert set(fitted.predict(X)) <= set(range(5))
    assert clone(fitted).get_params()["high"] == 4 and not hasattr(clone(fitted), "thresholds_")
    # Thresholds and spread come from the out-of-fold predictions when given them.
    oof_raw = cross_val_predict(LinearRegression(), X, y, cv=5)
    from_oof = OrdinalRegressor(LinearRegression(), 0, 4).fit(X, y, oof=(y, oof_raw))
    assert from_oof.thresholds_ == fit_thresholds(y, oof_raw, 0, 4)
    back = OrdinalRegressor.from_dict(from_oof.to_dict())
    back.check()
    assert list(back.predict(X)) == list(from_oof.predict(X))


def _leaning_on_length(seed: int, lean: float, n: int = 300):
    """True marks, log lengths independent of them, and outputs that credit length by `lean`."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 9, n)
    log_words = rng.normal(6.0, 0.5, n)
    raw = truth + lean * (log_words - 6.0) + rng.normal(0, 0.7, n)
    return truth, raw, log_words


def _partial(raw, log_words, truth):
    """Correlation of raw and length once the true mark is taken out of both."""
    z = np.column_stack([np.ones(len(truth)), truth])
    res = [v - z @ np.linalg.lstsq(z, v, rcond=None)[0] for v in (raw, log_words)]
    return float(np.corrcoef(*res)[0, 1])


def test_length_correction_takes_back_what_length_alone_earns():
    truth, raw, log_words = _leaning_on_length(3, lean=1.2)
    slope, centre = length_correction(truth, raw, log_words)
    assert slope == pytest.approx(1.2, abs=0.2) and centre == pytest.approx(log_words.mean())
    assert _partial(raw, log_words, truth) > 0.4
    assert abs(_partial(corrected(raw, log_words, slope, centre), log_words, truth)) < 0.05
    # Repeats of the out-of-fold outputs are averaged per script, not counted as scripts.
    twice = np.vstack([raw, raw])
    assert length_correction(truth, twice, log_words) == (slope, centre)


def test_length_correction_is_not_drawn_out_beyond_the_scripts_it_was_learned_on():
    """Beyond the bounds (the middle of the training lengths) the nearest end counts: a
    20-word note gets the lift of the shortest usual script, not a line drawn out to it."""
    truth, raw, log_words = _leaning_on_length(3, lean=1.2)
    slope, centre = length_correction(truth, raw, log_words)
    bounds = length_bounds(log_words)
    assert bounds[0] < centre < bounds[1]
    at_low = corrected(np.array([0.0]), np.array([bounds[0]]), slope, centre, bounds)
    tiny = corrected(np.array([0.0]), np.array([bounds[0] - 3.0]), slope, centre, bounds)
    assert tiny == pytest.approx(at_low)
    unbounded = corrected(np.array([0.0]), np.array([bounds[0] - 3.0]), slope, centre)
    assert unbounded[0] == pytest.approx(at_low[0] + 3.0 * slope)
    inside = np.array([centre])
    assert corrected(inside, inside, slope, centre, bounds) == pytest.approx(inside)


@pytest.mark.parametrize("lean", [0.0, -1.2])
def test_no_length_correction_when_length_earns_nothing_or_less(lean):
    truth, raw, log_words = _leaning_on_length(4, lean)
    assert length_correction(truth, raw, log_words) == (0.0, 0.0)
    assert list(corrected(raw, log_words, 0.0, 0.0)) == list(raw)


def test_ordinal_regressor_learns_and_keeps_its_length_correction():
    truth, raw, log_words = _leaning_on_length(5, lean=1.0)
    X = pd.DataFrame({"a": truth + np.random.default_rng(5).normal(0, 0.5, len(truth))})
    X["log_words"] = log_words
    model = OrdinalRegressor(LinearRegression(), 0, 8).fit(
        X, truth, oof=(truth, raw), oof_length=log_words
    )
    assert model.length_slope_ == pytest.approx(1.0, abs=0.2)
    low, high = model.length_bounds_
    assert low == pytest.approx(np.percentile(log_words, 5))
    assert high == pytest.approx(np.percentile(log_words, 95))
    plain = model.estimator_.predict(X)
    held = np.clip(log_words, low, high)
    expected = plain - model.length_slope_ * (held - model.length_centre_)
    assert model.predict_raw(X) == pytest.approx(expected)
    back = OrdinalRegressor.from_dict(model.to_dict())
    back.check()
    assert back.predict_raw(X) == pytest.approx(expected)
    # A model file from before the correction existed marks as it did.
    older = {k: v for k, v in model.to_dict().items() if not k.startswith("length_")}
    assert OrdinalRegressor.from_dict(older).predict_raw(X) == pytest.approx(plain)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory, rubric):
    """A quick features-only model on a slice of the corpus, for file-format tests."""
    marked = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    keep = [s for i, s in enumerate(marked.scripts) if i % 3 == 0]
    subset = type(marked)(
        tuple(keep),
        tuple(a for a in marked.annotations if a.file in {s.file for s in keep}),
        "test",
    )
    model = train(subset, rubric, "small", folds=3, candidates=CANDIDATES[:1])
    path = save_model(model, tmp_path_factory.mktemp("m") / "small.skops")
    return path


def test_saved_model_round_trips_and_marks(small_model, rubric):
    model = load_model(small_model, rubric)
    assert model.scorer_name == "model:small"
    card = json.loads(small_model.with_suffix(".json").read_text())
    assert card["rubric"]["sha256"] == rubric.sha256
    for key in ("qwk", "exact", "adjacent", "mae", "confusion"):
        assert key in card["cross_validation"]["model"]
    assert "length_baseline" in card["cross_validation"] and "versions" in card
    result = score_essay((EXAMPLES / "two-reasons-short.txt").read_text(), rubric, model)
    assert result.scorer == "model:small" and 0 <= result.mark <= 16 and 0 <= result.confidence <= 1


def test_model_for_another_rubric_is_refused(small_model, rubric):
    other = parse_rubric(
        (TESTS.parent / "rubrics" / "stalin-main-reason.toml").read_text() + "\n# edited\n"
    )
    with pytest.raises(ModelError, match="retrain"):
        load_model(small_model, other)


def test_pickle_file_is_refused(tmp_path, rubric):
    path = tmp_path / "evil.skops"
    path.write_bytes(pickle.dumps({"format_version": 1}))
    with pytest.raises(ModelError, match="not a skops model"):
        load_model(path, rubric)


def _tampered(model: Path, tampered: Path) -> Path:
    """A copy of a model file whose ridge regressions claim to be subprocess.Popen."""
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "schema.json":
                data = data.replace(b'"Ridge"', b'"Popen"').replace(
                    b'"sklearn.linear_model._ridge"', b'"subprocess"'
                )
            dst.writestr(item, data)
    return tampered


def test_untrusted_type_is_refused(tmp_path, small_model, rubric):
    tampered = _tampered(small_model, tmp_path / "tampered.skops")
    with pytest.raises(ModelError, match=r"does not trust: subprocess\.Popen"):
        load_model(tampered, rubric)


# Loads the shipped model and a tampered copy in a fresh process, as the CLI does.
_LEAN = """
import sys
from essay_marker.errors import ModelError
from essay_marker.model.persist import load_model, skip_skops_default_trust
from essay_marker.rubric import find_rubric



def lacks(name):
    raise AttributeError(name)


skip_skops_default_trust()
if sys.argv[3] == "newer":  # a skops importing a name the stand-in does not provide
    sys.modules["skops.io._trusted_types"].__getattr__ = lacks
rubric = find_rubric("stalin-main-reason")
model = load_model(sys.argv[1], rubric)
import skops.io._general as general
print(bool(general.SKLEARN_ESTIMATOR_TYPE_NAMES), len(model.familiar) > 0)
try:
    load_model(sys.argv[2], rubric)
except ModelError as exc:
    print(exc)
"""


@pytest.mark.parametrize("skops", ["current", "newer"])
def test_skops_without_default_trust_still_loads_and_refuses(tmp_path, skops):
    shipped = MODELS / "stalin-main-reason.skops"
    tampered = _tampered(shipped, tmp_path / "tampered.skops")
    run = [sys.executable, "-c", _LEAN, str(shipped), str(tampered), skops]
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout.splitlines()
    # The stand-in leaves skops' default lists empty; a skops it cannot serve is imported whole.
    assert out[0] == ("True True" if skops == "newer" else "False True")
    assert "does not trust: subprocess.Popen" in out[1]


def test_familiar_pairs_stored_as_a_list_still_load(tmp_path, rubric):
    """Model files written before the pairs were stored as one string."""
    import skops.io as sio

    shipped = MODELS / "stalin-main-reason.skops"
    bundle = sio.load(shipped, trusted=list(ALLOWED_TYPES))
    assert isinstance(bundle["familiar"], str)
    bundle["familiar"] = bundle["familiar"].split("\n")
    sio.dump(bundle, tmp_path / "older.skops")
    older = load_model(tmp_path / "older.skops", rubric)
    assert older.familiar == load_model(shipped, rubric).familiar and len(older.familiar) > 1000


def test_mark_and_spag_share_features_without_changing_predictions(rubric):
    # The bundled model gives SPaG by the rules (tools/training_set.py); a teacher's model
    # trained on SPaG marks has both regressions on the same text features.
    marked = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    keep = marked.scripts[::4]
    subset = type(marked)(keep, (), "test")
    text_led = next(c for c in CANDIDATES if c.text)
    model = train(subset, rubric, "text", folds=3, candidates=(text_led,))
    assert model.spag is not None
    analyses = [analyse_essay(p.read_text(), rubric, model.hook()) for p in EXAMPLES.glob("*.txt")]
    table = feature_table(analyses, rubric)
    shared = model._predict_raw(table)
    assert model._shared_features  # train() fits both models on the same features
    model._shared_features = False
    separate = model._predict_raw(table)
    assert all(np.array_equal(a, b) for a, b in zip(shared, separate, strict=True))


def test_essays_analysed_together_match_one_by_one(rubric):
    """One sentence-model call for many essays gives each essay its own hints."""
    hook = bundled_model(rubric).hook()
    texts = [p.read_text() for p in sorted(EXAMPLES.glob("*.txt"))] + ["", "Stalin won."]
    assert analyse_essays(texts, rubric, hook) == [analyse_essay(t, rubric, hook) for t in texts]


def test_shipped_model_is_used_by_check(rubric):
    model = bundled_model(rubric)
    assert model is not None
    result = score_essay((EXAMPLES / "analytical-four-factors.txt").read_text(), rubric, model)
    assert result.scorer == "model:stalin-main-reason"


@pytest.mark.slow
def test_shipped_card_figures_are_reproduced(rubric, tmp_path):
    """Deterministic: re-running the card's cross-validation on the shipped model's training
    set (tools/training_set.py: the corpus and the blind set's dev essays) gives its figures."""
    spec = importlib.util.spec_from_file_location(
        "training_set", TESTS.parent / "tools" / "training_set.py"
    )
    assert spec and spec.loader
    training_set = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(training_set)
    training_set.assemble(tmp_path)
    card = json.loads((MODELS / "stalin-main-reason.json").read_text())
    data = training_set.training_set(tmp_path, rubric)
    assert card["data"]["sha256"] == data.marked.sha256
    assert card["rubric"]["sha256"] == rubric.sha256
    evaluation = cross_validate(data, rubric, card["cross_validation"]["folds"])
    expected = card["cross_validation"]
    assert evaluation.chosen.name == card["estimator"]["chosen"] == expected["chosen"]
    assert evaluation.figures == expected
    # Nested: the choice made inside each fold, and still far above length alone.
    assert expected["protocol"] == "nested"
    assert expected["model"]["qwk"] > expected["length_baseline"]["qwk"] + 0.1
    assert expected["beats_length"]["clear"]


def test_factorless_rubric_trains_marks_and_gives_level_feedback(tmp_path):
    """A teacher's new question: no factors, the model alone marks, feedback uses the levels."""
    from essay_marker.rubric import rubric_template

    text = rubric_template("plain", "What was the main reason Stalin gained power?", 16)
    rubric = parse_rubric(text, "plain.toml")
    holdout = TESTS.parent / "corpus" / "stalin-main-reason-holdout"
    marked = load_marked(holdout, holdout / "marks.csv", rubric)
    model = train(marked, rubric, "plain", folds=3, candidates=CANDIDATES[:1])
    assert model.sentence is None and model.card["cross_validation"]["model"]["n"] == 45
    result = score_essay((EXAMPLES / "two-reasons-short.txt").read_text(), rubric, model)
    assert result.factors == () and result.scorer == "model:plain"
    assert all("Level" in w for w in result.feedback.www)
    assert "Describe what a Level" in result.feedback.next_step


def test_credited_pairs_are_the_familiar_ones_of_level_2_answers_and_older_files_fall_back(
    tmp_path, rubric
):
    """Files saved before credited pairs existed judge everyday things by the familiar pairs."""
    import skops.io as sio

    shipped = MODELS / "stalin-main-reason.skops"
    model = load_model(shipped, rubric)
    assert 1000 < len(model.credited) < len(model.familiar)
    assert model.credited <= model.familiar
    bundle = sio.load(shipped, trusted=list(ALLOWED_TYPES))
    del bundle["credited"]
    sio.dump(bundle, tmp_path / "older.skops")
    assert load_model(tmp_path / "older.skops", rubric).credited == model.familiar


def test_the_status_models_are_saved_and_files_without_them_still_load(tmp_path, rubric):
    """The shipped model decides "explained" for the reasons beyond the named four together,
    and for each named reason whose own model beat the rules (its card says how each did,
    cross-validated); a file saved before there were several loads its one model, and a
    file saved before any existed reports the rules' statuses."""
    import shutil

    import skops.io as sio

    shipped = MODELS / "stalin-main-reason.skops"
    model = load_model(shipped, rubric)
    status = model.sentence.status
    card = model.card["sentence_model"]["status"]
    assert card["others"]["factors"] == [f.id for f in rubric.factors if not f.named]
    used = [part for part in card.values() if part["used"]]
    assert [s.factors for s in status] == [part["factors"] for part in used]
    assert card["others"]["used"] and all(p["f1_model"] > p["f1_rules"] for p in used)
    for f in rubric.factors:
        if f.named:
            assert card[f.id]["factors"] == [f.id]
    bundle = sio.load(shipped, trusted=list(ALLOWED_TYPES))
    shutil.copyfile(shipped.with_suffix(".json"), tmp_path / "one.json")
    bundle["sentence"]["status"] = bundle["sentence"]["status"][0]
    sio.dump(bundle, tmp_path / "one.skops")
    one = load_model(tmp_path / "one.skops", rubric)
    assert one.sentence is not None and [s.factors for s in one.sentence.status] == [
        status[0].factors
    ]
    del bundle["sentence"]["status"]
    sio.dump(bundle, tmp_path / "older.skops")
    shutil.copyfile(shipped.with_suffix(".json"), tmp_path / "older.json")
    older = load_model(tmp_path / "older.skops", rubric)
    assert older.sentence is not None and older.sentence.status == []
    analysis = analyse_essay((EXAMPLES / "analytical-four-factors.txt").read_text(), rubric)
    assert older.revise(analysis.coverage, 300) is analysis.coverage
    decided = {f for s in status for f in s.factors}
    revised = model.revise(analysis.coverage, 300)
    for before, after in zip(analysis.coverage.factors, revised.factors, strict=True):
        assert before.status == after.status or before.id in decided


# ------------------------------------------------------------ damaged files: one error each


def _rewritten(tmp_path, change) -> Path:
    """A copy of the shipped model whose bundle `change` edited, saved with skops."""
    import shutil

    import skops.io as sio

    shipped = MODELS / "stalin-main-reason.skops"
    bundle = sio.load(shipped, trusted=list(ALLOWED_TYPES))
    change(bundle)
    path = tmp_path / "edited.skops"
    sio.dump(bundle, path)
    shutil.copyfile(shipped.with_suffix(".json"), path.with_suffix(".json"))
    return path


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(rubric_id=42),
        lambda b: b["mark"].update(thresholds="not a list"),
        lambda b: b["mark"].update(sigma=-1.0),
        lambda b: b["sentence"].update(factors=[1, 2]),
        lambda b: b.pop("columns"),
        lambda b: b.update(mark=[1, 2, 3]),
        lambda b: b["sentence"]["status"][0].update(threshold="high"),
        lambda b: b["sentence"]["status"][-1].update(factors="ruthlessness"),
        lambda b: b["sentence"].update(status="a status"),
    ],
    ids=[
        "rubric-id",
        "thresholds",
        "sigma",
        "factors",
        "no-columns",
        "mark-list",
        "status-threshold",
        "status-factors",
        "status-not-a-list",
    ],
)
def test_a_model_with_a_part_of_the_wrong_type_is_refused_with_one_error(tmp_path, rubric, change):
    with pytest.raises(ModelError, match=r"damaged|not an essaymark model"):
        load_model(_rewritten(tmp_path, change), rubric)


def test_a_deeply_nested_model_schema_is_refused_with_one_error(tmp_path, rubric):
    path = tmp_path / "nested.skops"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("schema.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="not a skops model"):
        load_model(path, rubric)


@pytest.mark.parametrize("card", ["{not json", "[1, 2]", '{"cross_validation": [1]}'])
def test_a_damaged_model_card_neither_blocks_marking_nor_listing(
    tmp_path, rubric, card, monkeypatch
):
    import shutil

    from typer.testing import CliRunner

    from essay_marker import store
    from essay_marker.cli import app

    monkeypatch.setenv("ESSAYMARK_HOME", str(tmp_path / "home"))
    folder = store.rubric_folder(rubric.id)
    folder.mkdir(parents=True)
    shutil.copyfile(MODELS / "stalin-main-reason.skops", folder / "v1.skops")
    (folder / "v1.json").write_text(card)
    runner = CliRunner()
    assert runner.invoke(app, ["models", "use", "v1"]).exit_code == 0
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "* v1" in listed.stdout
    checked = runner.invoke(app, ["check", str(EXAMPLES / "two-reasons-short.txt")])
    assert checked.exit_code == 0 and "error" not in checked.stderr


def test_models_use_refuses_paths_and_goes_back_to_the_bundled_model(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from essay_marker import store
    from essay_marker.cli import app

    monkeypatch.setenv("ESSAYMARK_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    for name in ("../../etc/passwd", "v1/../v2", "..", "/tmp/x"):
        done = runner.invoke(app, ["models", "use", name])
        assert done.exit_code == 2 and "is not a model version" in done.stderr
    folder = store.rubric_folder("stalin-main-reason")
    folder.mkdir(parents=True)
    (folder / "v1.skops").write_bytes(b"not a model")
    bad = runner.invoke(app, ["models", "use", "v1"])
    assert bad.exit_code == 2 and store.active_name("stalin-main-reason") is None
    (folder / "active").write_text("v1\n")
    back = runner.invoke(app, ["models", "use", "bundled"])
    assert back.exit_code == 0 and store.active_name("stalin-main-reason") is None
    assert "* bundled" in runner.invoke(app, ["models", "list"]).stdout


def test_bundled_model_leaves_spag_to_the_rules(rubric):
    """Six writers' SPaG marks teach a regression their styles (tools/training_set.py):
    the bundled model gives the rule-based estimate."""
    from essay_marker.analysis.features import analyse_essay as analyse

    model = bundled_model(rubric)
    assert model.spag is None
    text = (EXAMPLES / "two-reasons-short.txt").read_text()
    assert score_essay(text, rubric, model).spag.mark == analyse(text, rubric).spag.mark
