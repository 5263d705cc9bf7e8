"""Feedback a teacher would sign: quotes the student, names what is missing, one next step."""

from __future__ import annotations

import pytest

from essay_marker.scoring import score_essay

from .conftest import EXAMPLES


def _result(name, rubric, **kw):
    return score_essay((EXAMPLES / name).read_text(encoding="utf-8"), rubric, input_name=name, **kw)


def test_strong_essay_covers_all_four_and_www_quotes_it(rubric):
    r = _result("analytical-four-factors.txt", rubric)
    text = (EXAMPLES / "analytical-four-factors.txt").read_text(encoding="utf-8")
    named = {f.id: f.status for f in r.factors if f.named}
    assert all(s in ("explained", "weighed") for s in named.values()), named
    assert r.judgement.present and r.judgement.main_factor == "general_secretary"
    quoted = [w for w in r.feedback.www if "“" in w]
    assert quoted, r.feedback.www
    for w in quoted:
        inside = w.split("“", 1)[1].split("”", 1)[0].rstrip(" …")
        assert inside in " ".join(text.split())
    assert r.level == 4


def test_one_factor_narrative_gets_concrete_targets(rubric):
    r = _result("trotsky-narrative.txt", rubric)
    assert r.level <= 2
    described = [f for f in r.factors if f.status == "mentioned"]
    assert any(f.id == "trotsky_unpopularity" for f in described)
    ebi = " ".join(r.feedback.ebi)
    # Its 1940 ice pick is named as outside the question, not credited as knowledge.
    assert "“In 1940 he was killed with an ice pick" in ebi and "outside the years" in ebi
    assert "1940" not in {s.text for s in r.specific_evidence}
    # Its Trotsky sentences give reasons ("because he was really famous"), so essaymark is
    # not sure nothing is explained: the next step adds a reason it surely does not explain.
    assert r.feedback.next_step.startswith(
        "Write one more paragraph that explains the General Secretary post"
    )
    assert r.feedback.level_gap.startswith(f"What kept this out of Level {r.level + 1}")


def test_misconception_is_corrected_in_ebi(rubric):
    r = _result("two-reasons-short.txt", rubric)
    assert [m.id for m in r.misconceptions] == ["gen_sec_year"]
    assert any("1922" in e for e in r.feedback.ebi)


def test_off_topic_essay_is_flagged_referred_and_marked_low(rubric):
    r = _result("off-topic-hitler.txt", rubric)
    assert r.level <= 1 and r.refer_to_teacher
    assert [f.id for f in r.flags] == ["off_topic", "other_question"]
    # The student is told what the essay seems to answer instead, in their own terms.
    assert "such as Hitler" in r.flags[1].student


def test_the_explanation_praised_is_a_sentence_that_names_the_reason(rubric):
    """ "This helped Stalin because…" carries on from the sentence before; quoted alone, it
    may be about something else (here Trotsky), so it is not praised as explaining the
    reason of the sentence before."""
    text = (
        "As General Secretary, Stalin ran the Lenin Enrolment of 1924, which brought "
        "thousands of new members into the party. This helped Stalin because it made Trotsky "
        "look like a dreamer who would risk Russia's safety for world revolution, so members "
        "turned against him."
    )
    r = score_essay(text, rubric)
    praise = rubric.factor("general_secretary").feedback.explained
    for bullet in r.feedback.www:
        assert not (bullet.startswith(praise) and "“This helped Stalin" in bullet), bullet


def test_too_short_is_flagged_and_referred(rubric):
    r = score_essay("Stalin was General Secretary. This meant he appointed his friends.", rubric)
    assert "too_short" in [f.id for f in r.flags] and r.refer_to_teacher


def test_no_mark_feedback_does_not_name_the_level(rubric):
    r = _result("trotsky-narrative.txt", rubric, hide_mark=True)
    assert "Level" not in r.feedback.level_gap and r.feedback.level_gap.startswith("To reach")


def test_the_next_step_never_asks_to_keep_a_fact_it_corrects(rubric):
    text = (
        "Stalin became General Secretary in 1924 after Lenin died. Trotsky was the leader of "
        "the Red Army and a famous speaker. Stalin went to the funeral and gave a speech about "
        "Lenin. Later Trotsky was sent away and Stalin was in charge of the whole country."
    )
    r = score_essay(text, rubric)
    assert [m.id for m in r.misconceptions] == ["gen_sec_year"]
    assert "Keep the fact" not in r.feedback.next_step or "1924" not in r.feedback.next_step


UNLISTED_MAIN_REASON = """\
Stalin became General Secretary in 1922. This meant that he could appoint his own \
supporters to key posts, so they voted for him at Party Congresses.

Trotsky was arrogant and many Bolsheviks feared he would use the Red Army to seize power. \
This meant that Zinoviev and Kamenev sided with Stalin to stop him.

Both of these helped, but I think the main reason was luck, because Trotsky was ill at \
the moments that mattered most and Lenin's Testament was never published.
"""


def test_a_verdict_on_an_unlisted_reason_is_a_judgement_and_never_asked_for(rubric):
    r = score_essay(UNLISTED_MAIN_REASON, rubric, input_name="luck.txt")
    assert r.judgement.present and r.judgement.main_factor is None
    said = " ".join([*r.feedback.www, *r.feedback.ebi, r.feedback.next_step])
    for asks in (
        "Make your judgement clear",
        "Make your answer to the question clear",
        "name the ONE reason",
    ):
        assert asks not in said, said
    assert "You make a clear judgement that" not in said


def test_no_fact_is_to_be_corrected_where_none_was_found(rubric):
    """A reason only described, in sentences not sure enough to quote (support, no
    evidence), with no fact corrected: the next step asks for an explanation, never to
    "correct the facts"; with a fact corrected, it does."""
    from dataclasses import replace

    from essay_marker.feedback import build_feedback
    from essay_marker.records import Evidence, FactorCoverage, Role, Status

    r = _result("two-reasons-short.txt", rubric)
    said = "Stalin had people shot and sent to the camps."
    only = FactorCoverage(
        "ruthlessness",
        "Stalin's ruthlessness",
        False,
        Status.MENTIONED,
        evidence=(),
        support=(Evidence(said, 0, len(said), Role.DESCRIBE),),
    )
    factors = tuple(
        only
        if f.id == "ruthlessness"
        else replace(f, status=Status.ABSENT, evidence=(), support=())
        for f in r.factors
    )
    nothing_wrong = replace(r, factors=factors, misconceptions=())
    step = build_feedback(nothing_wrong, rubric).next_step
    assert not step.startswith("Correct the facts"), step
    assert build_feedback(
        replace(nothing_wrong, misconceptions=r.misconceptions), rubric
    ).next_step.startswith("Correct the facts")


def test_the_link_asked_for_names_only_reasons_surely_explained(rubric):
    """ "Add sentences linking X and Y" says X and Y are explained: it names them only when
    each is explained in a sentence sure enough to quote, and otherwise asks for a link
    between two of the student's reasons without naming any."""
    from dataclasses import replace

    from essay_marker.feedback import build_feedback
    from essay_marker.records import Evidence, Judgement, Role, Status

    r = _result("two-reasons-short.txt", rubric)
    says_how = {
        "general_secretary": "As General Secretary he could appoint his supporters, "
        "which meant that they voted for him at the Party Congress.",
        "trotsky_unpopularity": "Trotsky was seen as arrogant, so the other leaders "
        "sided with Stalin against him.",
    }

    def explained(shown: bool):
        out = []
        for f in r.factors:
            if f.id not in says_how:
                out.append(replace(f, status=Status.ABSENT, evidence=(), support=()))
                continue
            text = says_how[f.id]
            e = Evidence(text, 0, len(text), Role.EXPLAIN)
            out.append(
                replace(f, status=Status.EXPLAINED, evidence=(e,) if shown else (), support=(e,))
            )
        judged = Judgement(True, "general_secretary", True, None, ())
        return replace(r, factors=tuple(out), judgement=judged, misconceptions=())

    unsure = build_feedback(explained(shown=False), rubric).next_step
    assert unsure.startswith("Add two or three sentences linking two of your reasons"), unsure
    sure = build_feedback(explained(shown=True), rubric).next_step
    assert sure.startswith(
        "Add two or three sentences linking the General Secretary post and Trotsky's unpopularity"
    ), sure


def test_knowledge_is_praised_where_it_supports_a_point(rubric):
    """ "You support your points with specific knowledge" lists what the essay uses where it
    explains, weighs or judges; a timeline that argues nothing has points to support none."""
    told = (
        "In 1922 Stalin became General Secretary. In 1924 Lenin died and Stalin spoke at the "
        "funeral. In 1925 Trotsky lost his post as War Commissar. In 1926 Zinoviev and Kamenev "
        "joined the United Opposition. In 1927 Trotsky was expelled and in 1929 Bukharin was "
        "removed from the Politburo."
    )
    argued = (
        "Stalin became General Secretary in 1922, which meant he could appoint loyal "
        "secretaries who picked the delegates to Party Congresses, so by 1925 the votes were "
        "his. Because Trotsky had been a Menshevik until 1917, many Bolsheviks distrusted him, "
        "so Zinoviev and Kamenev sided with Stalin in the Troika. This allowed Stalin to use "
        "the Congress of 1927 to expel the United Opposition, and then turn on Bukharin in 1929."
    )
    praise = "You support your points with specific knowledge"
    timeline = score_essay(told, rubric)
    assert len(timeline.specific_evidence) >= 5
    assert not any(w.startswith(praise) for w in timeline.feedback.www), timeline.feedback.www
    r = score_essay(argued, rubric)
    said = [w for w in r.feedback.www if w.startswith(praise)]
    assert said, r.feedback.www
    listed = said[0].split("such as ", 1)[1].rstrip(".")
    assert "1922" in listed and "Party Congresses" in listed


def test_a_sentence_setting_later_years_aside_is_not_called_outside_the_question(rubric):
    """ "The purges of 1936 came after he had already won" uses the later years rightly:
    the student is not told to use evidence from the 1920s instead. The same years used as
    a reason are named as outside the question."""
    body = (
        "Stalin became General Secretary in 1922, so he could appoint his own supporters. "
        "They voted for him at the Party Congress in 1925, which meant his rivals lost. "
    )
    aside = score_essay(
        body + "The show trials of 1936 came after he had already won, so they are not why.",
        rubric,
    )
    used = score_essay(body + "The show trials of 1936 made everyone afraid of him.", rubric)
    # The later years set against the reason the student gives, not given as one.
    against = score_essay(
        body + "So he won by politics rather than by the terror he used in the 1930s.", rubric
    )
    # A year that dates a historian's book, not an event.
    cited = score_essay(body + "The historian Alec Nove wrote a book about this in 1969.", rubric)
    # The later terror named and dismissed in so many words.
    dismissed = score_essay(
        body + "The purges of 1937 are shocking, but they cannot explain how he got power, "
        "because they came afterwards.",
        rubric,
    )
    assert all(r.out_of_period for r in (aside, used, against, cited, dismissed))
    told = aside.feedback.ebi + against.feedback.ebi + cited.feedback.ebi + dismissed.feedback.ebi
    assert not any("outside the years" in b for b in told)
    assert any("outside the years" in b for b in used.feedback.ebi)


def test_a_view_the_student_reports_is_not_praised_as_their_explanation(rubric):
    """ "Some people say that Trotsky was arrogant, which meant…" gives another's view: a
    What went well bullet quotes the student's own explanation, not one they report."""
    body = "Stalin became General Secretary in 1922, so he could appoint his own supporters. "
    claim = (
        "Trotsky was arrogant and missed Lenin's funeral, which meant the other leaders "
        "distrusted him and voted against him at the Party Congress in 1925."
    )
    own = score_essay(body + claim, rubric).feedback.www
    reported = score_essay(body + "Some people say that " + claim, rubric).feedback.www
    assert any("Trotsky" in w for w in own)
    assert not any("Trotsky" in w for w in reported)


def test_a_reason_that_is_only_what_another_led_to_is_not_praised_as_explained(rubric):
    """ "Trotsky was arrogant… This meant Zinoviev and Kamenev were happy to team up with
    Stalin against him": the alliance is what Trotsky's arrogance led to, so the sentence is
    not quoted as explaining how Stalin played the factions. Said of the factions
    themselves, the same turn to a result is praise."""
    led_to = (
        "Trotsky was arrogant and looked down on the other Bolshevik leaders, who all "
        "disliked him. This meant Zinoviev and Kamenev were happy to team up with Stalin "
        "against him in the Troika."
    )
    own = (
        "Stalin played the Left and the Right of the Politburo against each other. This meant "
        "he could use Bukharin's votes to expel Zinoviev and Kamenev in 1927."
    )
    factions = "You explain how Stalin used the Politburo's quarrels"
    told = score_essay(led_to, rubric).feedback.www
    assert not any(w.startswith(factions) and "This meant Zinoviev" in w for w in told), told
    assert any(w.startswith(factions) for w in score_essay(own, rubric).feedback.www)


def test_the_next_step_never_asks_to_explain_a_reason_already_explained(rubric):
    """The General Secretary post is explained ("…, so he could appoint…"); Trotsky is only
    described: the next step may ask about Trotsky, never for the post."""
    r = score_essay(
        "Stalin became General Secretary in 1922, so he could appoint his own supporters to "
        "key posts. Trotsky was arrogant and he missed Lenin's funeral in 1924.",
        rubric,
    )
    statuses = {f.id: f.status for f in r.factors}
    assert statuses["general_secretary"] == "explained"
    assert "explains the General Secretary post" not in r.feedback.next_step


def test_a_reason_set_against_another_across_a_turn_is_not_called_only_described(rubric):
    """ "Trotsky was arrogant…, but it was Stalin's post that decided the votes" may weigh
    the two: no "You describe Trotsky but do not explain" for it. Without the turn, the
    bare description still gets one."""
    body = "Stalin became General Secretary in 1922, so he could appoint his own supporters. "
    bare = "Trotsky was arrogant and he missed Lenin's funeral in 1924."
    turned = bare[:-1] + ", but it was Stalin's post as General Secretary that decided the votes."
    assert any("You describe Trotsky" in b for b in score_essay(body + bare, rubric).feedback.ebi)
    assert not any(
        "You describe Trotsky" in b for b in score_essay(body + turned, rubric).feedback.ebi
    )


def test_an_answer_giving_a_reason_no_factor_covers_is_not_told_to_pick_reasons(rubric):
    """A short answer arguing a reason the cues do not cover (the Second World War) does
    give a reason: the next step builds on the question's factors instead of saying it
    gives none."""
    r = score_essay(
        "Stalin was very famous. I think the main reason he got total power was the war "
        "against Hitler, because after he won it everybody saw him as a hero.",
        rubric,
        input_name="war.txt",
    )
    assert not any(f.status != "absent" for f in r.factors)
    assert not r.feedback.next_step.startswith("Plan before you write"), r.feedback.next_step
    assert "does not yet give any reason" not in " ".join(r.level_gap)


# A result only for how someone looked ("…so it looked like he did not care about Lenin"),
# or for what Stalin could say ("…so he could claim to be Lenin's true heir"), is not how
# the reason won him power: examiners differ, so it is not praised as an explanation; the
# same sentence carried on to who voted for or against him is. Each case: the sentence, its
# ending that reaches the power struggle, and what the praise for that reason says.
IMAGE_ONLY = [
    (
        "Trotsky missed Lenin's funeral because Stalin gave him the wrong date, so it "
        "looked like he did not care about Lenin",
        ", and the party voted against him at the Congress in 1925.",
        "Trotsky",
    ),
    (
        "Stalin organised Lenin's funeral and spoke at it, so he could claim to be "
        "Lenin's true heir",
        ", and the party voted for him against Trotsky.",
        "Lenin's loyal heir",
    ),
]


@pytest.mark.parametrize(("looked", "power", "praise"), IMAGE_ONLY, ids=["looked", "claimed"])
def test_a_result_only_for_how_someone_looked_is_not_praised_as_explaining(
    rubric, looked, power, praise
):
    body = "Stalin became General Secretary in 1922, so he could appoint his own supporters. "
    image = score_essay(body + looked + ".", rubric).feedback.www
    reached = score_essay(body + looked + power, rubric).feedback.www
    assert not any(praise in w for w in image), image
    assert any(praise in w for w in reached), reached


def test_weighing_is_not_praised_in_the_verdict_it_judges_with(rubric):
    """A verdict setting one reason against another has its own bullet (the judgement):
    "you weigh X" is said of a sentence that weighs, not of the verdict."""
    r = _result("analytical-four-factors.txt", rubric)
    verdicts = [" ".join(e.text.split()) for e in r.judgement.evidence]
    assert verdicts
    quoted = [w.split("“", 1)[1].split("”")[0].rstrip(" …") for w in r.feedback.www[:2]]
    assert quoted
    assert not any(v.startswith(q) for q in quoted for v in verdicts), r.feedback.www


def test_a_reason_set_beside_another_might_be_weighed():
    """A sentence that weighs a reason against another ("Even his link with Lenin depended
    on the job") is more than description: before "you only describe it" is said, it counts."""
    from essay_marker.feedback import Reading
    from essay_marker.records import Evidence, FactorCoverage, Role, Status

    said = "Stalin stood beside Lenin's coffin. "
    weighs = "Even his link with Lenin depended on the job."
    told = Evidence(said.strip(), 0, len(said) - 1, Role.DESCRIBE)
    weighed = Evidence(weighs, len(said), len(said) + len(weighs), Role.WEIGH)
    reading = Reading(linked=False, causal=frozenset(), shown={})
    only_told = FactorCoverage("lenin_link", "Lenin", True, Status.MENTIONED, (told,), (told,))
    both = FactorCoverage(
        "lenin_link", "Lenin", True, Status.MENTIONED, (told, weighed), (told, weighed)
    )
    assert not reading.might_weigh(only_told)
    assert reading.might_weigh(both)


def test_the_judgement_is_asked_for_once(rubric):
    """Two reasons explained and no verdict: the judgement is the next step, and the Even
    better if bullets do not ask for it again."""
    text = (
        "Stalin became General Secretary in 1922, which meant he could appoint his own "
        "supporters to key posts, so they voted for him at Party Congresses. Trotsky was "
        "arrogant and missed Lenin's funeral in 1924, which meant the other leaders distrusted "
        "him and sided with Stalin against him."
    )
    fb = score_essay(text, rubric).feedback
    assert fb.next_step.startswith("Make your judgement clear"), fb.next_step
    assert not any("MAIN one" in b or "judgement" in b for b in fb.ebi), fb.ebi


def test_a_conclusion_calling_reasons_all_important_is_not_praised_as_weighing(rubric):
    """ "X would not have been enough without Y, so they were all important" ends on a
    hedge: it is not quoted as the weighing top answers do."""
    text = (
        "Stalin became General Secretary in 1922, which meant he could appoint his supporters "
        "to key posts, so they voted for him. Trotsky was arrogant and missed Lenin's funeral, "
        "which meant the other leaders distrusted him and sided with Stalin against him. "
        "Overall, the General Secretary post would not have been enough without Trotsky's "
        "unpopularity, so they were all important."
    )
    www = score_essay(text, rubric).feedback.www
    assert www and not any(w.startswith(("You weigh", "You link")) for w in www), www


@pytest.mark.parametrize(
    "adds",
    [
        "Linking himself to Lenin and his ruthlessness also helped.",
        # "his link to Lenin" spells the weighing phrase "linked to" in stems: it is the
        # reason's name, so the sentence still only adds a reason.
        "Stalin's ruthlessness and his link to Lenin also helped.",
    ],
)
def test_two_reasons_that_only_also_helped_are_not_praised_as_weighed(rubric, adds):
    """ "X and Y also helped" sets two reasons side by side: it is not quoted as comparing
    one with the others and judging how far it mattered."""
    text = (
        "Stalin became General Secretary in 1922, which meant he could appoint his supporters "
        "to key posts, so they voted for him. Trotsky was arrogant and missed Lenin's funeral, "
        "which meant the other leaders distrusted him and sided with Stalin against him. Stalin "
        "was chief mourner at Lenin's funeral, which made party members trust him as Lenin's "
        f"heir, so they backed him against Trotsky. {adds}"
    )
    www = score_essay(text, rubric).feedback.www
    assert www and not any("also helped" in w for w in www), www
