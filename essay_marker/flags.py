"""Flags for scripts a teacher must see: gaming, off-topic, unreadable or too little to mark.

Each flag has a stable id, a plain message and a mark cap. Repeated padding and text
copied from a source are blanked out (same length, so offsets still point at the
student's words) before the essay is marked: only the student's own words earn credit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise

from essay_marker.coverage import CueSet, cue_set
from essay_marker.features import Analysis
from essay_marker.rubric import Rubric
from essay_marker.spag import lexicon_for
from essay_marker.text import Doc, phrase_stems

TOO_SHORT_WORDS = 40
_NGRAM = 5  # words in a row that count as copied
# Thresholds were set on the project's corpus and held-out set so that fewer than 1% of
# genuine scripts trip any of them (benchmarks/RESULTS.md has the counts).
ENGLISH_SHARE = 0.5  # below this share of known English words, not an English answer
STUFFED_DENSITY = 0.5  # share of words that are rubric terms
STUFFED_SENTENCES = 0.3  # share of sentences that are mostly rubric terms
FUNCTION_SHARE = 0.2  # below this, the words do not form sentences
ABSTRACT_ALONE, ABSTRACT_WITH_CROWDING = 0.085, 0.06  # jargon-heavy "fluent nonsense"
CROWDED_FACTORS = 2.3  # mean distinct factors per sentence that names any
DISORDER_PENALTY = 3  # marks lost when the argument's signposts are out of order
SALAD_FAMILIAR, UNFAMILIAR = 0.15, 0.45  # share of word pairs seen in marked answers
VOWEL_SHARE = 0.35  # languages have vowels; keyboard mashing has few
TEMPLATED_SENTENCES = 0.25  # share of sentences that are one template with terms swapped
REPEATED_SHARE = 0.2  # share of words in sentences that repeat earlier ones
COPIED_SHARE = 0.3  # share of words in sentences copied from a source

_FUNCTION_WORDS = frozenset(
    "the a an of to and in was were is are it that this for on with as by be been had has "  # noqa: SIM905
    "have not but at from or so because who would could did do he she they his her their "
    "him them i we you there which what when".split()
)
_ABSTRACT = re.compile(
    r"(ism|isms|ity|ities|tion|tions|sis|ses|ness|ment|ments|ical|ance|ence|ive)$"
)
_OTHER_LANGUAGES = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


@dataclass(frozen=True)
class Flag:
    """Something about the script a teacher should know; `id` is stable."""

    id: str
    message: str
    cap: int | None = None  # the highest mark the script can have with this flag
    penalty: int = 0  # marks taken off (never below the bottom of Level 1)


@dataclass(frozen=True)
class Screening:
    """The flags, and the text to mark once padding and copied sentences are blanked."""

    flags: tuple[Flag, ...]
    marked_text: str


def _level_top(rubric: Rubric, level: int) -> int:
    return next((lv.high for lv in rubric.levels if lv.level == level), rubric.max_mark)


@cache
def _term_cues(rubric: Rubric) -> CueSet:
    words = [*rubric.terms, *rubric.specialist_terms, *rubric.topic_terms]
    words += [e for f in rubric.factors for e in f.evidence]
    return CueSet(words)


def _other_language(words: list[str]) -> str | None:
    """The language whose word list knows most of these words, if one knows over half."""
    from spellchecker import SpellChecker

    best, share = None, 0.0
    for code, name in _OTHER_LANGUAGES.items():
        checker = SpellChecker(language=code, distance=1)
        known = len(checker.known(words)) / max(1, len(set(words)))
        if known > share:
            best, share = name, known
    return best if share >= 0.5 else None


_CONCLUDING = CueSet(
    [
        "in conclusion",
        "to conclude",
        "to sum up",
        "in summary",
        "to summarise",
        "to summarize",
        "all in all",
    ]
)


def _disordered(a: Analysis, unique: list[int]) -> bool:
    """A sentence opening 'In conclusion…' (or the like) before the last third of the essay."""
    order = [i for i in unique if a.stems[i] and not a.doc.sentences[i].heading]
    if len(order) < 8:
        return False
    for position, i in enumerate(order):
        opener = _CONCLUDING.first(a.stems[i][:3])
        if opener is not None and opener[0] == 0 and position < 0.67 * (len(order) - 1):
            return True
    return False


def _mentions(phrases: tuple[str, ...], a: Analysis) -> bool:
    """True when the essay uses one of the phrases, or there are none to use."""
    if not phrases:
        return True
    cues = cue_set(phrases)
    return any(cues.find(st) for st in a.stems)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace spans with spaces, keeping every other character where it was."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _sentence_key(stems: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s for s in stems if s.isalnum())


def repeated_spans(
    doc: Doc, stems: tuple[tuple[str, ...], ...], min_words: int = 5
) -> list[tuple[int, int]]:
    """Sentences (of min_words or more) that repeat an earlier sentence word for word."""
    seen: set[tuple[str, ...]] = set()
    spans = []
    for sent, st in zip(doc.sentences, stems, strict=True):
        key = _sentence_key(st)
        if len(key) < min_words:
            continue
        if key in seen:
            spans.append((sent.start, sent.end))
        seen.add(key)
    return spans


def _ngrams(stems: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {stems[i : i + _NGRAM] for i in range(len(stems) - _NGRAM + 1)}


@lru_cache(maxsize=8)
def _source_grams(sources: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    # Once per rubric and --source set, not once per essay: sources can be long.
    return frozenset(g for src in sources for g in _ngrams(phrase_stems(src)))


def copied_spans(
    doc: Doc, stems: tuple[tuple[str, ...], ...], sources: list[str]
) -> list[tuple[int, int]]:
    """Sentences at least half made of five-word runs that stand in a source text."""
    source_grams = _source_grams(tuple(sources))
    if not source_grams:
        return []
    spans = []
    for sent, st in zip(doc.sentences, stems, strict=True):
        grams = [st[i : i + _NGRAM] for i in range(len(st) - _NGRAM + 1)]
        if not grams:
            continue
        covered = set()
        for i, g in enumerate(grams):
            if g in source_grams:
                covered.update(range(i, i + _NGRAM))
        if len(covered) >= 0.5 * len(st):
            spans.append((sent.start, sent.end))
    return spans


def _words_in(spans: list[tuple[int, int]], doc: Doc) -> int:
    return sum(len(s.tokens) for s in doc.sentences if (s.start, s.end) in set(spans))


def _templated_share(stems: list[tuple[str, ...]], terms: CueSet) -> float:
    """Share of sentences whose wording, with the rubric's terms taken out, another one repeats."""
    skeletons = []
    for st in dict.fromkeys(stems):  # exact repeats are the repetition check's business
        covered = {i for x, y in terms.find(st) for i in range(x, y)}
        if covered and len(st) >= 3:
            marked = ["·" if i in covered else w for i, w in enumerate(st)]
            # A run of term words is one slot: "General Secretary" and "Troika" fill it alike.
            skeletons.append(
                tuple(w for i, w in enumerate(marked) if w != "·" or marked[i - 1 : i] != ["·"])
            )
    counts = Counter(skeletons)
    shared = sum(n for n in counts.values() if n >= 3)
    return shared / len(stems) if stems else 0.0


def familiar_share(a: Analysis, familiar: frozenset[str]) -> float:
    """Share of the essay's adjacent word pairs (stems) that marked answers also use."""
    pairs = [f"{x} {y}" for st in a.stems for x, y in pairwise(st)]
    return sum(p in familiar for p in pairs) / len(pairs) if pairs else 0.0


def screen(
    a: Analysis,
    rubric: Rubric,
    sources: tuple[str, ...] = (),
    familiar: frozenset[str] | None = None,
) -> Screening:
    """Decide the flags for an analysed essay and what text is left to mark.

    `familiar` is the set of word pairs (stems) that a trained model saw in at least two
    marked answers; without it the word-order check is skipped.
    """
    doc, text = a.doc, a.doc.text
    words = doc.word_count
    flags: list[Flag] = []
    alpha = [t.norm for t in doc.tokens if t.norm.isalpha()]
    if not alpha:
        return Screening((Flag("empty", "There are no words to mark in this script.", 0),), text)
    if words < TOO_SHORT_WORDS:
        flags.append(
            Flag(
                "too_short",
                f"Only {words} words: too little to mark reliably; a full "
                "answer is usually 300 words or more.",
                _level_top(rubric, 1),
            )
        )

    # Measures of content look at each distinct sentence once: padding must not tip them.
    repeated = repeated_spans(doc, a.stems)
    repeats = {start for start, _ in repeated}
    unique = [i for i, sent in enumerate(doc.sentences) if sent.start not in repeats]
    alpha = [t.norm for i in unique for t in doc.sentences[i].tokens if t.norm.isalpha()] or alpha

    lexicon = lexicon_for(rubric)
    english = sum(lexicon.known(w) for w in alpha) / len(alpha)
    if len(alpha) >= 10 and english < ENGLISH_SHARE:
        language = _other_language(alpha)
        letters = [c for c in text.lower() if c.isalpha()]
        vowels = sum(c in "aeiouwyàáâäèéêëìíîïòóôöùúûüŵŷ" for c in letters) / len(letters)
        if language or vowels >= VOWEL_SHARE:
            named = f" (it looks like {language})" if language else ""
            flags.append(
                Flag(
                    "not_english",
                    f"This is not written in English{named}; only "
                    "answers in English can be marked here.",
                    0,
                )
            )
        else:
            flags.append(
                Flag("gibberish", "Most of this is not words: it looks like random text.", 0)
            )
        return Screening(tuple(flags), text)

    # Off-topic: none of the question's people and terms, or never its subject.
    on_subject = _mentions(rubric.topic_terms, a) and _mentions(rubric.subject_terms, a)
    familiar_pairs = familiar_share(a, familiar) if familiar and words >= TOO_SHORT_WORDS else 1.0
    if familiar_pairs < SALAD_FAMILIAR:
        flags.append(Flag("gibberish", "These are English words in no meaningful order.", 0))
        return Screening(tuple(flags), text)
    if on_subject and familiar_pairs < UNFAMILIAR:
        flags.append(
            Flag(
                "off_topic",
                "This does not read like an answer to this question: it "
                "may answer another question, or be nonsense.",
                0,
            )
        )
    if not on_subject:
        flags.append(
            Flag(
                "off_topic",
                "This does not answer the question: it names none of the "
                "people or terms the question is about.",
                0,
            )
        )

    # Keyword lists and terms dropped into sentences that say nothing.
    terms = _term_cues(rubric)
    covered_total, stuffed = 0, 0
    sentences = [(doc.sentences[i], a.stems[i]) for i in unique if a.stems[i]]
    for _, st in sentences:
        covered = {i for x, y in terms.find(st) for i in range(x, y)}
        covered_total += len(covered)
        if len(st) >= 3 and len(covered) >= 0.5 * len(st):
            stuffed += 1
    density = covered_total / max(1, words)
    templated = _templated_share([st for _, st in sentences], terms)
    function_share = sum(w in _FUNCTION_WORDS for w in alpha) / len(alpha)
    if words >= 15 and (
        density >= STUFFED_DENSITY
        or function_share < FUNCTION_SHARE
        or stuffed / max(1, len(sentences)) >= STUFFED_SENTENCES
        or templated >= TEMPLATED_SENTENCES
    ):
        flags.append(
            Flag(
                "keyword_stuffing",
                "Much of this is a list of names, dates and terms "
                "rather than sentences that explain: no better than Level 1.",
                _level_top(rubric, 1),
            )
        )

    # Fluent-looking nonsense: jargon piled on the topic's terms, crowding factors together.
    abstract = sum(len(w) > 6 and bool(_ABSTRACT.search(w)) for w in alpha) / len(alpha)
    crowded = [
        len({f for f, _ in a.coverage.sentences[i].roles})
        for i in unique
        if a.coverage.sentences[i].roles
    ]
    crowding = sum(crowded) / len(crowded) if crowded else 0.0
    if words >= 60 and (
        abstract >= ABSTRACT_ALONE
        or (abstract >= ABSTRACT_WITH_CROWDING and crowding >= CROWDED_FACTORS)
    ):
        flags.append(
            Flag(
                "gibberish",
                "This reads fluently but strings terms and jargon together "
                "without a meaningful argument.",
                0,
            )
        )

    # Padding and copying: blank those sentences so only the student's own words count.
    if _disordered(a, unique):
        flags.append(
            Flag(
                "disordered",
                "The signposts of the argument are out of order (the "
                "conclusion comes before the points it sums up), so the essay does not "
                "build an argument.",
                penalty=DISORDER_PENALTY,
            )
        )
    blank: list[tuple[int, int]] = []
    if repeated and _words_in(repeated, doc) >= REPEATED_SHARE * words:
        flags.append(
            Flag(
                "repetition",
                f"{len(repeated)} sentences repeat earlier ones word for "
                "word; the repeats earn no credit.",
            )
        )
        # Once padding is found, every repeat goes, headings and short lines too.
        blank += repeated_spans(doc, a.stems, min_words=1)
    copied = copied_spans(
        doc, a.stems, [rubric.question, *(s.text for s in rubric.sources), *sources]
    )
    if copied and _words_in(copied, doc) >= COPIED_SHARE * words:
        share = _words_in(copied, doc) / words
        flags.append(
            Flag(
                "copied_source",
                f"About {share:.0%} of this is copied from the question "
                "or a source; only the student's own words earn credit.",
            )
        )
        blank += copied
    return Screening(tuple(flags), _blank(text, blank) if blank else text)
