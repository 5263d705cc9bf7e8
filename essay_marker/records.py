"""The records every stage passes on: frozen dataclasses and the vocabulary as StrEnums.

This module imports nothing else of essay_marker, so every stage can import it. Spans
(character offsets into the student's text) travel with every piece of evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA_VERSION = "2.2"  # of the JSON record (essay_marker/schemas/check-result.schema.json)


class Status(StrEnum):
    """How far an essay takes a factor."""

    ABSENT = "absent"
    MENTIONED = "mentioned"  # named or narrated
    EXPLAINED = "explained"  # says how it helped
    WEIGHED = "weighed"  # linked to or compared with another factor


# A factor explained, or explained and weighed: the statuses that count as explaining.
EXPLAINING = (Status.EXPLAINED, Status.WEIGHED)


class Role(StrEnum):
    """What a sentence does for a factor."""

    DESCRIBE = "describe"
    EXPLAIN = "explain"
    WEIGH = "weigh"
    JUDGE = "judge"


class FlagId(StrEnum):
    """The families of flags, as results, markbooks and reports name them."""

    EMPTY = "empty"
    TOO_SHORT = "too_short"
    NOT_ENGLISH = "not_english"
    GIBBERISH = "gibberish"
    OFF_TOPIC = "off_topic"
    OTHER_QUESTION = "other_question"
    KEYWORD_STUFFING = "keyword_stuffing"
    REPETITION = "repetition"
    COPIED_SOURCE = "copied_source"
    DISORDERED = "disordered"


@dataclass(frozen=True)
class Span:
    """A piece of the student's text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Evidence:
    """A stretch of the student's own words, by character offsets, and what it does."""

    text: str
    start: int
    end: int
    role: Role


@dataclass(frozen=True)
class FactorCoverage:
    """How far the essay takes one factor, with the sentences that show it."""

    id: str
    name: str
    named: bool
    status: Status
    # The sentences shown to the student as this factor's: only those surely about it.
    evidence: tuple[Evidence, ...]
    # Every sentence read as touching the factor: what the status and the model's features
    # are judged on (recall), of which `evidence` is the part precise enough to quote.
    support: tuple[Evidence, ...] = ()

    def sentences_with(self, role: Role) -> tuple[Evidence, ...]:
        """The supporting sentences that play this role."""
        return tuple(e for e in self.support if e.role == role)

    def shown_with(self, role: Role) -> tuple[Evidence, ...]:
        """The evidence (shown) sentences that play this role."""
        return tuple(e for e in self.evidence if e.role == role)


@dataclass(frozen=True)
class Judgement:
    """The essay's answer to 'what was the main reason?'."""

    present: bool
    main_factor: str | None
    supported: bool
    consistent: bool | None
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class MisconceptionHit:
    """A wrong claim found in a sentence, with the rubric's correction."""

    id: str
    claim: str
    correction: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class SentenceRoles:
    """What one sentence does: the factors in it and its roles for each."""

    index: int
    start: int
    end: int
    roles: tuple[tuple[str, Role], ...]  # (factor id, role)
    causal: bool
    weighing: bool
    explains: float | None = None  # the sentence model's probability that it explains
    # The factors the sentence names itself (a cue or the model), not carried on from the
    # sentence before ("This meant…"): what a quote praised for a factor must do.
    named: frozenset[str] = frozenset()
    # The factors the sentence model places here (p >= its threshold), and those it is
    # fairly sure of (AGREES): what the status model reads beside the rules.
    hinted: frozenset[str] = frozenset()
    agreed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Coverage:
    """Everything coverage finds in one essay."""

    factors: tuple[FactorCoverage, ...]
    judgement: Judgement
    specific_evidence: tuple[Span, ...]
    misconceptions: tuple[MisconceptionHit, ...]
    sentences: tuple[SentenceRoles, ...]
    out_of_period: tuple[Span, ...] = ()  # sentences whose years all lie outside the question

    def factor(self, factor_id: str) -> FactorCoverage:
        """Coverage of one factor by id."""
        return next(f for f in self.factors if f.id == factor_id)


@dataclass(frozen=True)
class Hint:
    """What a trained sentence model says about one sentence."""

    factors: frozenset[str] = frozenset()
    explains: float | None = None  # probability the sentence explains rather than describes
    agrees: frozenset[str] | None = None  # factors the model is fairly sure of (p >= AGREES)
    sure: frozenset[str] | None = None  # factors the model is sure of (p >= SURE)


@dataclass(frozen=True)
class Misspelling:
    """A word the spelling checker does not know, where it is, and a likely correction."""

    text: str
    start: int
    end: int
    suggestion: str | None


@dataclass(frozen=True)
class Spag:
    """The SPaG estimate and what it rests on."""

    mark: int
    max_mark: int
    spelling_accuracy: float
    sentence_control: float
    specialist_terms: tuple[Span, ...]
    misspellings: tuple[Misspelling, ...]


class Severity(StrEnum):
    """What a flag does to the mark."""

    ZERO = "zero"
    CAP = "cap"
    BLANK = "blank"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Flag:
    """Something about the script a teacher should know; `id` and `check` are stable."""

    id: str  # the family shown in results and markbooks: gibberish, off_topic, …
    check: str  # the declaration that raised it: gibberish.jargon
    severity: Severity
    message: str
    cap: int | None = None  # the highest mark the script can have with this flag
    student: str = ""  # what the student's slip says about it, if anything

    @property
    def sets_mark(self) -> bool:
        """True when the flag zeroes or caps the mark (not only refers the script)."""
        return self.severity in (Severity.ZERO, Severity.CAP)


@dataclass(frozen=True)
class Screening:
    """The flags, and the text to mark once padding, copying and term lists are blanked."""

    flags: tuple[Flag, ...]
    marked_text: str


@dataclass(frozen=True)
class Feedback:
    """WWW, EBI and the single next step, plus what kept the essay from the next level."""

    www: tuple[str, ...]
    ebi: tuple[str, ...]
    next_step: str
    level_gap: str = ""


@dataclass(frozen=True)
class Summary:
    """The counts the levels are judged on."""

    mentioned: int
    explained: int
    developed: int
    weighed: int
    named_explained: int
    evidence: int
    judgement: bool
    supported: bool
    consistent: bool | None
    misconceptions: int
    words: int


@dataclass(frozen=True, kw_only=True)
class Marking:
    """What marking found in an essay: what its feedback is written from."""

    level: int
    factors: tuple[FactorCoverage, ...]
    judgement: Judgement
    specific_evidence: tuple[Span, ...]
    misconceptions: tuple[MisconceptionHit, ...]
    spag: Spag
    level_gap: tuple[str, ...]
    out_of_period: tuple[Span, ...] = ()  # sentences whose years lie outside the question


@dataclass(frozen=True, kw_only=True)
class EssayResult(Marking):
    """Everything essaymark says about one essay, built once, feedback included."""

    input: str
    rubric: str
    scorer: str
    mark: int
    max_mark: int
    confidence: float
    word_count: int
    flags: tuple[Flag, ...]
    refer_to_teacher: bool
    refer_reasons: tuple[str, ...]
    feedback: Feedback
    schema_version: str = SCHEMA_VERSION


@dataclass(frozen=True)
class BatchRow:
    """One line of the markbook: a marked script, or the error that stopped it."""

    student: str
    file: str
    slip: str
    sha256: str
    level: int | None = None
    mark: int | None = None
    spag: int | None = None
    confidence: float | None = None
    refer_to_teacher: bool | None = None
    flags: tuple[str, ...] = ()
    refer_reasons: tuple[str, ...] = ()
    error: str = ""
    factors: dict[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    scorer: str = ""
