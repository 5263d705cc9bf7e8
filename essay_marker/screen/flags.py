"""The screen: flags for scripts a teacher must see, applied from declarations in flags.toml.

A flag is data (a check with a stable name, a severity, tests on measures with their
thresholds and reasons, and a message); the measures are small functions in measures.py;
screen() is the loop that applies the one to the other. Severity follows certainty: only a
measure with no false alarm on any genuine set zeroes or caps a mark; anything inferred
from style or vocabulary refers the script to the teacher and leaves the mark alone.
Repeats, copied sentences and lists of terms are blanked (same length, so offsets still
point at the student's words) before the essay is marked: they earn nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from essay_marker.analysis.features import Analysis
from essay_marker.errors import RubricError
from essay_marker.records import Flag, Screening, Severity
from essay_marker.rubric import Rubric
from essay_marker.screen.measures import MEASURES, Essay


@dataclass(frozen=True)
class Test:
    """One threshold on one measure, with why it is there."""

    measure: str
    at_least: float | None
    below: float | None
    reason: str
    false_alarms: str

    def holds(self, value: float | None) -> bool:
        """Whether a measured value passes the threshold (an unmeasurable value never does)."""
        if value is None:
            return False
        if self.at_least is not None:
            return value >= self.at_least
        return self.below is not None and value < self.below


@dataclass(frozen=True)
class Check:
    """One flag declaration from flags.toml."""

    check: str
    id: str
    severity: Severity
    message: str
    any_of: tuple[tuple[Test, ...], ...]
    cap_level: int | None = None
    blank: str | None = None
    stop: bool = False
    min_words: int = 0
    needs_model: bool = False
    student: str = ""  # what the student's slip says (the message is for the teacher)

    @property
    def measures(self) -> tuple[str, ...]:
        """Every measure the check's tests or message use, in order, once each."""
        names = [t.measure for group in self.any_of for t in group]
        return tuple(dict.fromkeys([*names, *([self.blank] if self.blank else [])]))


_KEYS = {"check", "id", "severity", "message", "any_of", "cap_level", "blank", "stop"}
_KEYS |= {"min_words", "needs_model", "student"}
_TEST_KEYS = {"measure", "at_least", "below", "reason", "false_alarms"}


def _test(raw: Any, where: str) -> Test:
    if not isinstance(raw, dict) or set(raw) - _TEST_KEYS or "measure" not in raw:
        raise RubricError(where, "", f"a test must be a table of {sorted(_TEST_KEYS)}")
    if raw["measure"] not in MEASURES:
        raise RubricError(where, "measure", f"no measure named {raw['measure']!r}")
    if ("at_least" in raw) == ("below" in raw):
        raise RubricError(where, raw["measure"], "give exactly one of at_least and below")
    if not str(raw.get("reason", "")).strip():
        raise RubricError(where, raw["measure"], "every threshold needs its reason")
    return Test(
        raw["measure"],
        raw.get("at_least"),
        raw.get("below"),
        raw["reason"],
        raw.get("false_alarms", ""),
    )


def parse_checks(text: str, path: str = "flags.toml") -> tuple[Check, ...]:
    """The declarations of a flags file, validated; RubricError names the check and key."""
    checks = []
    for i, raw in enumerate(tomllib.loads(text).get("flags", [])):
        where = f"{path}: flags[{i}]"
        if set(raw) - _KEYS or not {"check", "id", "severity", "message", "any_of"} <= set(raw):
            raise RubricError(where, "", f"keys must be among {sorted(_KEYS)}")
        severity = Severity(raw["severity"])
        if (severity is Severity.CAP) != ("cap_level" in raw):
            raise RubricError(where, "cap_level", "a cap (and only a cap) names its level")
        if (severity is Severity.BLANK) != ("blank" in raw):
            raise RubricError(where, "blank", "a blanking check (and only one) names its measure")
        said = raw["message"] + raw.get("student", "")
        unknown = [f for _, f, _, _ in Formatter().parse(said) if f and f not in MEASURES]
        if unknown:
            raise RubricError(where, "message", f"no measure named {unknown[0]!r}")
        groups = tuple(
            tuple(_test(t, f"{where}.any_of[{g}]") for t in group)
            for g, group in enumerate(raw["any_of"])
        )
        if not groups or not all(groups):
            raise RubricError(where, "any_of", "needs at least one group of tests")
        checks.append(
            Check(
                raw["check"],
                raw["id"],
                severity,
                raw["message"],
                groups,
                raw.get("cap_level"),
                raw.get("blank"),
                raw.get("stop", False),
                raw.get("min_words", 0),
                raw.get("needs_model", False),
                raw.get("student", ""),
            )
        )
    names = [c.check for c in checks]
    if len(set(names)) < len(names):
        raise RubricError(path, "check", "two declarations share a check name")
    return tuple(checks)


@cache
def checks() -> tuple[Check, ...]:
    """essaymark's own flag declarations (essay_marker/data/flags.toml)."""
    text = (resources.files("essay_marker") / "data" / "flags.toml").read_text(encoding="utf-8")
    return parse_checks(text)


def threshold(check: str, measure: str) -> float:
    """The threshold a check puts on a measure (for code that must agree with the screen)."""
    c = next(c for c in checks() if c.check == check)
    t = next(t for group in c.any_of for t in group if t.measure == measure)
    return t.at_least if t.at_least is not None else t.below  # type: ignore[return-value]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace spans with spaces, keeping every other character where it was."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def screen(
    a: Analysis,
    rubric: Rubric,
    sources: tuple[str, ...] = (),
    familiar: frozenset[str] | None = None,
    credited: frozenset[str] | None = None,
) -> Screening:
    """Apply every flag declaration to an analysed essay: its flags and the text to mark.

    `familiar` is the set of word pairs (stems) that a trained model saw in at least two
    marked answers; checks that need it are skipped without it. `credited` is the same for
    answers at Level 2 or above (the familiar pairs when not given).
    """
    essay = Essay(a, rubric, sources, familiar, credited)
    flags: list[Flag] = []
    blank: list[tuple[int, int]] = []
    raised: set[str] = set()
    for c in checks():
        if c.blank:  # repeats, copies and lists earn nothing, flagged or not
            blank += essay.measure(c.blank).spans
        if c.id in raised or essay.words < c.min_words or (c.needs_model and not familiar):
            continue
        if not any(all(t.holds(essay.measure(t.measure).value) for t in g) for g in c.any_of):
            continue
        named = [f for _, f, _, _ in Formatter().parse(c.message + c.student) if f]
        details = {name: essay.measure(name).detail for name in named}
        cap = rubric.highest_mark(c.cap_level) if c.cap_level is not None else None
        student = c.student.format_map(details)
        flags.append(Flag(c.id, c.check, c.severity, c.message.format_map(details), cap, student))
        raised.add(c.id)
        if c.stop:
            break
    text = a.doc.text
    return Screening(tuple(flags), _blank(text, blank) if blank else text)
