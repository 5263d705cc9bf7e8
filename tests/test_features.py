"""analysis/features.py: essays to the model's feature table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essay_marker.analysis.features import (
    SIZE_COLUMNS,
    analyse_essay,
    analyse_essays,
    feature_table,
    model_text,
    numeric_columns,
    table_columns,
    word_pairs,
)
from essay_marker.model.persist import bundled_model
from essay_marker.records import Hint, Status
from essay_marker.rubric import STATUSES

from .conftest import EXAMPLES

EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
EXPLAINED = STATUSES.index(Status.EXPLAINED)
# Features that are shares of something: always within [0, 1].
SHARES = (
    "causal_share",
    "weighing_share",
    "factor_share",
    "spelling_accuracy",
    "sentence_control",
    "type_token_ratio",
)
# Features that count things: whole numbers, never negative.
COUNTS = (
    "mentioned",
    "explained",
    "weighed",
    "developed",
    "named_mentioned",
    "named_explained",
    "named_weighed",
    "judge_sentences",
    "evidence",
    "misconceptions",
    "sentences",
    "paragraphs",
    "specialist_terms",
    "topic_mentions",
)


@pytest.fixture(scope="module")
def model(rubric):
    return bundled_model(rubric)


@pytest.fixture(params=["rules", "model"])
def hook(request, model):
    """No extra factor detection (the rules), or the bundled sentence model's."""
    return None if request.param == "rules" else model.hook()


def _check_row(row, rubric):
    """What must hold of any essay's features, whatever the essay."""
    values = np.array([row[c] for c in numeric_columns(rubric)], dtype=float)
    assert np.isfinite(values).all()
    for c in SHARES:
        assert 0.0 <= row[c] <= 1.0, c
    for c in COUNTS:
        assert row[c] >= 0 and float(row[c]).is_integer(), c
    for f in rubric.factors:
        assert row[f"{f.id}__status"] in range(len(STATUSES))
    statuses = [row[f"{f.id}__status"] for f in rubric.factors]
    assert row["mentioned"] == sum(s > 0 for s in statuses)
    assert row["explained"] == sum(s >= EXPLAINED for s in statuses)
    assert row["weighed"] <= row["explained"] <= row["mentioned"] <= len(rubric.factors)
    assert row["developed"] <= row["explained"]
    for what in ("mentioned", "explained", "weighed"):
        assert row[f"named_{what}"] <= row[what]
    for flag in ("judgement", "judgement_supported", "judgement_inconsistent"):
        assert row[flag] in (0.0, 1.0)
    assert row["judgement_supported"] <= row["judgement"]
    assert row["log_words"] == pytest.approx(
        math.log1p(row["mean_sentence_words"] * max(1, row["sentences"]))
    )


# ------------------------------------------------------------------------------ the table


def test_feature_table_has_a_row_per_essay_and_the_rubrics_columns(rubric):
    table = feature_table(analyse_essays(EXAMPLE_TEXTS, rubric), rubric)
    columns = table_columns(rubric)
    assert list(table.columns) == [*columns, "text"]
    assert len(columns) == len(set(columns))
    # A length-neutral rubric's model learns from everything but how much was written.
    learned = numeric_columns(rubric)
    assert rubric.length_neutral and set(columns) - set(learned) == SIZE_COLUMNS
    assert learned == [c for c in columns if c in learned]
    for f in rubric.factors:
        for part in ("status", "describe", "explain", "weigh"):
            assert f"{f.id}__{part}" in columns
    assert len(table) == len(EXAMPLE_TEXTS)
    assert all(isinstance(t, str) and t for t in table["text"])
    assert all(np.issubdtype(table[c].dtype, np.number) for c in columns)


def test_feature_table_of_no_essays_has_the_columns_and_no_rows(rubric):
    table = feature_table([], rubric)
    assert list(table.columns) == [*table_columns(rubric), "text"] and table.empty


def test_numeric_columns_are_finite_and_consistent_on_the_examples(rubric, hook):
    table = feature_table(analyse_essays(EXAMPLE_TEXTS, rubric, hook), rubric)
    for _, row in table.iterrows():
        _check_row(row, rubric)


def test_the_full_answer_scores_higher_than_the_narrative(rubric):
    names = ("analytical-four-factors.txt", "trotsky-narrative.txt")
    texts = [(EXAMPLES / name).read_text(encoding="utf-8") for name in names]
    table = feature_table([analyse_essay(t, rubric) for t in texts], rubric)
    full, story = table.iloc[0], table.iloc[1]
    assert full["explained"] >= 3 and story["explained"] == 0
    assert full["weighed"] >= 1 and story["weighed"] == 0
    assert full["judgement"] == full["judgement_supported"] == 1.0 and story["judgement"] == 0.0
    assert full["general_secretary__status"] == STATUSES.index(Status.WEIGHED)
    assert full["causal_share"] > story["causal_share"]


def test_off_topic_essay_names_nothing_from_the_question(rubric):
    text = (EXAMPLES / "off-topic-hitler.txt").read_text(encoding="utf-8")
    row = feature_table([analyse_essay(text, rubric)], rubric).iloc[0]
    assert row["topic_mentions"] == 0 and row["named_mentioned"] == 0
    assert row["sentences"] > 5 and row["log_words"] > math.log(100)


# ------------------------------------------------------------------------ together vs alone


def test_analysing_essays_together_equals_analysing_them_one_by_one(rubric, hook):
    texts = [*EXAMPLE_TEXTS, "", "Stalin."]
    together = analyse_essays(texts, rubric, hook)
    alone = [analyse_essay(t, rubric, hook) for t in texts]
    assert [a.coverage for a in together] == [a.coverage for a in alone]
    assert [a.stems for a in together] == [a.stems for a in alone]
    assert feature_table(together, rubric).equals(feature_table(alone, rubric))


def test_the_hook_is_asked_once_and_its_hints_reach_the_right_essay(rubric):
    texts = [EXAMPLE_TEXTS[0], "", "Stalin.", EXAMPLE_TEXTS[2]]
    calls: list[list[tuple[str, ...]]] = []
    # A hint on the first sentence of the last essay only: a factor none of them uses.
    target: list[tuple[str, ...]] = []

    def hook(stems):
        calls.append(list(stems))
        return [
            Hint(factors=frozenset({"popular_image"})) if s == target[0] else Hint() for s in stems
        ]

    plain = analyse_essays(texts, rubric)
    target.append(plain[3].stems[0])
    assert all(s != target[0] for a in plain[:3] for s in a.stems)
    hinted = analyse_essays(texts, rubric, hook)
    assert len(calls) == 1
    assert calls[0] == [s for a in plain for s in a.stems]
    status = [next(f.status for f in a.coverage.factors if f.id == "popular_image") for a in hinted]
    assert status[:3] == [Status.ABSENT] * 3 and status[3] != Status.ABSENT
    support = next(f for f in hinted[3].coverage.factors if f.id == "popular_image").support
    assert support[0].start == 0
    assert [a.coverage for a in hinted[:3]] == [a.coverage for a in plain[:3]]


# ------------------------------------------------------------------------- short and empty


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", "...", "1929"], ids=repr)
def test_empty_or_wordless_text_gives_zero_features(text, rubric, hook):
    a = analyse_essay(text, rubric, hook)
    row = feature_table([a], rubric).iloc[0]
    _check_row(row, rubric)
    assert model_text(a) == row["text"]
    for c in ("mentioned", "explained", "judgement", "misconceptions", "topic_mentions"):
        assert row[c] == 0, c
    if not any(ch.isalnum() for ch in text):  # no words at all
        assert row["log_words"] == row["mean_sentence_words"] == row["evidence"] == 0
        assert row["text"] == "" and word_pairs(a) == []
    if not text.strip():
        assert row["sentences"] == row["paragraphs"] == 0


def test_a_one_word_essay(rubric, hook):
    a = analyse_essay("Stalin.", rubric, hook)
    row = feature_table([a], rubric).iloc[0]
    _check_row(row, rubric)
    assert row["sentences"] == row["paragraphs"] == 1
    assert row["log_words"] == pytest.approx(math.log(2))
    assert row["topic_mentions"] == 1 and row["mentioned"] == 0
    assert model_text(a) == "stalin" and word_pairs(a) == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            ["Stalin", "Trotsky", "General", "Secretary", "because", "however", "the", "was",
             "1924", "main", "reason", ".", ",", "!", "\n\n", "  ", "Lenin's", "naïve", "—",
             "zzzz", "<b>", "&"]
        ),
        max_size=60,
    ).map(" ".join)
)  # fmt: skip
def test_any_text_gives_finite_consistent_features(rubric, text):
    a = analyse_essay(text, rubric)
    _check_row(feature_table([a], rubric).iloc[0], rubric)


# ---------------------------------------------------------------- what the counts respond to

# Two-reasons-short explains the General Secretary post and faction play; these paragraphs
# explain one more factor, put in before its conclusion.
TROTSKY = (
    "Trotsky was also unpopular with many Bolsheviks. He was seen as arrogant and had been a "
    "Menshevik, so many feared he would become a military dictator. This meant the party did "
    "not trust him, so they backed Stalin instead."
)
SOCIALISM = (
    "Stalin also put forward Socialism in One Country in 1924. It appealed to ordinary party "
    "members because it promised they could build socialism in the USSR without waiting for "
    "a world revolution. This meant many of them voted for Stalin."
)


@pytest.mark.parametrize(
    ("factor", "paragraph", "scorer"),
    [
        ("trotsky_unpopularity", TROTSKY, "rules"),
        ("socialism_in_one_country", SOCIALISM, "rules"),
        ("socialism_in_one_country", SOCIALISM, "model"),
    ],
)
def test_explaining_another_factor_raises_its_counts(factor, paragraph, scorer, rubric, model):
    hook = model.hook() if scorer == "model" else None
    base = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    parts = base.split("\n\n")
    longer = "\n\n".join([*parts[:-1], paragraph, parts[-1]])
    table = feature_table(analyse_essays([base, longer], rubric, hook), rubric)
    before, after = table.iloc[0], table.iloc[1]
    assert before[f"{factor}__status"] < EXPLAINED <= after[f"{factor}__status"]
    assert after[f"{factor}__explain"] > before[f"{factor}__explain"]
    assert after["explained"] > before["explained"]
    assert after["mentioned"] > before["mentioned"]
    named = next(f.named for f in rubric.factors if f.id == factor)
    assert after["named_explained"] - before["named_explained"] == (1 if named else 0)
    for f in rubric.factors:  # adding a paragraph takes nothing away
        assert after[f"{f.id}__status"] >= before[f"{f.id}__status"], f.id
    assert after["sentences"] == before["sentences"] + 3
    assert after["paragraphs"] == before["paragraphs"] + 1


def test_a_wrong_fact_is_counted(rubric):
    right = "Trotsky led the Red Army in the Civil War, so many Bolsheviks feared him."
    wrong = "Trotsky led the Whites in the Civil War, so many Bolsheviks feared him."
    table = feature_table([analyse_essay(t, rubric) for t in (right, wrong)], rubric)
    assert table["misconceptions"].tolist() == [0, 1]


def test_a_judgement_is_counted_and_a_changed_mind_is_inconsistent(rubric):
    para = (
        "Stalin was General Secretary, so he could appoint his supporters, who then voted for him."
    )
    other = "Trotsky was arrogant, so many Bolsheviks did not trust him and would not back him."
    consistent = (
        f"The main reason Stalin won was that he was General Secretary.\n\n{para}\n\n{other}\n\n"
        "Overall the most important reason was the General Secretary post, because it gave "
        "him the votes."
    )
    changed = (
        f"The main reason Stalin won was that he was General Secretary.\n\n{para}\n\n{other}\n\n"
        "Overall the most important reason was Trotsky's unpopularity, because nobody trusted "
        "him."
    )
    table = feature_table([analyse_essay(t, rubric) for t in (consistent, changed)], rubric)
    assert table["judgement"].tolist() == [1.0, 1.0]
    assert table["judgement_inconsistent"].tolist() == [0.0, 1.0]


# ------------------------------------------------------------------------- the text column


def test_misspelt_names_give_the_same_model_text(rubric):
    right = analyse_essay("Trotsky was arrogant and Bukharin sided with Zinoviev.", rubric)
    wrong = analyse_essay("Trotski was arrogant and Bukarin sided with Zinovev.", rubric)
    assert model_text(wrong) == model_text(right)
    table = feature_table([right, wrong], rubric)
    assert table["topic_mentions"].tolist() == [3, 3]


def test_word_pairs_stay_within_a_sentence(rubric):
    a = analyse_essay("Stalin was General Secretary. Trotsky was arrogant.", rubric)
    pairs = word_pairs(a)
    assert len(pairs) == 5  # three pairs in the first sentence, two in the second
    assert pairs[3].startswith("trotski ") and not any(p.startswith("secretari ") for p in pairs)
    assert model_text(a).split() == [w for s in a.stems for w in s]
