"""Load a rubric (TOML, data only) and validate it into frozen dataclasses.

Every error names the file and the key, says what was found and what is allowed.
Long because the schema is: each section's records, limits and checks sit together.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from essay_marker.errors import RubricError
from essay_marker.records import Status

STATUSES = tuple(Status)
_ID_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
# A cue phrase is words separated by spaces; "*" allows a short gap of other words.
_CUE_RE = re.compile(r"^[\w'’.&-]+( (\*|[\w'’.&-]+))*$")


@dataclass(frozen=True)
class Level:
    """One level of response: its number, mark band and descriptor."""

    level: int
    low: int
    high: int
    descriptor: str


@dataclass(frozen=True)
class FactorFeedback:
    """The rubric's advice for a factor in each coverage state."""

    absent: str
    mentioned: str
    explained: str
    weighed: str

    def for_status(self, status: str) -> str:
        """The wording for one of STATUSES."""
        return getattr(self, status)


@dataclass(frozen=True)
class Instead:
    """Where a factor's cues name another factor: in a sentence naming one of `when` and
    none of `unless` ("Trotsky made mistakes" is about his weaknesses, not his rivals'), and
    wherever one of `when` owns the cue ("Trotsky's own mistakes")."""

    factor: str
    when: tuple[str, ...]
    unless: tuple[str, ...]


@dataclass(frozen=True)
class Whose:
    """For a reason that is a quality of Stalin's (his cleverness): the people whose quality
    a cue names instead ("Trotsky was very clever", "they thought they were cleverer"), and
    the words that name Stalin himself. "He", "his" and "him" stand for the last one person
    named before them in the sentence, else the last person the sentence before named, else
    Stalin."""

    others: tuple[str, ...]
    own: tuple[str, ...]


@dataclass(frozen=True)
class Factor:
    """A reason the student may argue, with the phrases that show it is there."""

    id: str
    name: str
    short: str
    named: bool
    cues: tuple[str, ...]
    evidence: tuple[str, ...]
    feedback: FactorFeedback
    instead: Instead | None = None
    # Phrases in which a cue means something else ("the right moment" is no faction):
    # a cue match inside one of these is no sign of the factor.
    not_cues: tuple[str, ...] = ()
    whose: Whose | None = None


@dataclass(frozen=True)
class Misconception:
    """A wrong claim students make, how to spot it in one sentence, and its correction."""

    id: str
    claim: str
    correction: str
    all_of: tuple[tuple[str, ...], ...]
    none_of: tuple[str, ...]
    ordered: bool
    window: int
    # The groups in one clause: "There was Trotsky, there was the General Secretary job"
    # lists; it does not say Trotsky was General Secretary.
    clause: bool = False


@dataclass(frozen=True)
class DateFact:
    """When an event happened: a year written beside it that is not one of these is wrong."""

    id: str
    event: str  # "Lenin died", for the claim shown to the student: "Lenin died in 1931"
    cues: tuple[str, ...]
    years: tuple[int, ...]
    correction: str


@dataclass(frozen=True)
class Source:
    """A text students were given; copying it earns no credit."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Language:
    """Question-independent cue phrases for analytical writing."""

    causal: tuple[str, ...]
    causal_openers: tuple[str, ...]
    weighing: tuple[str, ...]
    judgement: tuple[str, ...]
    connectives: tuple[str, ...]
    hedging: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()  # hedges that leave the main reason open ("hard to say")
    # Someone else's view or the writer's earlier one ("some would say", "at first I thought").
    others_view: tuple[str, ...] = ()
    # What the essay will do, or what the question asks ("this essay will look at the main
    # reason why…"): announced, not judged.
    signpost: tuple[str, ...] = ()
    contrast: tuple[str, ...] = ()
    verdict: tuple[str, ...] = ()
    concession: tuple[str, ...] = ()
    # Openers of a reason a comparison ranks below another ("not so much X as Y", "less
    # because of X and more because of Y"): the clause runs to "as", "than" or "more".
    ranked_lower: tuple[str, ...] = ()
    # The writer's doubt about a fact ("not sure", "can't remember"), and tags that doubt
    # only where they close a clause ("in 1917 (I think)", not "I think the main…").
    doubt: tuple[str, ...] = ()
    doubt_tags: tuple[str, ...] = ()
    # Words that only venture a verdict ("maybe that was the real main reason").
    tentative: tuple[str, ...] = ()
    # Openings that answer the question the sentence before asked ("…? It was his job.").
    answers: tuple[str, ...] = ()
    # Weighing words that only add a reason ("also helped", "as well as"): a sentence with
    # no other weighing word is not praised as weighing.
    additive: tuple[str, ...] = ()
    # Words that turn a sentence to a result ("this meant", "which allowed"): a reason named
    # only after one is not praised as explained there.
    consequence: tuple[str, ...] = ()
    # Words that set later events aside ("that came after he had won"), not use them.
    set_aside: tuple[str, ...] = ()
    # Judgement cues that give only an opinion or a place in the essay ("I think", "in
    # conclusion"), and the words that put such a sentence on the question (its reasons,
    # what mattered most, the outcome): one with no such word judges nothing.
    opinion: tuple[str, ...] = ()
    on_question: tuple[str, ...] = ()
    # A result that is only how someone looked, and words of a result for the question's
    # power struggle (who backed, trusted or beat whom): see language.toml.
    image: tuple[str, ...] = ()
    standing: tuple[str, ...] = ()
    # Weighing words that point at the question, not at another reason ("this links to the
    # question"), and a paragraph formula's labels ("Point:", "Link:"), read as no words.
    question_links: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rubric:
    """A validated rubric for one question."""

    id: str
    title: str
    question: str
    max_mark: int
    spag_max: int
    levels: tuple[Level, ...]
    factors: tuple[Factor, ...]
    misconceptions: tuple[Misconception, ...]
    sources: tuple[Source, ...]
    terms: tuple[str, ...]
    specialist_terms: tuple[str, ...]
    topic_terms: tuple[str, ...]
    subject_terms: tuple[str, ...]
    language: Language
    dates: tuple[DateFact, ...] = ()
    outcome: str = "led to the outcome in the question"
    # The years the question is about ([1917, 1929]): a year more than one outside them is
    # named to the student as outside the question and never credited as knowledge.
    period: tuple[int, int] | None = None
    # Events and terms of other years (the purges, the Five-Year Plans): a sentence naming
    # one is about another question, like a sentence dated outside the period, and is
    # neither quoted as evidence nor credited as knowledge unless a year of the period is in it.
    outside_terms: tuple[str, ...] = ()
    # Words that mark a sentence as about other years without naming an event ("killed": no
    # rival was killed in the 1920s): such a sentence is neither quoted nor credited, as with
    # outside_terms, but it is not counted towards other_question, and nothing names them.
    outside_signs: tuple[str, ...] = ()
    # The rubric's own levels of response, as JSON of a [mark_scheme] table in the format of
    # essay_marker/data/levels.toml (levels.py reads it); "" for the default scheme.
    mark_scheme: str = ""
    # The rubric's own SPaG bands ([spag_bands], the format of essay_marker/data/spag_bands.toml)
    # as JSON; "" for the shipped ones.
    spag_bands: str = ""
    # A trained model's marks may not rise with length among scripts marked alike: it does
    # not learn from the size features (analysis.features.SIZE_COLUMNS), and the length
    # credit its out-of-fold errors still show is taken back (model.ordinal). For a
    # question whose mark scheme rewards what an answer does, not how much it says; it
    # costs agreement where a class's marks follow length (RESULTS.md).
    length_neutral: bool = False
    path: str = ""
    sha256: str = field(default="", compare=False)

    def level_for(self, mark: int) -> Level:
        """The level whose band holds this mark."""
        for lv in self.levels:
            if lv.low <= mark <= lv.high:
                return lv
        raise ValueError(f"mark {mark} is outside 0..{self.max_mark}")

    def factor(self, factor_id: str) -> Factor:
        """The factor with this id."""
        for f in self.factors:
            if f.id == factor_id:
                return f
        raise KeyError(factor_id)

    @property
    def top_level(self) -> int:
        """The highest level number."""
        return max(lv.level for lv in self.levels)

    def highest_mark(self, level: int) -> int:
        """The top of a level's mark band: the cap for "no better than Level N"."""
        return next((lv.high for lv in self.levels if lv.level == level), self.max_mark)


class _Reader:
    """Typed access to a TOML table that reports problems with the file and dotted key."""

    def __init__(self, path: str, table: dict[str, Any], prefix: str = "") -> None:
        self.path, self.table, self.prefix = path, table, prefix
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str, hint: str = "") -> RubricError:
        return RubricError(self.path, self.key(name), problem, hint)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.seen.add(name)
        if name not in self.table:
            if default is ...:
                raise self.fail(name, "is missing", "add it; see the rubric format in the README")
            return default
        value = self.table[name]
        # bool is an int in Python; a mark of `true` is still wrong.
        if (isinstance(value, bool) and kind is int) or not isinstance(value, kind):
            want = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(name, f"should be {want}, found {type(value).__name__}")
        return value

    def text(self, name: str, default: Any = ..., allow_empty: bool = False) -> str:
        value = self.get(name, str, default)
        if not allow_empty and isinstance(value, str) and not value.strip():
            raise self.fail(name, "is empty")
        return value

    def strings(self, name: str, default: Any = ..., allow_empty: bool = False) -> tuple[str, ...]:
        value = self.get(name, list, default)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{name}[{i}]", "should be a non-empty string")
        if not value and not allow_empty:
            raise self.fail(name, "is an empty list", "give at least one entry")
        return tuple(item.strip() for item in value)

    def tables(self, name: str) -> list[_Reader]:
        value = self.get(name, list, [])
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{i}]", "should be a table")
            out.append(_Reader(self.path, item, f"{self.key(name)}[{i}]."))
        return out

    def sub(self, name: str, default: Any = ...) -> _Reader:
        return _Reader(self.path, self.get(name, dict, default), f"{self.key(name)}.")

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.fail(
                unknown[0], "is not a known key", "check the spelling against the README"
            )


def _cues(r: _Reader, name: str, allow_empty: bool = False) -> tuple[str, ...]:
    cues = r.strings(name, [] if allow_empty else ..., allow_empty=allow_empty)
    for i, cue in enumerate(cues):
        if not _CUE_RE.match(cue) or cue.startswith("*") or cue.endswith("*"):
            raise r.fail(
                f"{name}[{i}]",
                f"{cue!r} is not a cue phrase",
                "use words separated by single spaces; '*' between words allows a short gap",
            )
    return cues


def _levels(r: _Reader, max_mark: int) -> tuple[Level, ...]:
    levels = []
    for t in r.tables("levels"):
        band = t.get("marks", list)
        if len(band) != 2 or not all(isinstance(m, int) and not isinstance(m, bool) for m in band):
            raise t.fail("marks", f"should be [low, high] whole numbers, found {band!r}")
        low, high = band
        if not 0 <= low <= high <= max_mark:
            raise t.fail(
                "marks", f"band {low}-{high} must lie within 0-{max_mark} with low <= high"
            )
        levels.append(Level(t.get("level", int), low, high, t.text("descriptor")))
        t.done()
    if not levels:
        raise r.fail("levels", "is missing or empty", "add a [[levels]] table per level")
    levels.sort(key=lambda lv: lv.low)
    if len({lv.level for lv in levels}) != len(levels):
        raise r.fail("levels", "has duplicate level numbers")
    expected = 0
    for lv in levels:
        if lv.low != expected:
            problem = "overlap" if lv.low < expected else "leave a gap"
            raise r.fail(
                "levels",
                f"mark bands {problem} at mark {min(lv.low, expected)}",
                f"bands must cover 0-{max_mark} once each",
            )
        expected = lv.high + 1
    if expected != max_mark + 1:
        raise r.fail("levels", f"mark bands stop at {expected - 1}, not at max_mark {max_mark}")
    if [lv.level for lv in levels] != sorted(lv.level for lv in levels):
        raise r.fail("levels", "level numbers must rise with the marks")
    return tuple(levels)


def _factor(t: _Reader) -> Factor:
    fid = t.text("id")
    if not _ID_RE.match(fid):
        raise t.fail("id", f"{fid!r} is not a valid id", "use lower-case letters, digits, _ or -")
    fb = t.sub("feedback")
    feedback = FactorFeedback(*(fb.text(s) for s in STATUSES))
    fb.done()
    name = t.text("name")
    instead = None
    if "instead" in t.table:
        r = t.sub("instead")
        instead = Instead(r.text("factor"), _cues(r, "when"), _cues(r, "unless", allow_empty=True))
        r.done()
    whose = None
    if "whose" in t.table:
        r = t.sub("whose")
        whose = Whose(_cues(r, "others"), _cues(r, "own"))
        r.done()
    factor = Factor(
        id=fid,
        name=name,
        short=t.text("short", default=name),
        named=t.get("named", bool, False),
        cues=_cues(t, "cues"),
        evidence=_cues(t, "evidence", allow_empty=True),
        feedback=feedback,
        instead=instead,
        not_cues=_cues(t, "not_cues", allow_empty=True),
        whose=whose,
    )
    t.done()
    return factor


def _misconception(t: _Reader) -> Misconception:
    groups = t.get("all_of", list)
    if not groups or not all(isinstance(g, list) and g for g in groups):
        raise t.fail("all_of", "should be a non-empty list of non-empty lists of phrases")
    all_of = []
    for i, _group in enumerate(groups):
        sub = _Reader(t.path, {"group": groups[i]}, f"{t.key('all_of')}[{i}].")
        all_of.append(_cues(sub, "group"))
    m = Misconception(
        id=t.text("id"),
        claim=t.text("claim"),
        correction=t.text("correction"),
        all_of=tuple(all_of),
        none_of=_cues(t, "none_of", allow_empty=True),
        ordered=t.get("ordered", bool, False),
        window=t.get("window", int, 0),
        clause=t.get("clause", bool, False),
    )
    if m.window < 0:
        raise t.fail("window", "must be 0 (whole sentence) or a positive number of words")
    t.done()
    return m


def _date(t: _Reader) -> DateFact:
    years = t.get("years", list)
    if not years or not all(type(y) is int and 1000 <= y <= 2999 for y in years):
        raise t.fail("years", "should be a non-empty list of four-digit years", "e.g. [1924]")
    fact = DateFact(
        id=t.text("id"),
        event=t.text("event"),
        cues=_cues(t, "cues"),
        years=tuple(sorted(set(years))),
        correction=t.text("correction"),
    )
    t.done()
    return fact


def _language(r: _Reader, base: Language | None) -> Language:
    names = LANGUAGE_KEYS
    values = {}
    for name in names:
        extra = _cues(r, name, allow_empty=base is not None or name in _OPTIONAL_LANGUAGE)
        values[name] = (getattr(base, name) if base else ()) + extra
    r.done()
    return Language(**values)


# Keys the default language file may leave empty (a rubric's [language] may leave any empty).
_OPTIONAL_LANGUAGE = (
    "hedging",
    "undecided",
    "others_view",
    "signpost",
    "contrast",
    "verdict",
    "concession",
    "ranked_lower",
    "doubt",
    "doubt_tags",
    "tentative",
    "answers",
    "additive",
    "consequence",
    "set_aside",
    "opinion",
    "on_question",
    "image",
    "standing",
    "question_links",
    "labels",
)
LANGUAGE_KEYS = (
    "causal",
    "causal_openers",
    "weighing",
    "judgement",
    "connectives",
    *_OPTIONAL_LANGUAGE,
)
_default_language: Language | None = None


def default_language() -> Language:
    """The analytical-language cues every rubric starts from (essay_marker/data/language.toml)."""
    global _default_language
    if _default_language is None:
        path = resources.files("essay_marker") / "data" / "language.toml"
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        _default_language = _language(_Reader(str(path), data), None)
    return _default_language


# Rubrics are shared between teachers, so a file is data from a stranger: these bound the
# work of loading and matching one (100,000 cues once took over a minute). Each is ten
# times or more what the bundled rubric uses.
LIMITS = {
    "bytes": 1_000_000,
    "levels": 12,
    "factors": 60,
    "cues per factor": 600,
    "cue phrases": 6_000,
    "misconceptions": 200,
    "groups in a misconception": 8,
    "dates": 200,
    "terms": 2_000,
}


def _over(what: str, found: int, key: str, path: str) -> RubricError:
    return RubricError(
        path,
        key,
        f"has {found:,} {what}, more than the {LIMITS[what]:,} a rubric may have",
        "a rubric is shared between teachers: keep it to what one question needs",
    )


def _check_size(rubric: Rubric) -> None:
    """Refuse a rubric far larger than any question needs (see LIMITS)."""
    p = rubric.path
    counts = [
        ("levels", len(rubric.levels), "levels"),
        ("factors", len(rubric.factors), "factors"),
        ("misconceptions", len(rubric.misconceptions), "misconceptions"),
        ("dates", len(rubric.dates), "dates"),
        ("terms", len(rubric.terms) + len(rubric.specialist_terms), "terms"),
    ]
    for what, found, key in counts:
        if found > LIMITS[what]:
            raise _over(what, found, key, p)
    for i, f in enumerate(rubric.factors):
        if len(f.cues) > LIMITS["cues per factor"]:
            raise _over("cues per factor", len(f.cues), f"factors[{i}].cues", p)
    for i, m in enumerate(rubric.misconceptions):
        if len(m.all_of) > LIMITS["groups in a misconception"]:
            raise _over(
                "groups in a misconception", len(m.all_of), f"misconceptions[{i}].all_of", p
            )
    lang = rubric.language
    phrases = (
        sum(len(f.cues) + len(f.evidence) for f in rubric.factors)
        + sum(sum(map(len, m.all_of)) + len(m.none_of) for m in rubric.misconceptions)
        + sum(len(d.cues) for d in rubric.dates)
        + sum(len(getattr(lang, n)) for n in LANGUAGE_KEYS)
        + len(rubric.topic_terms)
        + len(rubric.subject_terms)
        + len(rubric.outside_terms)
        + len(rubric.outside_signs)
    )
    if phrases > LIMITS["cue phrases"]:
        raise _over("cue phrases", phrases, "", p)


def _period(r: _Reader) -> tuple[int, int] | None:
    raw = r.get("period", list, None)
    if raw is None:
        return None
    if len(raw) != 2 or not all(isinstance(y, int) for y in raw) or raw[0] > raw[1]:
        raise r.fail("period", f"must be [first year, last year], found {raw!r}")
    return raw[0], raw[1]


def _spag_bands(r: _Reader, spag_max: int) -> str:
    """[spag_bands] checked: min_words, then bands 1..4 each with the figures it needs."""
    if "spag_bands" not in r.table:
        return ""
    t = r.sub("spag_bands")
    min_words = t.get("min_words", int)
    if min_words < 0:
        raise t.fail("min_words", f"must be 0 or more, found {min_words}")
    bands = []
    for b in t.tables("bands"):
        band = b.get("band", int)
        if not 1 <= band <= 4:
            # The estimate is on a 0-4 scale, scaled to the rubric's spag_max afterwards.
            raise b.fail("band", f"must be 1 to 4, found {band}", "rubrics scale 0-4 to spag_max")
        figures = {"band": band}
        for name in ("accuracy", "control"):
            value = float(b.get(name, (int, float)))
            if not 0.0 <= value <= 1.0:
                raise b.fail(name, f"is a share of 0 to 1, found {value}")
            figures[name] = value
        terms = b.get("terms", int, 0)
        if terms < 0:
            raise b.fail("terms", f"must be 0 or more, found {terms}")
        figures["terms"] = terms
        b.done()
        bands.append(figures)
    t.done()
    if not bands:
        raise r.fail("spag_bands.bands", "is missing", "give at least one [[spag_bands.bands]]")
    if len({b["band"] for b in bands}) < len(bands):
        raise r.fail("spag_bands.bands", "gives a band twice")
    if not spag_max:
        raise r.fail("spag_bands", "is given but spag_max is 0", "set spag_max or remove it")
    return json.dumps({"min_words": min_words, "bands": bands}, sort_keys=True)


def parse_rubric(text: str, path: str = "<rubric>") -> Rubric:
    """Validate rubric TOML text into a Rubric; raise RubricError naming the key."""
    if len(text) > LIMITS["bytes"]:
        raise RubricError(
            path,
            "",
            f"is {len(text):,} characters long, more than the {LIMITS['bytes']:,} a rubric may be",
            "a rubric is shared between teachers: keep it to what one question needs",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(path, "", f"is not valid TOML ({exc})", "fix the syntax") from None
    except RecursionError:
        raise RubricError(
            path, "", "nests tables or lists too deeply to be a rubric", "fix the syntax"
        ) from None
    r = _Reader(path, data)
    rid = r.text("id")
    if not _ID_RE.match(rid):
        raise r.fail("id", f"{rid!r} is not a valid id", "use lower-case letters, digits, _ or -")
    max_mark = r.get("max_mark", int)
    if max_mark < 1:
        raise r.fail("max_mark", f"must be at least 1, found {max_mark}")
    spag_max = r.get("spag_max", int, 0)
    if spag_max < 0:
        raise r.fail("spag_max", f"must be 0 or more, found {spag_max}")
    levels = _levels(r, max_mark)
    factors = tuple(_factor(t) for t in r.tables("factors"))
    seen: set[str] = set()
    for i, f in enumerate(factors):
        if f.id in seen:
            raise r.fail(f"factors[{i}].id", f"duplicate factor id {f.id!r}")
        seen.add(f.id)
    for i, f in enumerate(factors):
        if f.instead and (f.instead.factor not in seen or f.instead.factor == f.id):
            raise r.fail(
                f"factors[{i}].instead.factor",
                f"{f.instead.factor!r} is not another factor's id",
                "name one of the rubric's other factors",
            )
    misconceptions = tuple(_misconception(t) for t in r.tables("misconceptions"))
    dates = tuple(_date(t) for t in r.tables("dates"))
    ids = [m.id for m in misconceptions] + [d.id for d in dates]
    if len(set(ids)) < len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise r.fail("dates", f"duplicate misconception or date id {dup!r}")
    sources = []
    for t in r.tables("sources"):
        sources.append(Source(t.text("id"), t.text("title", default=""), t.text("text")))
        t.done()
    lang = r.sub("language", default={})
    rubric = Rubric(
        id=rid,
        title=r.text("title"),
        question=r.text("question"),
        max_mark=max_mark,
        spag_max=spag_max,
        levels=levels,
        factors=factors,
        misconceptions=misconceptions,
        dates=dates,
        sources=tuple(sources),
        terms=r.strings("terms", (), allow_empty=True),
        specialist_terms=r.strings("specialist_terms", (), allow_empty=True),
        topic_terms=_cues(r, "topic_terms", allow_empty=True),
        subject_terms=_cues(r, "subject_terms", allow_empty=True),
        language=_language(lang, default_language()),
        outcome=r.text("outcome", default=Rubric.outcome),
        period=_period(r),
        outside_terms=_cues(r, "outside_terms", allow_empty=True),
        outside_signs=_cues(r, "outside_signs", allow_empty=True),
        mark_scheme=json.dumps(r.get("mark_scheme", dict, {}), sort_keys=True)
        if "mark_scheme" in data
        else "",
        spag_bands=_spag_bands(r, spag_max),
        length_neutral=r.get("length_neutral", bool, False),
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    r.done()
    _check_size(rubric)
    _check_outside_cues(rubric)
    return rubric


def _check_outside_cues(rubric: Rubric) -> None:
    """Refuse a reason's cue that is also an event outside the question's years: a sentence
    about the purges of the 1930s would be evidence for a reason in a 1920s question."""
    outside = {
        " ".join(t.lower().split()): key
        for key in ("outside_terms", "outside_signs")
        for t in getattr(rubric, key)
    }
    for i, f in enumerate(rubric.factors):
        for cue in f.cues:
            key = outside.get(" ".join(cue.lower().split()))
            if key:
                raise RubricError(
                    rubric.path,
                    f"factors[{i}].cues",
                    f'"{cue}" is also in {key}',
                    "a reason's cue cannot be an event outside the question's years: "
                    "remove it from one of the two",
                )


# What `rubric new` writes where the teacher is to fill in their own wording.
_PLACEHOLDER = re.compile(r"^Describe what a Level \d+ answer does\.$")


def rubric_warnings(rubric: Rubric) -> list[str]:
    """What is valid but would reach students unfinished, or mark nothing on its own."""
    out = [
        f"levels: Level {lv.level}'s descriptor is still the template's "
        f'("{lv.descriptor}"): students would see it; write what a Level {lv.level} answer does'
        for lv in rubric.levels
        if _PLACEHOLDER.match(lv.descriptor)
    ]
    if not rubric.factors:
        out.append(
            "factors: none, so essaymark can mark with this rubric only once a model is trained "
            "on marked scripts ('essaymark train --rubric FILE …'); add [[factors]] for "
            "sentence-level feedback"
        )
    return out


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate a rubric file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RubricError(str(p), "", "no such file", "check the path") from None
    except IsADirectoryError:
        raise RubricError(str(p), "", "is a folder, not a rubric file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(str(p), "", f"cannot be read ({exc.__class__.__name__})") from None
    return parse_rubric(text, str(p))


def bundled_dirs(name: str) -> list[Path]:
    """Where bundled data (`rubrics`, `models`, `corpus`) lives: inside the installed
    package, or the source tree."""
    packaged = Path(str(resources.files("essay_marker"))) / name
    source_tree = Path(__file__).resolve().parent.parent / name
    return [d for d in (packaged, source_tree) if d.is_dir()]


def rubric_dirs() -> list[Path]:
    """Where bundled rubrics live."""
    return bundled_dirs("rubrics")


def list_rubrics() -> dict[str, Path]:
    """Bundled rubric ids and their files."""
    found: dict[str, Path] = {}
    for d in rubric_dirs():
        for f in sorted(d.glob("*.toml")):
            found.setdefault(f.stem, f)
    return found


DEFAULT_RUBRIC = "stalin-main-reason"


def find_rubric(id_or_path: str = DEFAULT_RUBRIC) -> Rubric:
    """Load a rubric by bundled id, or from a path to a .toml file."""
    known = list_rubrics()
    if id_or_path in known:
        return load_rubric(known[id_or_path])
    if id_or_path.endswith(".toml") or Path(id_or_path).exists():
        return load_rubric(id_or_path)
    listed = ", ".join(sorted(known)) or "none"
    raise RubricError(
        id_or_path,
        "",
        "is not a known rubric id or a rubric file",
        f"known ids: {listed}; or give a path to a .toml file",
    )


def _bands(max_mark: int, levels: int) -> list[tuple[int, int]]:
    """Level 0 is 0; the rest of the marks split as evenly as possible, lowest level first."""
    size, extra = divmod(max_mark, levels)
    bands, low = [(0, 0)], 1
    for i in range(levels):
        high = low + size - 1 + (1 if i >= levels - extra else 0)
        bands.append((low, high))
        low = high + 1
    return bands


def rubric_template(
    rubric_id: str, question: str, max_mark: int, spag_max: int = 4, levels: int = 4
) -> str:
    """A valid, commented rubric for a new question, for a teacher to edit."""
    if not _ID_RE.match(rubric_id):
        raise RubricError(
            rubric_id,
            "id",
            "is not a valid id",
            "use lower-case letters, digits, _ or - (e.g. ww1-causes)",
        )
    if not 1 <= levels <= max_mark:
        raise RubricError(rubric_id, "levels", f"need between 1 and {max_mark} levels")
    question = " ".join(question.split())
    quoted = question.replace("\\", "\\\\").replace('"', '\\"')
    lines = [
        f"# essaymark rubric for: {question}",
        "# Data only: nothing in this file is run. Check it with: essaymark rubric validate FILE",
        "# With no [[factors]], the trained model alone gives the mark and feedback is general;",
        "# add factors (see the example at the end) for sentence-level feedback.",
        "",
        f'id = "{rubric_id}"',
        f'title = "{quoted}"',
        f'question = "{quoted}"',
        f"max_mark = {max_mark}",
        f"spag_max = {spag_max}",
        '# Completes "explain how it ..." in feedback.',
        'outcome = "led to the outcome in the question"',
        "",
        "# Names and terms students may misspell (accepted by the spelling checker).",
        "terms = []",
        "# Specialist vocabulary credited in SPaG.",
        "specialist_terms = []",
        "# An essay naming none of these is flagged off-topic (leave empty to skip the check).",
        "topic_terms = []",
        "# true: a trained model may not give a longer answer more than a shorter one you",
        "# marked the same (costs agreement where your marks follow length).",
        "length_neutral = false",
        "",
    ]
    for level, (low, high) in enumerate(_bands(max_mark, levels)):
        descriptor = (
            "Nothing worthy of credit."
            if level == 0
            else f"Describe what a Level {level} answer does."
        )
        lines += [
            "[[levels]]",
            f"level = {level}",
            f"marks = [{low}, {high}]",
            f'descriptor = "{descriptor}"',
            "",
        ]
    lines += [
        "# An example factor: copy, fill in and uncomment.",
        "# [[factors]]",
        '# id = "first_reason"',
        '# name = "The first reason"',
        "# named = true",
        '# cues = ["phrase a student would write", "another * phrase"]',
        '# evidence = ["1914", "a name"]',
        "# [factors.feedback]",
        '# absent = "Bring in ... (said when no cue finds it: ask for it, it may be there)"',
        '# mentioned = "You name ... but do not explain how it led to the outcome."',
        '# explained = "You explain how ..."',
        '# weighed = "You weigh ... against other reasons."',
        "",
        "# An example date: a year written beside the event that is not in `years` is",
        "# corrected in feedback (and many wrong facts flag the script for the teacher).",
        "# [[dates]]",
        '# id = "war_began"',
        '# event = "The war began"',
        '# cues = ["war began", "outbreak of war", "war broke out"]',
        "# years = [1914]",
        '# correction = "The war began in 1914."',
        "",
    ]
    text = "\n".join(lines)
    parse_rubric(text, f"{rubric_id}.toml")  # the template must itself be valid
    return text
