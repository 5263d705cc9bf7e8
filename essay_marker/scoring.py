"""score_essay: text in, a frozen EssayResult out. The main entry point of the library."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Protocol

from essay_marker.analysis.coverage import FactorHook
from essay_marker.analysis.features import Analysis, analyse_essay, analyse_essays, causal_share
from essay_marker.feedback import build_feedback
from essay_marker.levels import RulesScorer, scheme_for, summarise, unmet_for_level
from essay_marker.readers import check_length
from essay_marker.records import (
    Coverage,
    EssayResult,
    Flag,
    Marking,
    Screening,
    Severity,
)
from essay_marker.rubric import Rubric
from essay_marker.screen.flags import screen

REFER_BELOW = 0.5  # confidence under which the level is a close call
# A close call on the level goes to a person when the checklist of reasons, a second
# opinion, puts the script in another level; a trained model's close calls on their own
# are little sign of a wrong mark (blind dev set, each writer left out: of 15 under
# 0.5, 9 had the level right and none was 4 or more marks off; held-out set, 5 of 6 right).
# The model reads little of a short answer and can misplace a short, dense one either way
# (the length correction lifts short answers). Where the checklist of what the argument
# does gives a short answer SHORT_GAP marks more or less than the model, a person looks.
# Blind dev, eleven writers each left out: a gap of 3 referred 23 short answers (30% of
# essays referred in all), 4 refers 7 (22%), both catching the 3 essays 4+ marks off.
SHORT_ANSWER, SHORT_GAP = 250, 4
# Its mirror: a long account can be over-marked for its knowledge. A mark in the levels
# that ask for explanation (the top two) when fewer than this share of the sentences say
# how a reason helped is for a person to confirm. On the blind dev set (each writer left
# out) the four scripts this referred were all over-marked, by 2 to 5 marks (references
# 6-8, marks 9-12), and it added three referrals of 126.
FEW_EXPLAIN = 0.15


class Scorer(Protocol):
    """Anything that turns an analysed essay into (mark, spag mark, confidence)."""

    @property
    def scorer_name(self) -> str:
        """What results name this scorer in `scorer`."""
        ...

    def hook(self) -> FactorHook | None:
        """Extra factor detection for coverage, if the scorer has any."""
        ...

    def score(self, analysis: Analysis, rubric: Rubric) -> tuple[int, int, float]:
        """Mark, SPaG mark and a confidence in [0, 1]."""
        ...

    def score_many(self, analyses: list[Analysis], rubric: Rubric) -> list[tuple[int, int, float]]:
        """score() for many essays at once."""
        ...


def score_essay(
    text: str,
    rubric: Rubric,
    scorer: Scorer | None = None,
    input_name: str = "-",
    hide_mark: bool = False,
    sources: tuple[str, ...] = (),
) -> EssayResult:
    """Analyse, screen and mark one essay against a rubric (with a trained model if given one).

    `sources` are texts the students were given: sentences copied from them earn no credit.
    """
    return score_essays([(text, input_name)], rubric, scorer, hide_mark, sources)[0]


def score_essays(
    essays: list[tuple[str, str]],
    rubric: Rubric,
    scorer: Scorer | None = None,
    hide_mark: bool = False,
    sources: tuple[str, ...] = (),
) -> list[EssayResult]:
    """score_essay for many (text, input name) pairs, the model predicting for all at once.

    Raises InputError for a text far longer than an essay (readers.MAX_WORDS).
    """
    for text, name in essays:
        check_length(text, name)
    scorer = scorer or RulesScorer()
    hook = scorer.hook()
    prepared = []
    analyses = analyse_essays([text for text, _ in essays], rubric, hook)
    for (text, _), analysis in zip(essays, analyses, strict=True):
        screening = screen(
            analysis,
            rubric,
            sources,
            getattr(scorer, "familiar", None),
            getattr(scorer, "credited", None),
        )
        if screening.marked_text != text:
            # Padding and copied sentences are blanked in place, so offsets stay true.
            analysis = analyse_essay(screening.marked_text, rubric, hook)
        prepared.append((analysis, screening))
    scores = scorer.score_many([a for a, _ in prepared], rubric)
    return [
        _result(name, analysis, screening, score, rubric, scorer, hide_mark)
        for (_, name), (analysis, screening), score in zip(essays, prepared, scores, strict=True)
    ]


def apply_flags(mark: int, spag: int, flags: tuple[Flag, ...]) -> tuple[int, int]:
    """The mark and SPaG mark once the flags that set marks have had their say.

    Only zeroing and capping flags change a mark; advisories refer the script and leave it.
    Training and evaluation call this too, so their figures are the marks `check` gives.
    """
    for flag in flags:
        if flag.severity is Severity.ZERO:
            return 0, 0
        if flag.cap is not None:
            mark = min(mark, flag.cap)
    return mark, spag


def final_marks(
    mark: int, spag: int, flags: tuple[Flag, ...], coverage: Coverage, rubric: Rubric
) -> tuple[int, int]:
    """The marks essaymark gives once the screen and the mark scheme's caps have had their
    say: flags that set marks, and two or more wrong facts keeping an answer below the top
    level (which asks for accurate knowledge). Training's figures use this too."""
    mark, spag = apply_flags(mark, spag, flags)
    if (
        rubric.factors
        and rubric.top_level >= 2
        and len(coverage.misconceptions) >= scheme_for(rubric).top_level_wrong_facts
    ):
        mark = min(mark, rubric.highest_mark(rubric.top_level - 1))
    return mark, spag


def _result(
    input_name: str,
    analysis: Analysis,
    screening: Screening,
    score: tuple[int, int, float],
    rubric: Rubric,
    scorer: Scorer,
    hide_mark: bool,
) -> EssayResult:
    """Apply the flags to the scorer's mark and build the result with its feedback."""
    doc, coverage = analysis.doc, analysis.coverage
    mark, spag_mark, confidence = score
    flags = screening.flags
    mark, spag_mark = final_marks(mark, spag_mark, flags, coverage, rubric)
    # Marked from the rules' reading; reported (statuses, level gap, feedback) from the
    # scorer's own, where it has one for some reasons (model.status).
    revise = getattr(scorer, "revise", None)
    if revise is not None:
        coverage = revise(coverage, doc.word_count)
    level = rubric.level_for(mark).level
    reasons = [f.message for f in flags]
    if mark == 0 and not any(f.severity is Severity.ZERO for f in flags):
        # No silent zero: a 0 that no certain flag explains is for a person to confirm.
        reasons.append("The mark is 0 but nothing certain explains it: please read this script.")
    reasons += _referrals(analysis, rubric, scorer, mark, confidence, hide_mark, bool(flags))
    # Only what the essay surely lacks: unmet even when what it might do counts as done.
    summary = summarise(coverage, doc, generous=True)
    gap = unmet_for_level(summary, level + 1, rubric) if level < rubric.top_level else ()
    if level < rubric.top_level and not gap and not flags:
        # The model weighs more than the checklist does: say what it usually rewards.
        gap = (
            f"the explanations need developing: for each reason, more about how it "
            f"{rubric.outcome}, backed by specific evidence (dates, names, events)",
        )
    marking = Marking(
        level=level,
        factors=coverage.factors,
        judgement=coverage.judgement,
        specific_evidence=coverage.specific_evidence,
        misconceptions=coverage.misconceptions,
        spag=replace(analysis.spag, mark=spag_mark),
        level_gap=gap,
        out_of_period=coverage.out_of_period,
    )
    return EssayResult(
        **{f.name: getattr(marking, f.name) for f in fields(Marking)},
        input=input_name,
        rubric=rubric.id,
        scorer=scorer.scorer_name,
        mark=mark,
        max_mark=rubric.max_mark,
        confidence=confidence,
        word_count=doc.word_count,
        flags=flags,
        refer_to_teacher=bool(reasons),
        refer_reasons=tuple(reasons),
        feedback=build_feedback(marking, rubric, hide_mark=hide_mark, coverage=coverage),
    )


def _referrals(
    analysis: Analysis,
    rubric: Rubric,
    scorer: Scorer,
    mark: int,
    confidence: float,
    hide_mark: bool,
    flagged: bool,
) -> list[str]:
    """Why a person should read the script, besides its flags: the marks most likely to be
    wrong, told by a second opinion (the checklist of reasons), and arguments essaymark
    cannot weigh. With marks hidden, the reasons (shown in the class report) name no mark."""
    level = rubric.level_for(mark).level
    checklist_mark = (
        RulesScorer().score(analysis, rubric)[0]
        if rubric.factors and not isinstance(scorer, RulesScorer)
        else None
    )
    checklist = None if checklist_mark is None else rubric.level_for(checklist_mark).level
    reasons = []
    if confidence < REFER_BELOW and checklist != level:
        also = "" if checklist is None else " and its checklist of the reasons gives another level"
        reasons.append(f"The marker is not confident about this mark ({confidence:.2f}){also}.")
    judgement = analysis.coverage.judgement
    if rubric.factors and judgement.present and judgement.main_factor is None:
        reasons.append(
            "Its judgement names a main reason that is not on the mark scheme's list of reasons "
            "(or one essaymark does not recognise): a person should weigh that argument."
        )
    if checklist_mark is None or checklist is None or flagged:
        return reasons
    if abs(checklist - level) >= 2:
        reasons.append(
            "The model's mark and its checklist of the reasons disagree by two levels or more."
        )
    elif analysis.doc.word_count < SHORT_ANSWER and abs(checklist_mark - mark) >= SHORT_GAP:
        above = checklist_mark > mark
        if hide_mark:
            gives = f"marks well {'above' if above else 'below'} what the model gives"
        else:
            gives = f"gives {checklist_mark} and the model {mark}"
        risk = "under-mark short, dense answers" if above else "over-mark short answers"
        reasons.append(f"A short answer the checklist of reasons {gives}: the model can {risk}.")
    if level >= max(2, rubric.top_level - 1) and causal_share(analysis) < FEW_EXPLAIN:
        marked = "Marked high" if hide_mark else f"Marked at Level {level}"
        reasons.append(
            f"{marked}, but few of its sentences say how a reason {rubric.outcome}: the "
            "model can over-mark an account of events for its knowledge."
        )
    return reasons
