"""Training: the fast cross-validation matches the real pipeline; nested selection; small sets;
base corpus."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from essay_marker.analysis.features import (
    analyse_essay,
    feature_table,
    numeric_columns,
    table_columns,
)
from essay_marker.dataset import MarkedSet, load_marked
from essay_marker.model.pipeline import CANDIDATES, SMALL_SET_CANDIDATES, mark_pipeline
from essay_marker.rubric import parse_rubric, rubric_template
from essay_marker.training.crossval import cross_validate
from essay_marker.training.fit import train
from essay_marker.training.folds import FoldFeatures, fold_plan, hashed_counts, kernel_ridge
from essay_marker.training.sets import TEACHER_SHARE, with_base

from .conftest import EXAMPLES, MODELS, TESTS

CORPUS = TESTS.parent / "corpus" / "stalin-main-reason"
HOLDOUT = TESTS.parent / "corpus" / "stalin-main-reason-holdout"


@pytest.fixture(scope="module")
def holdout(rubric):
    return load_marked(HOLDOUT, HOLDOUT / "marks.csv", rubric)


@pytest.mark.parametrize(
    "candidate", [CANDIDATES[1], CANDIDATES[2], CANDIDATES[-1]], ids=lambda c: c.name
)
def test_fold_features_predict_as_the_pipeline_does(holdout, rubric, candidate):
    """Cross-validation hashes each script once; it must fit the very model train() saves."""
    table = feature_table([analyse_essay(s.text, rubric) for s in holdout.scripts], rubric)
    # The table holds every column; a length-neutral rubric's candidates learn from fewer.
    every, cols = table_columns(rubric), numeric_columns(rubric)
    assert rubric.length_neutral and "log_words" in every and "log_words" not in cols
    used = [every.index(c) for c in cols]
    y = np.array(holdout.marks)
    train, test = np.arange(0, 45, 3) % 45, np.setdiff1d(np.arange(45), np.arange(0, 45, 3))
    train, test = test, train  # 30 to learn from, 15 to predict
    weights = np.linspace(1, 3, len(train))
    numeric = table[every].to_numpy(float)
    fold = FoldFeatures(numeric, hashed_counts(table.text.tolist()), train, test)
    length = [every.index("log_words")]
    lead = (length, candidate.length_lead) if candidate.length_lead else None
    fast = fold.fit_predict(candidate.text, candidate.alpha, y[train], weights, used, lead)
    pipeline = mark_pipeline(cols, candidate)
    pipeline.fit(table.iloc[train], y[train], ridge__sample_weight=weights)
    # The pipeline's sparse ridge solver stops at a tolerance (1e-4): agree to 0.01 marks.
    np.testing.assert_allclose(fast, pipeline.predict(table.iloc[test]), atol=0.01)
    if not candidate.length_lead:
        xtr, _ = fold.matrices(candidate.text, used)
        expected = pipeline.named_steps["features"].transform(table.iloc[train])
        assert abs(xtr - expected).max() < 1e-9


def test_small_sets_repeat_stratified_folds(rubric):
    marks = [0] * 3 + [3] * 10 + [7] * 10 + [11] * 9 + [15] * 3  # 35 scripts, a real class
    repeats, splits = fold_plan(rubric, marks, 5)
    assert repeats == 6 and len(splits) == 30
    for r in range(repeats):
        tests = np.concatenate([te for _, te in splits[r * 5 : (r + 1) * 5]])
        assert sorted(tests) == list(range(35))  # each repeat holds every script out once
    first_fold_levels = {rubric.level_for(marks[i]).level for i in splits[0][1]}
    assert len(first_fold_levels) >= 3  # stratified: each fold sees most levels
    assert fold_plan(rubric, [i % 17 for i in range(400)], 5)[0] == 1


def test_base_corpus_is_weighted_so_the_teacher_dominates(holdout, rubric):
    base = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    data = with_base(holdout, base, "stalin-main-reason")
    assert data.evaluated == 45 and len(data.marked.scripts) == 45 + 264
    w = data.weights
    assert w[:45].sum() / w.sum() == pytest.approx(TEACHER_SHARE, abs=0.01)
    # The corpus's sentence labels come along (renamed if a file name clashes).
    assert {a.file for a in data.marked.annotations} <= {s.file for s in data.marked.scripts}
    # A teacher who hands in corpus scripts keeps their own mark for them.
    overlap = with_base(MarkedSet(base.scripts[:30], (), "x"), base, "stalin-main-reason")
    assert overlap.evaluated == 30 and len(overlap.marked.scripts) == 264


def test_teacher_marks_win_where_they_disagree_with_the_corpus(holdout, rubric):
    """A harsher teacher: the combined model follows the teacher, not the corpus."""
    harsh = MarkedSet(
        tuple(replace(s, mark=max(0, s.mark - 3)) for s in holdout.scripts), (), "harsh"
    )
    base = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    evaluation = cross_validate(with_base(harsh, base, "base"), rubric, 5, (CANDIDATES[1],))
    figures = evaluation.figures
    assert figures["evaluated_on"] == 45 and figures["base_corpus"]["scripts"] == 264
    predicted = np.mean(evaluation.oof[CANDIDATES[1].name])
    assert abs(predicted - np.mean(harsh.marks)) < abs(predicted - np.mean(holdout.marks))
    assert figures["model"]["qwk"] > figures["length_baseline"]["qwk"]


def test_kernel_ridge_is_scikit_learns_to_the_bit():
    rng = np.random.default_rng(0)
    for n in (12, 80, 300):
        x = rng.normal(size=(n + 20, 30))
        k = x @ x[:n].T + 1e4
        y, w = rng.integers(0, 17, n), rng.uniform(1, 3, n)
        for alpha in (1.0, 100.0):
            expected = KernelRidge(alpha=alpha, kernel="precomputed")
            expected = expected.fit(k[:n], y, sample_weight=w).predict(k[n:])
            assert np.array_equal(kernel_ridge(k[:n], y, w, alpha, k[n:]), expected)


def _plain_rubric(top: int = 16):
    text = rubric_template("plain", "What was the main reason Stalin gained power?", top)
    return parse_rubric(text, "plain.toml")


@pytest.mark.slow
def test_outer_figure_stays_at_chance_where_the_inner_best_does_not(rubric):
    """Marks drawn at random: no candidate can beat chance, whatever the figures say.

    Eight class sets of 24 corpus scripts with shuffled marks, the nine candidates. The
    best candidate's figure on the folds it was chosen on (the figure reported before
    nested selection) comes out above the outer figure in every set; the outer figure,
    which scores the choice too, stays at zero on average. One set of 24 can reach 0.2 by
    chance alone: four sets left the mean at the line (0.050) after a change to the reading.
    """
    marked = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    plain = _plain_rubric(8)
    outer, inner_best = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(marked.scripts), 24, replace=False)
        marks = rng.permutation(np.arange(24) % 9)
        scripts = tuple(
            replace(marked.scripts[i], mark=int(m), spag=None)
            for i, m in zip(pick, marks, strict=True)
        )
        figures = cross_validate(
            MarkedSet(scripts, (), f"null{seed}"), plain, 5, CANDIDATES
        ).figures
        outer.append(figures["model"]["qwk"])
        inner_best.append(figures["qwk_inner_best"])
        assert sum(figures["winners"].values()) == figures["folds"] * figures["repeats"]
    assert abs(np.mean(outer)) < 0.05
    assert np.mean(inner_best) > np.mean(outer) + 0.05
    assert all(i > o for i, o in zip(inner_best, outer, strict=True))


def test_nested_figures_and_their_parts(holdout):
    """One class set: outer and inner-best figures, spread, winners; the same with 2 processes."""
    plain = _plain_rubric()
    evaluation = cross_validate(holdout, plain, 3)
    f = evaluation.figures
    assert f["protocol"] == "nested" and f["folds"] == 3 and f["repeats"] == 5
    assert list(f["selection"]) == [c.name for c in SMALL_SET_CANDIDATES]  # 45 scripts: small
    assert f["chosen"] == evaluation.chosen.name
    assert f["qwk_inner_best"] == f["selection"][f["chosen"]] == f["inner_best"]["qwk"]
    assert f["length_qwk"] == f["length_baseline"]["qwk"]
    assert f["model"]["n"] == 45 and f["model"]["predictions"] == 45 * 5
    spread = f["spread"]
    assert spread["over"] == "repeats" and spread["n"] == 5
    assert spread["min"] <= f["model"]["qwk"] <= spread["max"]
    assert f["model"]["qwk_repeats"] == [spread["min"], spread["max"]]
    assert sum(f["winners"].values()) == 15 and set(f["winners"]) <= set(f["selection"])
    gain = round(f["model"]["qwk"] - f["length_qwk"], 4)
    assert f["beats_length"] == {
        "gain": gain,
        "margin": max(0.03, spread["sd"]),
        "clear": gain >= max(0.03, spread["sd"]),
    }
    # Outer folds in two processes give the same figures.
    assert cross_validate(holdout, plain, 3, jobs=2).figures == f
    # A rubric that is not length-neutral learns no length correction in any fold.
    assert f["length_correction"] == {"folds_corrected": 0, "folds": 15, "mean_slope": 0.0}


def test_a_length_neutral_rubric_learns_its_correction_inside_every_fold(holdout):
    """Each outer fold learns the correction from its inner folds' outputs, as the final
    model does from the outer ones; the card says what the saved model takes off.

    With no factors the model has little but length-led features to go on, and in these
    scripts longer answers are better ones: it credits length beyond the marks, and a
    length-neutral rubric takes that back (which costs agreement here: RESULTS.md)."""
    neutral = replace(_plain_rubric(), length_neutral=True)
    figures = cross_validate(holdout, neutral, 3, (CANDIDATES[2],)).figures
    correction = figures["length_correction"]
    assert correction["folds"] == 15 and correction["folds_corrected"] > 0
    assert correction["mean_slope"] > 0
    model = train(holdout, neutral, "neutral", folds=3, candidates=(CANDIDATES[2],))
    card = model.card["estimator"]["length_correction"]
    assert card["length_neutral"] is True
    assert card["slope"] == round(model.mark.length_slope_, 4) and model.mark.length_slope_ > 0
    plain = train(holdout, _plain_rubric(), "plain", folds=3, candidates=(CANDIDATES[2],))
    assert plain.mark.length_slope_ == 0.0
    assert plain.card["estimator"]["length_correction"]["length_neutral"] is False


def test_cross_validated_marks_are_the_marks_check_gives(rubric):
    """Training's figures put the screen and the caps on its marks, as check does."""
    import numpy as np

    from essay_marker.analysis.features import analyse_essay
    from essay_marker.training.crossval import as_check_marks

    spanish = "Stalin llegó al poder porque controlaba el partido y nombraba a sus amigos en todos los puestos importantes."
    english = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    analyses = [analyse_essay(spanish, rubric), analyse_essay(english, rubric)]
    nested = {"model": np.array([[9, 9], [7, 7]]), "spag": np.array([[3, 3], [2, 2]])}
    as_check_marks(nested, analyses, rubric)
    assert nested["model"].tolist() == [[0, 9], [0, 7]]
    assert nested["spag"].tolist() == [[0, 3], [0, 2]]


def test_evaluating_a_saved_model_leaves_out_the_scripts_it_was_trained_on(rubric, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from essay_marker.cli import app

    corpus = TESTS.parent / "corpus" / "stalin-main-reason"
    holdout = TESTS.parent / "corpus" / "stalin-main-reason-holdout"
    model = str(MODELS / "stalin-main-reason.skops")
    # Five held-out scripts and five the model was trained on, in one marks file.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    rows = ["file,mark"]
    for folder in (holdout, corpus):
        lines = (folder / "marks.csv").read_text(encoding="utf-8").splitlines()[1:6]
        for line in lines:
            name, mark = line.split(",")[:2]
            shutil.copyfile(folder / name, mixed / name)
            rows.append(f"{name},{mark}")
    (mixed / "marks.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    runner = CliRunner()
    args = [
        "evaluate",
        "--scripts",
        str(mixed),
        "--marks",
        str(mixed / "marks.csv"),
        "--model",
        model,
    ]
    done = runner.invoke(app, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    assert record["n"] == 5 and record["trained_on"] == 5
    both = json.loads(runner.invoke(app, [*args, "--format", "json", "--include-trained"]).stdout)
    assert both["n"] == 10
    text = runner.invoke(app, args).stdout
    assert "leaving out the 5 it was trained on" in text
