"""Factor coverage and misconceptions, driven by the example sentences in fixtures/."""

from __future__ import annotations

import pytest

from essay_marker.analysis.coverage import analyse_coverage
from essay_marker.rubric import find_rubric
from essay_marker.text import analyse

from .conftest import load_cases

FACTOR_CASES = load_cases("factor_cases.toml")
MISCONCEPTION_CASES = load_cases("misconception_cases.toml")


def _coverage(text: str, rubric):
    doc = analyse(text)
    return doc, analyse_coverage(doc, rubric)


@pytest.mark.parametrize(
    "case",
    FACTOR_CASES,
    ids=[f"{c['factor']}-{c['status']}-{i}" for i, c in enumerate(FACTOR_CASES)],
)
def test_factor_case(case, rubric):
    _, cov = _coverage(case["text"], rubric)
    assert cov.factor(case["factor"]).status == case["status"], case["text"]


def test_every_factor_has_examples_of_each_basic_state():
    rubric = find_rubric("stalin-main-reason")
    have = {(c["factor"], c["status"]) for c in FACTOR_CASES}
    missing = [
        (f.id, s)
        for f in rubric.factors
        for s in ("absent", "mentioned", "explained")
        if (f.id, s) not in have
    ]
    assert not missing, f"factors without example sentences: {missing}"


@pytest.mark.parametrize(
    "case", MISCONCEPTION_CASES, ids=[f"{c['id']}-{c['hit']}" for c in MISCONCEPTION_CASES]
)
def test_misconception_case(case, rubric):
    _, cov = _coverage(case["text"], rubric)
    found = {m.id for m in cov.misconceptions}
    assert (case["id"] in found) == case["hit"], case["text"]


def test_every_misconception_has_a_hit_and_a_miss(rubric):
    have = {(c["id"], c["hit"]) for c in MISCONCEPTION_CASES}
    missing = [
        (i, h)
        for i in [m.id for m in rubric.misconceptions] + [d.id for d in rubric.dates]
        for h in (True, False)
        if (i, h) not in have
    ]
    assert not missing, f"misconceptions without examples: {missing}"


def test_evidence_spans_point_at_the_students_words(rubric):
    text = "Intro line here.\n\nStalin was General Secretary from 1922. This meant he could appoint friends."
    _doc, cov = _coverage(text, rubric)
    for f in cov.factors:
        for e in f.evidence:
            assert text[e.start : e.end] == e.text


def test_anaphoric_sentence_explains_the_previous_factor(rubric):
    _, cov = _coverage(
        "Stalin became General Secretary in 1922. This meant he could promote allies.", rubric
    )
    roles = [e.role for e in cov.factor("general_secretary").evidence]
    assert roles == ["describe", "explain"]


def test_a_list_of_reasons_is_evidence_for_none_of_them(rubric):
    """An introduction that lists the reasons names them (each is mentioned) but is quoted
    as evidence for none; the same reasons set against each other are evidence."""
    reasons = (
        "The reasons to look at are his post as General Secretary, Trotsky's arrogance and "
        "the way he played the Left and the Right against each other"
    )
    _, listed = _coverage(reasons + ".", rubric)
    _, weighed = _coverage(reasons + ", but the post mattered most.", rubric)
    for fid in ("general_secretary", "trotsky_unpopularity", "faction_play"):
        assert listed.factor(fid).status != "absent"
        assert listed.factor(fid).evidence == ()
    assert weighed.factor("general_secretary").evidence


def test_judgement_main_factor_and_consistency(rubric):
    text = (
        "The main reason was Trotsky's unpopularity.\n\nTrotsky was arrogant, so the party turned to Stalin."
        "\n\nStalin was General Secretary, which let him appoint supporters.\n\n"
        "In conclusion, the most important reason was the General Secretary post."
    )
    _, cov = _coverage(text, rubric)
    assert cov.judgement.present
    assert cov.judgement.main_factor == "general_secretary"
    assert cov.judgement.consistent is False


def test_a_listed_reason_and_the_writers_own_are_not_called_a_contradiction(rubric):
    # "Ruthless" and "fear" may be one reason in two words: nothing tells the student their
    # introduction and conclusion disagree.
    text = (
        "I think the main reason was that he was ruthless.\n\nHe removed his rivals one by one."
        "\n\nIn conclusion, the main reason was fear, because nobody dared to stand up to him."
    )
    _, cov = _coverage(text, rubric)
    assert cov.judgement.present
    assert cov.judgement.main_factor is None
    assert cov.judgement.consistent is not False


def test_specific_evidence_counts_dates_names_and_events(rubric):
    _, cov = _coverage(
        "In 1922 Stalin was General Secretary and in 1924 came the Lenin Enrolment.", rubric
    )
    found = {s.text for s in cov.specific_evidence}
    assert {"1922", "1924", "Lenin Enrolment"} <= found


def test_specific_evidence_names_the_thing_not_its_possessive(rubric):
    """Praise lists "the Politburo", never "Politburo's"."""
    _, cov = _coverage("Stalin played the Politburo's two factions off against each other.", rubric)
    found = {s.text for s in cov.specific_evidence}
    assert "Politburo" in found and not any(t.endswith("'s") for t in found)


@pytest.mark.parametrize(
    "doubted",
    [
        "Stalin took over the Party's records office in 1923 (I think), so he knew every member.",
        "Trotsky was ill in 1924 I think, and so he missed Lenin's funeral.",
        "Kamenev lost his post in 1926, but I can't remember the month.",
    ],
)
def test_a_fact_the_writer_doubts_is_no_specific_knowledge(doubted, rubric):
    """Praise for "specific knowledge" lists facts the student stands behind, not a guess
    they flag themselves; an "I think" that opens a judgement doubts nothing."""
    _, cov = _coverage(doubted, rubric)
    assert cov.specific_evidence == ()
    _, sure = _coverage("I think that in 1926 Kamenev lost his post, so Stalin was safe.", rubric)
    assert {"1926", "Kamenev"} <= {s.text for s in sure.specific_evidence}


def test_years_outside_the_question_are_no_knowledge_of_it(rubric):
    _, cov = _coverage(
        "In 1922 Stalin was General Secretary. The unpopular Trotsky was expelled in 1927 "
        "and killed in 1940. In the 1930s came the purges of Zinoviev and Kamenev.",
        rubric,
    )
    found = {s.text for s in cov.specific_evidence}
    assert {"1922", "1927"} <= found
    assert not found & {"1940", "1930s"}
    # A decade stands for its middle: "the 1930s" is outside 1917-1929, not its first year.
    assert [s.text for s in cov.out_of_period] == [
        "In the 1930s came the purges of Zinoviev and Kamenev."
    ]


def test_a_range_reaching_into_the_question_is_not_outside_it(rubric):
    """ "1918-21" names 1921 as well: the years the Civil War ran on into are the question's."""
    _, cov = _coverage(
        "The party was worn out by the Civil War of 1918-21. Stalin was born in 1878-79.",
        rubric,
    )
    assert [s.text for s in cov.out_of_period] == ["Stalin was born in 1878-79."]


def test_a_decade_given_as_a_limit_is_where_the_question_ends_not_outside_it(rubric):
    """ "…before the 1930s begin" says when the question's years end; "in the 1930s" says
    when something happened."""
    _, cov = _coverage(
        "Stalin was able to take total power before the 1930s began. "
        "In the 1930s he had his old rivals shot.",
        rubric,
    )
    assert [s.text for s in cov.out_of_period] == ["In the 1930s he had his old rivals shot."]


def test_what_came_after_the_question_is_neither_quoted_nor_credited(rubric):
    text = (
        "Stalin was ruthless and had Zinoviev and Kamenev killed, so nobody dared oppose him. "
        "Stalin was ruthless: he expelled the United Opposition in 1927, so nobody could "
        "oppose him, and later he had them killed."
    )
    _, cov = _coverage(text, rubric)
    ruthless = next(f for f in cov.factors if f.id == "ruthlessness")
    # The first names a later event and no year of the question: no evidence, no knowledge.
    # The second is dated inside it, so it stands.
    assert [e.text[:26] for e in ruthless.evidence] == ["Stalin was ruthless: he ex"]
    found = {s.text for s in cov.specific_evidence}
    assert "1927" in found and not found & {"Zinoviev", "Kamenev"}
    assert not cov.out_of_period  # nothing is called outside the question without a year


def test_combined_cue_index_finds_what_each_cue_set_finds():
    """The one-pass index must give every set's matches, in order, as CueSet.find does."""
    import random

    from essay_marker.analysis.coverage import CueIndex, cue_set, sentence_stems

    from .conftest import EXAMPLES

    rubric = find_rubric()
    lang = rubric.language
    phrase_sets = [f.cues for f in rubric.factors] + [f.evidence for f in rubric.factors]
    phrase_sets += [lang.causal, lang.weighing, lang.judgement, lang.connectives]
    sets = [cue_set(tuple(p)) for p in phrase_sets if p]
    index = CueIndex(sets)
    sentences = [
        st
        for path in sorted(EXAMPLES.glob("*.txt"))
        for st in sentence_stems(analyse(path.read_text(encoding="utf-8")), rubric)
    ]
    # Random sentences built from the cues' own words hit overlapping and gapped patterns.
    words = sorted({w for st in sentences for w in st})
    rng = random.Random(0)
    sentences += [tuple(rng.choices(words, k=rng.randint(3, 25))) for _ in range(2000)]
    for st in sentences:
        expected = {n: m for n, s in enumerate(sets) if (m := s.find(st))}
        assert index.find(st) == expected, st


def test_evidence_shown_is_the_part_surely_about_the_factor(rubric):
    """A corrected fact is never quoted as evidence, though it still counts as a mention;
    with a sentence model, a cue alone is not enough to quote a sentence."""
    from essay_marker.analysis.coverage import analyse_coverage
    from essay_marker.records import Hint
    from essay_marker.text import analyse

    doc = analyse(
        "Stalin became General Secretary in 1924. As General Secretary he appointed his "
        "supporters, so they voted for him at the Party Congress."
    )
    gs = analyse_coverage(doc, rubric).factor("general_secretary")
    assert [e.start for e in gs.support] == [0, doc.sentences[1].start]
    assert [e.start for e in gs.evidence] == [doc.sentences[1].start]
    # The model does not agree that the second sentence is about the post: nothing quoted.
    doubtful = [Hint(agrees=frozenset()), Hint(agrees=frozenset())]
    gs = analyse_coverage(doc, rubric, hints=doubtful).factor("general_secretary")
    assert gs.status != "absent" and gs.evidence == ()


JUDGEMENT_CASES = load_cases("judgement_cases.toml")


@pytest.mark.parametrize("case", JUDGEMENT_CASES, ids=[c["why"] for c in JUDGEMENT_CASES])
def test_judgement_case(case, rubric):
    _, cov = _coverage(case["text"], rubric)
    j = cov.judgement
    read = (j.main_factor or "unnamed") if j.present else "none"
    assert read == case["main"], case["text"]


def test_a_sentence_with_no_word_that_says_how_does_not_explain(rubric):
    """However sure the sentence model is, "They were outvoted in 1925" tells what happened;
    a sentence needs some word of cause, consequence or condition before it explains."""
    from essay_marker.records import Hint

    doc = analyse(
        "Zinoviev and Kamenev were outvoted at the Party Congress in 1925. "
        "Zinoviev and Kamenev were outvoted, so Stalin could rule without them."
    )
    sure = [Hint(explains=0.9), Hint(explains=0.9)]
    roles = [r.causal for r in analyse_coverage(doc, rubric, hints=sure).sentences]
    assert roles == [False, True]


def test_a_verdict_the_student_names_outweighs_one_the_sentence_model_guesses(rubric):
    """ "…and that is the main reason" after a clause naming no reason: the sentence model's
    guess at the reason gives way to the verdict where the student names it, and the two are
    not read as an introduction and a conclusion that disagree."""
    from essay_marker.records import Hint

    doc = analyse(
        "I think the main reason was that Stalin was General Secretary of the party.\n\n"
        "There were many twists along the way.\n\n"
        "By 1929 he was in charge of everything and that is the main reason."
    )
    guess = [Hint(), Hint(), Hint(factors=frozenset({"ruthlessness"}))]
    j = analyse_coverage(doc, rubric, hints=guess).judgement
    assert j.main_factor == "general_secretary"
    assert j.consistent is not False


def test_a_verdict_that_ends_on_a_word_no_cue_knows_is_not_the_sentence_models_guess(rubric):
    """ "…the main reason … is the fear": the reason is named, in the writer's own word; the
    sentence model's guess at one of the named four does not stand in for it."""
    from essay_marker.records import Hint

    doc = analyse(
        "In conclusion, the main reason Stalin is able to keep the total power in the party "
        "is the fear."
    )
    sure = frozenset({"trotsky_unpopularity"})
    guess = [Hint(factors=sure, agrees=sure, sure=sure)]
    j = analyse_coverage(doc, rubric, hints=guess).judgement
    assert j.present and j.main_factor is None
    doc = analyse("In conclusion, the main reason Stalin is able to keep the total power is this.")
    assert (
        analyse_coverage(doc, rubric, hints=guess).judgement.main_factor == "trotsky_unpopularity"
    )


def test_a_pointer_at_two_reasons_means_the_one_the_sentence_model_reads_before_the_rubrics_order(
    rubric,
):
    """ "Therefore the main reason was…" after a sentence naming two reasons: where no cue in
    it says which, the sentence model's reading (even below its surer bars) decides, not
    the order the rubric lists the reasons in."""
    from essay_marker.records import Hint

    doc = analyse(
        "As General Secretary he ran the party machine, and he played the Left against the "
        "Right. Therefore the main reason was his exploitation of the quarrels."
    )
    guess = [Hint(), Hint(factors=frozenset({"faction_play"}))]
    assert analyse_coverage(doc, rubric, hints=guess).judgement.main_factor == "faction_play"


def test_the_sentence_model_alone_names_one_of_the_six_other_reasons_only_when_fairly_sure(
    rubric,
):
    """With no cue in the sentence, a guess at 0.5 may name one of the four reasons the
    question's teaching names; one of the other six it must be fairly sure of (AGREES)."""
    from essay_marker.records import Hint

    doc = analyse("People were frightened of what he might do to anyone who stood up to him.")
    assert analyse_coverage(doc, rubric).factor("ruthlessness").status == "absent"  # no cue

    def status(fid: str, agrees: frozenset[str]) -> str:
        hint = [Hint(factors=frozenset({fid}), agrees=agrees)]
        return analyse_coverage(doc, rubric, hints=hint).factor(fid).status

    assert status("ruthlessness", frozenset()) == "absent"
    assert status("ruthlessness", frozenset({"ruthlessness"})) != "absent"
    assert status("general_secretary", frozenset()) != "absent"  # one of the named four


@pytest.mark.parametrize(
    ("text", "factor"),
    [
        ("Trotsky also made a lot of mistakes.", "trotsky_unpopularity"),
        ("- T made mistakes", "trotsky_unpopularity"),
        (
            "Zinoviev and Kamenev made a big mistake when they kept the Testament quiet.",
            "rivals_mistakes",
        ),
        ("Z+K and T made mistakes.", "rivals_mistakes"),
        # His own, whoever else the sentence names.
        ("Trotsky's own mistakes lost him the support of his rivals.", "trotsky_unpopularity"),
        (
            "Trotsky's mistakes mattered most, because they cost him the party.",
            "trotsky_unpopularity",
        ),
        (
            "Zinoviev made mistakes and so did Trotsky; their mistakes helped Stalin.",
            "rivals_mistakes",
        ),
        ("Zinoviev and Kamenev joined Stalin to stop Trotsky, a huge mistake.", "rivals_mistakes"),
    ],
)
def test_trotskys_own_mistakes_are_his_weaknesses_not_his_rivals_mistakes(text, factor, rubric):
    """The rubric's `instead`: "mistakes" in a sentence naming Trotsky and no other rival,
    or that are "Trotsky's (own)", name the reason his weaknesses are, as the domain guide
    files his missed funeral."""
    cov = analyse_coverage(analyse(text), rubric)
    other = {"trotsky_unpopularity": "rivals_mistakes", "rivals_mistakes": None}[factor]
    assert cov.factor(factor).status != "absent"
    if other:
        assert cov.factor(other).status == "absent"


def test_a_link_to_the_question_weighs_no_reason_against_another(rubric):
    _, cov = _coverage(
        "Stalin's job and Trotsky's arrogance both mattered. This links to the question "
        "because the job and Trotsky's arrogance gave him the leadership.",
        rubric,
    )
    assert not cov.sentences[1].weighing
    _, cov = _coverage(
        "Trotsky's arrogance was linked to the General Secretary post: without the post his "
        "enemies had no one to turn to.",
        rubric,
    )
    assert cov.sentences[0].weighing


def test_the_sentence_models_guess_names_no_verdict_it_cannot_place(rubric):
    """Where no cue names the reason a verdict judges, the sentence model may stand in, but
    not for a reason beyond the named four it is unsure of ("he was a man of iron" is the
    writer's own reason), not for what the writer turned away from, and not over a reason
    off the list that the sentence before judged."""
    from essay_marker.records import Hint

    def main(text: str, *hints: Hint) -> str:
        j = analyse_coverage(analyse(text), rubric, hints=list(hints)).judgement
        return (j.main_factor or "unnamed") if j.present else "none"

    unsure = Hint(factors=frozenset({"ruthlessness"}), agrees=frozenset(), sure=frozenset())
    surer = Hint(factors=frozenset({"ruthlessness"}), agrees=frozenset({"ruthlessness"}))
    named = Hint(factors=frozenset({"general_secretary"}), agrees=frozenset())
    iron = "The main reason was that he was a man of iron."
    assert main(iron, unsure) == "unnamed"
    assert main(iron, surer) == "ruthlessness"
    # A named reason in words no cue knows: the model's guess stands in.
    assert (
        main("The main reason was that he chose who got every job.", named) == "general_secretary"
    )
    turned = "His office and his plotting were all helping him, but the mood of the country was the main reason."
    assert main(turned, Hint(factors=frozenset({"general_secretary"}))) == "unnamed"
    carried = "I reckon the main reason is he was a hard man. This is the main reason."
    assert main(carried, unsure, unsure) == "unnamed"
