"""score_essay: text in, a frozen EssayResult out. The main entry point of the library."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Protocol

from essay_marker.analysis.coverage import FactorHook
from essay_marker.analysis.features import Analysis, analyse_essay, analyse_essays
from essay_marker.feedback import build_feedback
from essay_marker.readers import check_length
from essay_marker.records import (
    EXPLAINING,
    Coverage,
    EssayResult,
    Flag,
    Marking,
    Screening,
    Severity,
    Status,
    Summary,
)
from essay_marker.rubric import Rubric
from essay_marker.screen.flags import screen
from essay_marker.text import Doc

RULES_SCORER = "rules:coverage-v1"
REFER_BELOW = 0.5  # confidence under which a human should look at the script
# The top level asks for accurate knowledge: this many wrong facts keep an answer below it.
WRONG_FACTS_BELOW_TOP = 2


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


def summarise(coverage: Coverage, doc: Doc) -> Summary:
    """Reduce coverage to the counts the mark scheme cares about."""
    fs = coverage.factors
    return Summary(
        mentioned=sum(f.status != Status.ABSENT for f in fs),
        explained=sum(f.status in EXPLAINING for f in fs),
        # Explained and returned to: more than one sentence of the student's own on it.
        developed=sum(f.status in EXPLAINING and len(f.support) >= 2 for f in fs),
        weighed=sum(f.status == Status.WEIGHED for f in fs),
        named_explained=sum(f.named and f.status in EXPLAINING for f in fs),
        evidence=len(coverage.specific_evidence),
        judgement=coverage.judgement.present,
        supported=coverage.judgement.supported,
        consistent=coverage.judgement.consistent,
        misconceptions=len(coverage.misconceptions),
        words=doc.word_count,
    )


def unmet_for_level(s: Summary, level: int, rubric: Rubric) -> tuple[str, ...]:
    """What the essay lacks for a level, in the mark scheme's terms (empty when met)."""
    need: list[str] = []
    if not rubric.factors:
        # No factors to check against: the next level's own descriptor says what it takes.
        nxt = next((lv for lv in rubric.levels if lv.level == level), None)
        return (f"the next level asks for this: {nxt.descriptor}",) if nxt else ()
    if level >= 1 and s.mentioned == 0:
        need.append("it does not yet give any reason that answers the question")
    if level >= 2 and s.explained == 0:
        need.append(f"no reason is explained: say how it {rubric.outcome}, not just what happened")
    if level >= 3:
        if s.explained < 2 or s.developed < 1:
            need.append("two or more reasons need explaining, each with specific support")
        if s.evidence < 3:
            need.append("more specific knowledge is needed: dates, names and events")
    if level >= 4:
        if s.developed < 3:
            need.append("several reasons need explaining in depth, not two")
        if s.weighed == 0:
            need.append("the reasons are not linked or compared with each other")
        if not s.judgement:
            need.append("there is no judgement on the MAIN reason")
        elif not s.supported:
            need.append("the judgement on the main reason is asserted, not backed by explanation")
        if s.consistent is False:
            need.append("the introduction and conclusion argue for different main reasons")
        if s.evidence < 6:
            need.append("accurate, specific knowledge is needed throughout")
        if s.misconceptions >= WRONG_FACTS_BELOW_TOP:
            need.append(f"the knowledge must be accurate: {s.misconceptions} facts are wrong")
    return tuple(need)


def _within(low: int, high: int, parts: list[float]) -> tuple[int, float]:
    p = sum(parts) / len(parts)
    return low + round(p * (high - low)), p


class RulesScorer:
    """Marks from coverage alone, by the levels of response; used when no model is trained."""

    scorer_name = RULES_SCORER

    def hook(self) -> FactorHook | None:
        """The rules use cue phrases only."""
        return None

    def score(self, analysis: Analysis, rubric: Rubric) -> tuple[int, int, float]:
        """Best-fit level from the unmet criteria, then a place in the band."""
        s = summarise(analysis.coverage, analysis.doc)
        level = 0
        for lv in sorted(rubric.levels, key=lambda x: x.level):
            if lv.level and not unmet_for_level(s, lv.level, rubric):
                level = lv.level
        band = next(lv for lv in rubric.levels if lv.level == level)
        if level == 0:
            return 0, 0, 0.6
        parts = {
            1: [min(s.mentioned, 4) / 4, min(s.evidence, 4) / 4],
            2: [min(s.explained, 2) / 2, min(s.evidence, 8) / 8, float(s.judgement)],
            3: [
                min(s.explained, 4) / 4,
                min(s.evidence, 10) / 10,
                (s.judgement + s.supported) / 2,
                float(s.weighed > 0),
            ],
        }.get(level, [min(s.explained, 4) / 4, min(s.weighed, 3) / 3, min(s.evidence, 14) / 14])
        mark, p = _within(band.low, band.high, parts)
        mark = max(band.low, mark - s.misconceptions)
        # Heuristic: the rules are least sure at the edges of a band.
        confidence = round(0.5 + 0.3 * (1 - abs(p - 0.5) * 2), 2)
        return mark, analysis.spag.mark, confidence

    def score_many(self, analyses: list[Analysis], rubric: Rubric) -> list[tuple[int, int, float]]:
        """score() for each essay."""
        return [self.score(a, rubric) for a in analyses]


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
        and len(coverage.misconceptions) >= WRONG_FACTS_BELOW_TOP
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
    level = rubric.level_for(mark).level
    reasons = [f.message for f in flags]
    if mark == 0 and not any(f.severity is Severity.ZERO for f in flags):
        # No silent zero: a 0 that no certain flag explains is for a person to confirm.
        reasons.append("The mark is 0 but nothing certain explains it: please read this script.")
    if confidence < REFER_BELOW:
        reasons.append(f"The marker is not confident about this mark ({confidence:.2f}).")
    if not isinstance(scorer, RulesScorer) and rubric.factors and not flags:
        # A second opinion from the checklist of reasons: a wide gap needs a human.
        checklist = rubric.level_for(RulesScorer().score(analysis, rubric)[0]).level
        if abs(checklist - level) >= 2:
            reasons.append(
                "The model's mark and its checklist of the reasons disagree by two levels or more."
            )
    summary = summarise(coverage, doc)
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
