"""The status model: readings of an essay's reasons in, "explained" out, statuses revised."""

from __future__ import annotations

import numpy as np

from essay_marker.analysis.coverage import analyse_coverage
from essay_marker.model.status import (
    STATUSES,
    Readings,
    StatusModel,
    fit_status_model,
    reading_row,
    status_figures,
    status_pipeline,
)
from essay_marker.records import Hint, Status
from essay_marker.text import analyse

OTHERS = ["political_skill", "ruthlessness"]

ESSAY = (
    "Stalin was General Secretary from 1922, so he could appoint his supporters. "
    "Stalin was ruthless. "
    "Stalin was very clever, so he was able to beat his rivals one by one."
)


def _coverage(rubric, hints=None):
    doc = analyse(ESSAY)
    return doc, analyse_coverage(doc, rubric, hints=hints)


def test_a_reading_counts_what_the_rules_and_the_model_say_about_one_reason(rubric):
    placed = [Hint(), Hint(frozenset({"ruthlessness"}), 0.2, frozenset({"ruthlessness"})), Hint()]
    doc, cov = _coverage(rubric, placed)
    row = reading_row(cov, "ruthlessness", OTHERS, doc.word_count)
    assert len(row) == 13 + len(STATUSES) + len(OTHERS)
    about, named, causal = row[0], row[1], row[2]
    assert (about, named, causal) == (1, 1, 0)  # "Stalin was ruthless." says what, not how
    assert row[6] == 1 and row[7] == 1  # the model places it in one sentence, fairly sure
    status = cov.factor("ruthlessness").status
    assert row[13 + STATUSES.index(status)] == 1.0
    assert row[13 + len(STATUSES) + OTHERS.index("ruthlessness")] == 1.0


def _always(explained: bool) -> StatusModel:
    """A status model fitted to say one thing whatever it reads."""
    x = np.vstack(
        [np.zeros(13 + len(STATUSES) + len(OTHERS)), np.ones(13 + len(STATUSES) + len(OTHERS))]
    )
    pipeline = status_pipeline().fit(x, [False, True])
    return StatusModel(pipeline, list(OTHERS), 0.0 if explained else 1.01)


def test_revise_decides_only_its_own_reasons_and_never_one_the_essay_leaves_out(rubric):
    doc, cov = _coverage(rubric)
    before = {f.id: f.status for f in cov.factors}
    assert before["ruthlessness"] == Status.MENTIONED
    assert before["political_skill"] == Status.EXPLAINED
    up = {f.id: f.status for f in _always(True).revise(cov, doc.word_count).factors}
    down = {f.id: f.status for f in _always(False).revise(cov, doc.word_count).factors}
    assert up["ruthlessness"] == Status.EXPLAINED and down["political_skill"] == Status.MENTIONED
    for fid, status in before.items():
        if fid not in OTHERS:  # the named reasons, and any the model was not trained on
            assert up[fid] == down[fid] == status
    assert before["underestimated"] == up["underestimated"] == Status.ABSENT
    # Sentences, evidence and judgement are the rules' still.
    revised = _always(True).revise(cov, doc.word_count)
    assert revised.sentences == cov.sentences and revised.judgement == cov.judgement


def _readings(n: int, seed: int = 0) -> Readings:
    """Essays whose reasons are explained exactly when the model's surest 'explains' is
    high, while the rules say explained for a random half."""
    rng = np.random.default_rng(seed)
    width = 13 + len(STATUSES) + len(OTHERS)
    rows = rng.random((n, width))
    gold = rows[:, 4] > 0.5
    rules = rng.random(n) > 0.5
    return Readings(rows, gold, rules, [f"e{i // 2}" for i in range(n)])


def test_a_model_is_fitted_only_on_enough_explained_reasons():
    assert fit_status_model(_readings(20), OTHERS) is None
    model = fit_status_model(_readings(200), OTHERS)
    assert model is not None and 0.0 < model.threshold < 1.0


def test_cross_validated_figures_show_the_model_beating_rules_that_guess():
    figures = status_figures(_readings(300), OTHERS)
    assert figures["pairs"] == 300
    # The rules guess (about 0.5); the model, regularised for a few thousand real readings,
    # still finds most of a step it has 300 examples of.
    assert figures["f1_model"] > 0.75
    assert figures["f1_rules"] < 0.6
