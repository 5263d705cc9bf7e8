"""The levels of response as data: criteria, placement in a band, other numbers of levels."""

from __future__ import annotations

import pytest

from essay_marker.analysis.coverage import analyse_coverage
from essay_marker.errors import RubricError
from essay_marker.levels import RulesScorer, default_scheme, scheme_for, summarise, unmet_for_level
from essay_marker.records import Summary
from essay_marker.rubric import find_rubric, list_rubrics, parse_rubric
from essay_marker.scoring import score_essay
from essay_marker.text import analyse

from .conftest import EXAMPLES

BUNDLED = list_rubrics()["stalin-main-reason"].read_text(encoding="utf-8")


def _summary(**counts) -> Summary:
    base = dict(
        mentioned=4, explained=4, developed=4, weighed=2, named_explained=4, evidence=10,
        judgement=True, supported=True, consistent=True, misconceptions=0, words=600,
    )  # fmt: skip
    return Summary(**(base | counts))


def test_a_strong_summary_meets_every_level_and_each_gap_is_named(rubric):
    assert unmet_for_level(_summary(), 4, rubric) == ()
    gaps = unmet_for_level(_summary(weighed=0, supported=False, misconceptions=3), 4, rubric)
    assert gaps == (
        "the reasons are not linked or compared with each other",
        "the judgement on the main reason is asserted, not backed by explanation",
        "the knowledge must be accurate: 3 facts are wrong",
    )
    # Asserted judgement is only asked about where there is a judgement.
    none = unmet_for_level(_summary(judgement=False, supported=False), 4, rubric)
    assert "there is no judgement on the MAIN reason" in none
    assert not any("asserted" in g for g in none)
    assert unmet_for_level(_summary(), 2, rubric) == ()
    assert unmet_for_level(_summary(mentioned=0, explained=0), 1, rubric) == (
        "it does not yet give any reason that answers the question",
    )


def test_a_rubric_of_five_levels_has_criteria_up_to_its_top():
    text = BUNDLED.replace("max_mark = 16", "max_mark = 20")
    start = text.index("[[levels]]")
    end = text.index("# Outcome phrases")
    bands = [(0, 0), (1, 4), (5, 8), (9, 12), (13, 16), (17, 20)]
    levels = "".join(
        f'[[levels]]\nlevel = {i}\nmarks = [{a}, {b}]\ndescriptor = "Level {i}."\n\n'
        for i, (a, b) in enumerate(bands)
    )
    five = parse_rubric(text[:start] + levels + text[end:], "five.toml")
    # The top of four (linked, judged...) is asked at Level 5; Level 4 asks Level 3's.
    top = unmet_for_level(_summary(weighed=0), 5, five)
    assert "the reasons are not linked or compared with each other" in top
    assert unmet_for_level(_summary(weighed=0), 4, five) == ()
    r = score_essay((EXAMPLES / "analytical-four-factors.txt").read_text(encoding="utf-8"), five)
    assert 0 <= r.level <= 5 and r.max_mark == 20


def test_a_rubric_can_set_its_own_mark_scheme():
    own = BUNDLED + (
        '\n[mark_scheme]\nwrong_fact_penalty = 3\n'
        '[[mark_scheme.criteria]]\nlevel = 1\ntests = [{ count = "words", at_least = 50 }]\n'
        'unmet = "write at least 50 words"\n'
    )  # fmt: skip
    rubric = parse_rubric(own, "own.toml")
    scheme = scheme_for(rubric)
    assert scheme.wrong_fact_penalty == 3 and len(scheme.criteria) == 1
    assert scheme.placement == default_scheme().placement  # what it leaves out is the default
    assert unmet_for_level(_summary(words=20), 1, rubric) == ("write at least 50 words",)


def test_a_bad_mark_scheme_names_what_is_wrong():
    bad = BUNDLED + (
        '\n[mark_scheme]\n[[mark_scheme.criteria]]\nlevel = 1\n'
        'tests = [{ count = "length", at_least = 50 }]\nunmet = "x"\n'
    )  # fmt: skip
    with pytest.raises(RubricError, match="'length' is not one of"):
        scheme_for(parse_rubric(bad, "bad.toml"))


def test_the_rules_place_an_essay_in_its_band(rubric):
    from essay_marker.analysis.features import analyse_essay

    a = analyse_essay(
        (EXAMPLES / "analytical-four-factors.txt").read_text(encoding="utf-8"), rubric
    )
    mark, _, confidence = RulesScorer().score(a, rubric)
    level = rubric.level_for(mark)
    assert not unmet_for_level(summarise(a.coverage, a.doc), level.level, rubric)
    assert 0.5 <= confidence <= 0.8


def test_feedback_counts_what_might_be_done_before_saying_it_is_not():
    """Rules read "Trotsky was arrogant, so Zinoviev and Kamenev sided with Stalin" as
    description only; a teacher might read it as linking two reasons. The level gap is
    written from the generous summary, so it never says "not linked" or "no reason is
    explained" to this student, while the mark still uses the strict one."""
    rubric = find_rubric("stalin-main-reason")
    text = (
        "Stalin was General Secretary from 1922. Trotsky was arrogant, so Zinoviev and "
        "Kamenev sided with Stalin against him."
    )
    doc = analyse(text)
    coverage = analyse_coverage(doc, rubric)
    strict, generous = summarise(coverage, doc), summarise(coverage, doc, generous=True)
    assert (strict.explained, strict.weighed) == (0, 0)
    assert generous.explained == 2 and generous.weighed == 1
    said = " ".join(unmet_for_level(generous, 4, rubric))
    assert "not linked" not in said and "no reason is explained" not in said


def test_depth_is_asked_only_of_an_essay_that_explains_enough_reasons(rubric):
    """ "Not 2" when two reasons are explained; when four are but only one is developed,
    depth is what is missing, and the count is not misstated."""
    few = unmet_for_level(_summary(explained=2, developed=2), 4, rubric)
    assert "several reasons need explaining, not 2" in few
    assert not any(g.startswith("each reason needs developing") for g in few)
    shallow = unmet_for_level(_summary(explained=4, developed=1), 4, rubric)
    assert any(g.startswith("each reason needs developing") for g in shallow)
    assert not any(g.startswith("several reasons") for g in shallow)


@pytest.mark.parametrize(
    "text",
    [
        # A main reason the rubric does not list, argued in a verdict.
        "Stalin was a hard man. I think the main reason he got total power was the Second "
        "World War, because he became a hero after beating Hitler.",
        # No verdict and no factor found, but a sentence that says why.
        "Stalin was in the revolution with Lenin. He got power because the Bolsheviks won "
        "and so he was one of the leaders.",
    ],
)
def test_a_reason_no_factor_covers_is_never_called_no_reason(text):
    """The cues may not cover the reason a weak answer gives; the feedback then never
    says it gives none or explains none, while the strict summary (the mark) is unchanged."""
    rubric = find_rubric("stalin-main-reason")
    doc = analyse(text)
    coverage = analyse_coverage(doc, rubric)
    strict, generous = summarise(coverage, doc), summarise(coverage, doc, generous=True)
    assert strict.mentioned == 0
    said = " ".join(unmet_for_level(generous, 2, rubric))
    assert "does not yet give any reason" not in said and "no reason is explained" not in said


def test_a_verdict_on_an_unlisted_reason_is_never_called_asserted():
    """essaymark cannot read how far a reason it does not list ("luck") is backed up."""
    rubric = find_rubric("stalin-main-reason")
    text = (
        "Stalin was General Secretary, so he appointed his supporters. Trotsky was arrogant, "
        "so the party did not trust him. But the main reason was luck, because Lenin died "
        "before he could remove Stalin."
    )
    doc = analyse(text)
    coverage = analyse_coverage(doc, rubric)
    assert coverage.judgement.present and coverage.judgement.main_factor is None
    assert summarise(coverage, doc, generous=True).supported
    assert not any(
        "asserted" in g for g in unmet_for_level(summarise(coverage, doc, generous=True), 4, rubric)
    )
