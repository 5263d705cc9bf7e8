"""The levels of response as data: what each level needs, and the rules' mark within a band.

The criteria and placements live in essay_marker/data/levels.toml (or a rubric's own
[[criteria]] and [[placement]]); this module summarises an essay into the counts they are
written in, says which criteria a level leaves unmet, and marks by them when no model is
trained (RulesScorer).
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from essay_marker.analysis.coverage import MIGHT_EXPLAIN, FactorHook
from essay_marker.analysis.features import Analysis
from essay_marker.errors import RubricError
from essay_marker.records import (
    EXPLAINING,
    Coverage,
    FactorCoverage,
    Judgement,
    Status,
    Summary,
)
from essay_marker.rubric import Rubric
from essay_marker.text import Doc

RULES_SCORER = "rules:coverage-v1"
SCHEME_LEVELS = 4  # the criteria are written for four levels above Level 0
_COUNTS = frozenset(Summary.__dataclass_fields__)


@dataclass(frozen=True)
class Test:
    """One condition on a count of the essay's summary."""

    count: str
    at_least: float | None = None
    below: float | None = None
    is_: bool | None = None
    is_not: bool | None = None

    def holds(self, summary: Summary) -> bool:
        """Whether the summary passes it."""
        value = getattr(summary, self.count)
        if self.at_least is not None and not value >= self.at_least:
            return False
        if self.below is not None and not value < self.below:
            return False
        if self.is_ is not None and bool(value) is not self.is_:
            return False
        return self.is_not is None or value is not self.is_not


@dataclass(frozen=True)
class Criterion:
    """What a level (and every level above it) needs, and what to say when it is missing."""

    level: int
    tests: tuple[Test, ...]
    unmet: str
    when: str | Test | None = None  # a count that must be true, or a test that must hold

    def applies(self, summary: Summary) -> bool:
        """Whether the criterion is asked of this essay at all."""
        if isinstance(self.when, Test):
            return self.when.holds(summary)
        return self.when is None or bool(getattr(summary, self.when))


@dataclass(frozen=True)
class Part:
    """One part of a band placement: counts summed, capped at `of`, divided by it."""

    counts: tuple[str, ...]
    of: float

    def share(self, summary: Summary) -> float:
        """This part's share in [0, 1]."""
        return min(sum(float(getattr(summary, c)) for c in self.counts), self.of) / self.of


@dataclass(frozen=True)
class MarkScheme:
    """The criteria and placements, and the few numbers the rules use."""

    criteria: tuple[Criterion, ...]
    placement: dict[int, tuple[Part, ...]]
    wrong_fact_penalty: int
    top_level_wrong_facts: int
    level_0_confidence: float
    confidence_base: float
    confidence_span: float


def _check_count(name: str, where: str) -> str:
    if name not in _COUNTS:
        raise RubricError(where, "count", f"{name!r} is not one of {', '.join(sorted(_COUNTS))}")
    return name


def _test(raw: dict[str, Any], where: str) -> Test:
    allowed = {"count", "at_least", "below", "is", "is_not"}
    if set(raw) - allowed or "count" not in raw or len(raw) != 2:
        raise RubricError(
            where, "tests", f"a test is a count and one of {sorted(allowed - {'count'})}"
        )
    return Test(
        _check_count(raw["count"], where),
        raw.get("at_least"),
        raw.get("below"),
        raw.get("is"),
        raw.get("is_not"),
    )


def parse_scheme(data: dict[str, Any], where: str, base: MarkScheme | None = None) -> MarkScheme:
    """A mark scheme from TOML data (`base` fills what the data leaves out)."""
    criteria = tuple(
        Criterion(
            int(c["level"]),
            tuple(_test(t, f"{where}: criteria[{i}]") for t in c["tests"]),
            str(c["unmet"]),
            _when(c.get("when"), f"{where}: criteria[{i}]"),
        )
        for i, c in enumerate(data.get("criteria", []))
    )
    placement = {
        int(p["level"]): tuple(
            Part(tuple(_check_count(n, where) for n in part["counts"]), float(part["of"]))
            for part in p["parts"]
        )
        for p in data.get("placement", [])
    }
    if base is not None:
        criteria = criteria or base.criteria
        placement = placement or base.placement
    elif not criteria or not placement:
        raise RubricError(where, "criteria", "the mark scheme needs criteria and placements")

    def number(key: str) -> Any:
        return data[key] if key in data else getattr(base, key)

    return MarkScheme(
        criteria,
        placement,
        int(number("wrong_fact_penalty")),
        int(number("top_level_wrong_facts")),
        float(number("level_0_confidence")),
        float(number("confidence_base")),
        float(number("confidence_span")),
    )


def _when(raw: Any, where: str) -> str | Test | None:
    if raw is None:
        return None
    return _test(raw, where) if isinstance(raw, dict) else _check_count(str(raw), where)


@cache
def default_scheme() -> MarkScheme:
    """essaymark's levels of response (essay_marker/data/levels.toml)."""
    path = resources.files("essay_marker") / "data" / "levels.toml"
    return parse_scheme(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


def scheme_for(rubric: Rubric) -> MarkScheme:
    """The rubric's own mark scheme (what it leaves out taken from the default), or the default."""
    return _scheme(rubric.mark_scheme, rubric.path or rubric.id)


@cache
def _scheme(raw: str, where: str) -> MarkScheme:
    if not raw:
        return default_scheme()
    return parse_scheme(json.loads(raw), f"{where}: mark_scheme", default_scheme())


def _from_level(scheme_level: int, top: int) -> int:
    """The rubric level a criterion of the four-level scheme applies from."""
    return max(1, round(scheme_level * top / SCHEME_LEVELS))


def might_say_how(f: FactorCoverage, causal: Container[int] = ()) -> bool:
    """Whether any sentence about the reason might say how or why: one read as causal (its
    start in `causal`), or one with a loose causal word. Before telling a student a reason
    is not explained, be sure nothing there looks like an explanation."""
    return any(e.start in causal or MIGHT_EXPLAIN.search(e.text) for e in f.support)


def gives_unread_reason(
    factors: Sequence[FactorCoverage], judgement: Judgement, says_why: bool
) -> bool:
    """Whether the essay may give a reason that no factor covers: it argues a main reason
    the factors do not hold, or, with no factor found, some sentence says why (`says_why`)."""
    present = {f.id for f in factors if f.status != Status.ABSENT}
    if judgement.present and judgement.main_factor not in present:
        return True
    return not present and says_why


def summarise(coverage: Coverage, doc: Doc, *, generous: bool = False) -> Summary:
    """Reduce coverage to the counts the mark scheme is written in.

    `generous` counts what the essay might do as done: a mentioned reason whose sentences
    might say how as explained, two reasons in one such sentence as linked. Feedback says a
    criterion is unmet only when it is unmet even then (a false "you have not linked your
    reasons" teaches the wrong thing; a missing one costs little).
    """
    fs = coverage.factors
    done = {f.id for f in fs if f.status in EXPLAINING}
    linked = any(f.status == Status.WEIGHED for f in fs)
    if generous:
        causal = {s.start for s in coverage.sentences if s.causal}
        done |= {f.id for f in fs if f.status == Status.MENTIONED and might_say_how(f, causal)}
        linked = linked or any(
            len({fid for fid, _ in s.roles}) >= 2
            and (s.causal or s.weighing or MIGHT_EXPLAIN.search(doc.text[s.start : s.end]))
            for s in coverage.sentences
        )
    j = coverage.judgement
    # A reason the rubric's cues do not cover ("because he won the war") is still a reason:
    # never tell the student there is none, nor that none is explained.
    says_why = any(s.causal for s in coverage.sentences)
    unread = int(generous and gives_unread_reason(fs, j, says_why))
    return Summary(
        mentioned=sum(f.status != Status.ABSENT for f in fs) + unread,
        explained=len(done) + unread,
        # Explained and returned to: more than one sentence of the student's own on it.
        developed=sum(f.id in done and len(f.support) >= 2 for f in fs),
        weighed=max(sum(f.status == Status.WEIGHED for f in fs), int(linked)),
        named_explained=sum(f.named and f.id in done for f in fs),
        evidence=len(coverage.specific_evidence),
        judgement=j.present,
        # Support for a reason the rubric does not list ("luck") cannot be read: generous
        # takes it as given rather than tell the student it is only asserted.
        supported=j.supported
        or (generous and (j.main_factor in done or (j.present and j.main_factor is None))),
        consistent=coverage.judgement.consistent,
        misconceptions=len(coverage.misconceptions),
        words=doc.word_count,
    )


def unmet_for_level(s: Summary, level: int, rubric: Rubric) -> tuple[str, ...]:
    """What the essay lacks for a level, in the mark scheme's terms (empty when met)."""
    if not rubric.factors:
        # No factors to check against: the next level's own descriptor says what it takes.
        nxt = next((lv for lv in rubric.levels if lv.level == level), None)
        return (f"the next level asks for this: {nxt.descriptor}",) if nxt else ()
    scheme, top = scheme_for(rubric), rubric.top_level
    need = []
    for c in scheme.criteria:
        if level < _from_level(c.level, top) or not c.applies(s):
            continue
        failed = [t for t in c.tests if not t.holds(s)]
        if failed:
            value = getattr(s, failed[0].count)
            need.append(c.unmet.format(outcome=rubric.outcome, count=value))
    return tuple(need)


class RulesScorer:
    """Marks from coverage alone, by the levels of response; used when no model is trained."""

    scorer_name = RULES_SCORER

    def hook(self) -> FactorHook | None:
        """The rules use cue phrases only."""
        return None

    def score(self, analysis: Analysis, rubric: Rubric) -> tuple[int, int, float]:
        """Best-fit level from the unmet criteria, then a place in the band."""
        scheme = scheme_for(rubric)
        s = summarise(analysis.coverage, analysis.doc)
        level = 0
        for lv in sorted(rubric.levels, key=lambda x: x.level):
            if lv.level and not unmet_for_level(s, lv.level, rubric):
                level = lv.level
        band = next(lv for lv in rubric.levels if lv.level == level)
        if level == 0:
            return 0, 0, scheme.level_0_confidence
        scheme_level = min(
            math.ceil(level * SCHEME_LEVELS / rubric.top_level), max(scheme.placement)
        )
        parts = scheme.placement.get(scheme_level) or scheme.placement[max(scheme.placement)]
        p = sum(part.share(s) for part in parts) / len(parts)
        mark = band.low + round(p * (band.high - band.low))
        mark = max(band.low, mark - scheme.wrong_fact_penalty * s.misconceptions)
        centrality = 1 - abs(p - 0.5) * 2
        confidence = round(scheme.confidence_base + scheme.confidence_span * centrality, 2)
        return mark, analysis.spag.mark, confidence

    def score_many(self, analyses: list[Analysis], rubric: Rubric) -> list[tuple[int, int, float]]:
        """score() for each essay."""
        return [self.score(a, rubric) for a in analyses]
