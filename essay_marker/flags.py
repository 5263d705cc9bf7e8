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
from importlib import resources
from itertools import pairwise

from essay_marker.coverage import CueSet, cue_set
from essay_marker.features import Analysis, word_pairs
from essay_marker.rubric import Rubric
from essay_marker.spag import lexicon_for
from essay_marker.text import Doc, Token, phrase_stems

TOO_SHORT_WORDS = 40
_NGRAM = 5  # words in a row that count as copied
# Thresholds were set on the project's corpus and held-out set so that fewer than 1% of
# genuine scripts trip any of them (benchmarks/RESULTS.md has the counts).
ENGLISH_SHARE = 0.5  # below this share of known English words, not an English answer
STUFFED_DENSITY = 0.5  # share of words that are rubric terms
STUFFED_SENTENCES = 0.3  # share of sentences that are mostly rubric terms
LIST_LINE = 8, 0.85  # words, share of them rubric terms: a list of terms, not a sentence
FUNCTION_SHARE = 0.2  # below this, the words do not form sentences
ABSTRACT_ALONE, ABSTRACT_WITH_CROWDING = 0.085, 0.06  # jargon-heavy "fluent nonsense"
CROWDED_FACTORS = 2.3  # mean distinct factors per sentence that names any
DISORDER_PENALTY = 3  # marks lost when the argument's signposts are out of order
SALAD_FAMILIAR, UNFAMILIAR = 0.15, 0.45  # share of word pairs seen in marked answers
VOWEL_SHARE = 0.35  # languages have vowels; keyboard mashing has few
TEMPLATED_SENTENCES = 0.25  # share of sentences that are one template with terms swapped
REPEATED_SHARE = 0.2  # share of words in sentences that repeat earlier ones
COPIED_SHARE = 0.3  # share of words in sentences copied from a source
# Fluent nonsense built on the question's vocabulary: nearly every sentence that gives a
# reason rests on words no marked answer and nothing in the rubric uses (potatoes, weather,
# a football team), or its explanations only restate what they explain.
UNANCHORED_SHARE = 0.85  # of the sentences that give a reason
RECURRING_SHARE = 0.35  # of them, resting on an unknown thing the essay keeps returning to
# ... or most of them do, and half come back to the same unknown things (invented customs).
UNANCHORED_MOST, RECURRING_HALF = 0.65, 0.5
# Reasons resting on everyday things no answer mentions (his boots, a parrot, beetroot soup):
# genuine scripts have at most 2 such sentences, and none outside a comparison ("like a…").
EVERYDAY_REASONS = 3
FALSE_FACTS = 4  # distinct wrong facts (and at least one per 100 words): made up, not mistaken
UNANCHORED_MIN = 5  # sentences giving a reason before the shares are trusted
CIRCULAR_MIN, CIRCULAR_SHARE = 2, 0.25  # "… because it was important", of "because" sentences

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
    """The flags, and the text to mark once padding, copying and term lists are blanked."""

    flags: tuple[Flag, ...]
    marked_text: str


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


# Signposts that order an argument, by their place in it; a conclusion comes last.
_CONCLUSION = 9
_SIGNPOSTS = {
    ("firstly",): 1,
    ("first", "of", "all"): 1,
    ("secondly",): 2,
    ("thirdly",): 3,
    ("fourthly",): 4,
    ("in", "conclusion"): _CONCLUSION,
    ("to", "conclude"): _CONCLUSION,
    ("to", "sum", "up"): _CONCLUSION,
    ("in", "summary"): _CONCLUSION,
    ("to", "summarise"): _CONCLUSION,
    ("to", "summarize"): _CONCLUSION,
}
# "Overall" and "All in all" also open a thesis or sum up a paragraph (real ASAP essays
# did both), so they count as judgements but do not mark the conclusion's place.
# Openings that carry on a point already made: an essay cannot start with them.
_CONTINUING = frozenset(
    "however therefore thus hence furthermore moreover consequently nevertheless similarly "  # noqa: SIM905
    "likewise secondly thirdly fourthly finally lastly another these those also but then "
    "later afterwards meanwhile instead".split()
)
# Word by word, so "As a result" counts and "As a Georgian" does not.
_CONTINUING_PHRASES = (
    ("this", "meant"),
    ("this", "means"),
    ("this", "allowed"),
    ("this", "shows"),
    ("this", "made"),
    ("this", "gave"),
    ("this", "helped"),
    ("this", "led"),
    ("this", "was", "important"),
    ("this", "is", "why"),
    ("that", "meant"),
    ("that", "is", "why"),
    ("as", "a", "result"),
    ("because", "of", "this"),
    ("because", "of", "that"),
    ("in", "addition"),
)
# Openings of a new point, which cannot close an essay.
_NEW_POINT = frozenset({"firstly", "secondly", "thirdly", "fourthly", "another"})
# A judgement on the main reason, as a conclusion gives it.
_JUDGING = CueSet(
    [
        "main reason",
        "most important",
        "key reason",
        "main factor",
        "key factor",
        "biggest reason",
        "biggest factor",
        "most significant",
        "the real reason",
        "above all",
        "more important than",
        "primary reason",
        "decisive factor",
        "crucial factor",
        *(" ".join(words) for words, rank in _SIGNPOSTS.items() if rank == _CONCLUSION),
        "overall",
        "all in all",
    ]
)


def _signpost(words: tuple[str, ...]) -> int | None:
    return next((rank for post, rank in _SIGNPOSTS.items() if words[: len(post)] == post), None)


def disorder(a: Analysis, unique: list[int]) -> str | None:
    """Why the argument's signposts are out of order (essays of 8+ sentences), or None.

    Each check was chosen because no genuine script in the corpus trips it, while a strong
    essay with its sentences shuffled usually trips one (benchmarks/RESULTS.md).
    """
    order = [i for i in unique if a.stems[i] and not a.doc.sentences[i].heading]
    n = len(order)
    if n < 8:
        return None
    sentences = [a.doc.sentences[i] for i in order]
    openings = [tuple(t.norm for t in s.tokens[:3]) for s in sentences]
    posts = [(pos, rank) for pos, w in enumerate(openings) if (rank := _signpost(w))]
    for pos, rank in posts:
        if rank == _CONCLUSION and pos < 0.67 * (n - 1):
            return f"it concludes (“{_clip(sentences[pos].text)}”) before the points it sums up"
    for (first, r1), (then, r2) in pairwise(posts):
        if r1 > r2:
            return (
                f"“{_clip(sentences[first].text, 40)}” comes before "
                f"“{_clip(sentences[then].text, 40)}”"
            )
    opening = openings[0]
    if opening[0] in _CONTINUING or any(opening[: len(p)] == p for p in _CONTINUING_PHRASES):
        return f"it opens mid-argument (“{_clip(sentences[0].text)}”), not with an introduction"
    if openings[-1][0] in _NEW_POINT:
        return f"it ends by starting a new point (“{_clip(sentences[-1].text)}”)"
    judged = [pos for pos, i in enumerate(order) if _JUDGING.find(a.stems[i])]
    if len(judged) >= 2 and judged[-1] < 0.6 * (n - 1):
        return "its last judgement on the main reason comes long before the end"
    return None


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


def _templated_share(
    stems: list[tuple[str, ...]], covered_in: dict[tuple[str, ...], set[int]]
) -> float:
    """Share of sentences whose wording, with the rubric's terms taken out, another one repeats.

    `covered_in` gives each sentence's word positions that are rubric terms.
    """
    skeletons = []
    for st in dict.fromkeys(stems):  # exact repeats are the repetition check's business
        covered = covered_in[st]
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
    pairs = word_pairs(a)
    return sum(p in familiar for p in pairs) / len(pairs) if pairs else 0.0


@cache
def _answer_stems(rubric: Rubric, familiar: frozenset[str]) -> frozenset[str]:
    """Stems that marked answers (their familiar word pairs) or the rubric use."""
    stems = {w for pair in familiar for w in pair.split()}
    lang = rubric.language
    phrases = [
        rubric.question,
        *rubric.terms,
        *rubric.specialist_terms,
        *rubric.topic_terms,
        *rubric.subject_terms,
        *lang.causal,
        *lang.causal_openers,
        *lang.weighing,
        *lang.judgement,
        *lang.connectives,
    ]
    for f in rubric.factors:
        phrases += [f.name, f.short, *f.cues, *f.evidence]
    for phrase in phrases:
        stems.update(phrase_stems(phrase))
    return frozenset(stems)


@cache
def _stop_words() -> frozenset[str]:
    # Imported here: only a trained model's screening needs the list.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@cache
def _everyday_words() -> tuple[frozenset[str], frozenset[str]]:
    """Nouns and verbs for everyday things (essay_marker/everyday.txt, from WordNet)."""
    text = (resources.files("essay_marker") / "everyday.txt").read_text(encoding="utf-8")
    nouns, verbs = set(), set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            kind, word = line.split()
            (nouns if kind == "n" else verbs).add(word)
    return frozenset(nouns), frozenset(verbs)


def everyday(word: str) -> bool:
    """True for a lower-case word whose usual sense is an everyday thing or bodily act."""
    nouns, verbs = _everyday_words()
    if word in nouns or word in verbs:
        return True
    plural = [word[:-3] + "y"] if word.endswith("ies") else []
    if word.endswith("s") and not word.endswith("ss"):
        plural += [word[:-1], word[:-2]]
    if any(w in nouns or w in verbs for w in plural):
        return True
    # Verbs only for -ed and -ing: "armed" is not an arm, "chewed" is chewing.
    forms = []
    for end in ("ed", "ing"):
        if word.endswith(end):
            base = word[: -len(end)]
            forms += [base, base + "e"]
            if len(base) > 3 and base[-1] == base[-2]:
                forms.append(base[:-1])  # chatted -> chat
    if word.endswith("ied"):
        forms.append(word[:-3] + "y")
    return any(w in verbs for w in forms)


# A comparison is the student's own analogy, not a claim about what happened.
_COMPARING = re.compile(
    r"\b(?:like|as if|as though|similar to|compared (?:to|with)|imagine|analogy)\b", re.I
)


def _reasoning(stems: tuple[str, ...], rubric: Rubric) -> bool:
    """True when a sentence gives a reason or a judgement (because, this meant, main reason)."""
    lang = rubric.language
    return "becaus" in stems or bool(cue_set(lang.causal + lang.judgement).find(stems))


@dataclass(frozen=True)
class Anchoring:
    """How far the sentences that give reasons rest on what answers to the question talk about."""

    reasons: int  # sentences that give a reason or a judgement
    unknown: int  # of those, resting on a word no marked answer and nothing in the rubric uses
    recurring: int  # of those, resting on such a word that the essay keeps coming back to
    things: tuple[str, ...]  # the recurring unknown words, most used first
    everyday: int  # reasons resting on an unknown everyday thing, outside a comparison
    everyday_things: tuple[str, ...]  # those things, in the student's words, first used first


def anchoring(
    a: Analysis,
    rubric: Rubric,
    familiar: frozenset[str],
    unique: list[int] | None = None,
    credited: frozenset[str] | None = None,
) -> Anchoring:
    """Count the reasons an essay gives that rest on things no answer to the question uses.

    A word is unknown when no familiar word pair of the marked answers and nothing in the
    rubric has its stem; it must be a correctly spelt word or a name (a slip is not a new
    thing), and not a stop word. Recurring means used in two or more sentences. Everyday
    things are unknown lower-case words for objects, food, bodies, animals or plants, not
    counted in a comparison or once a comparison has brought them in; they are judged by the
    `credited` pairs (answers at Level 2 or above), since a moustache that only Level 1
    answers mention does not make it a reason. Only the sentences listed in `unique` are
    read, so that padding cannot make a word recur.
    """
    read = range(len(a.doc.sentences)) if unique is None else unique
    sentences = [(a.doc.sentences[i], a.stems[i]) for i in read]
    known, stop, lexicon = _answer_stems(rubric, familiar), _stop_words(), lexicon_for(rubric)
    # Credited pairs are a subset of the familiar ones, so every unknown word is uncredited.
    credited_known = _answer_stems(rubric, credited) if credited else known
    unknown_in: list[dict[str, Token]] = []
    uncredited_in: list[dict[str, Token]] = []
    for sent, stems in sentences:
        fresh = {
            st: t
            for t, st in zip(sent.tokens, stems, strict=True)
            if len(t.norm) >= 3
            and t.norm.isalpha()
            and t.norm not in stop
            and st not in credited_known
            and (
                lexicon.known(t.text) or (t.text[:1].isupper() and lexicon.term_for(t.text) is None)
            )
        }
        unknown_in.append({st: t for st, t in fresh.items() if st not in known})
        uncredited_in.append({st: t for st, t in fresh.items() if st not in credited_known})
    sentences_with = Counter(st for here in unknown_in for st in here)
    reasons = unknown = recurring = everyday_reasons = 0
    things: Counter[str] = Counter()
    compared: set[str] = set()
    everyday_things: dict[str, None] = {}
    for (sent, stems), here, uncredited in zip(sentences, unknown_in, uncredited_in, strict=True):
        ordinary = {
            st: t.norm for st, t in uncredited.items() if t.text[:1].islower() and everyday(t.norm)
        }
        if _COMPARING.search(sent.text):
            compared.update(ordinary)
            ordinary = {}
        if sent.heading or not _reasoning(stems, rubric):
            continue
        reasons += 1
        unknown += bool(here)
        # In the order the words stand (not a set's): messages are the same on every run.
        again = [st for st in here if sentences_with[st] >= 2]
        recurring += bool(again)
        things.update({st: sentences_with[st] for st in again})
        ordinary = {st: w for st, w in ordinary.items() if st not in compared}
        everyday_reasons += bool(ordinary)
        everyday_things.update(dict.fromkeys(ordinary.values()))
    return Anchoring(
        reasons,
        unknown,
        recurring,
        tuple(w for w, _ in things.most_common()),
        everyday_reasons,
        tuple(everyday_things),
    )


def _unanchored(x: Anchoring) -> bool:
    """Nearly all reasons rest on unknown things, or most do and half keep returning to them."""
    if x.reasons < UNANCHORED_MIN:
        return False
    return (
        x.unknown >= UNANCHORED_SHARE * x.reasons and x.recurring >= RECURRING_SHARE * x.reasons
    ) or (x.unknown >= UNANCHORED_MOST * x.reasons and x.recurring >= RECURRING_HALF * x.reasons)


def _content(tokens: tuple[Token, ...], stems: tuple[str, ...]) -> list[str]:
    stop = _stop_words()
    return [
        st
        for t, st in zip(tokens, stems, strict=True)
        if t.norm.isalpha() and len(t.norm) >= 3 and t.norm not in stop
    ]


def _word_for(stem: str, a: Analysis) -> str:
    """The student's own spelling of the first word with this stem."""
    return next(
        (
            t.norm
            for sent, stems in zip(a.doc.sentences, a.stems, strict=True)
            for t, st in zip(sent.tokens, stems, strict=True)
            if st == stem
        ),
        stem,
    )


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def circular(a: Analysis) -> tuple[int, int, str | None]:
    """Sentences with "because", how many only restate what they explain, and the first one."""
    because = restated = 0
    first = None
    for sent, stems in zip(a.doc.sentences, a.stems, strict=True):
        if "becaus" not in stems:
            continue
        because += 1
        i = stems.index("becaus")
        before = set(_content(sent.tokens[:i], stems[:i]))
        after = _content(sent.tokens[i + 1 :], stems[i + 1 :])
        # "important because it was important": what follows adds nothing new.
        if before and after and sum(w in before for w in after) >= 0.67 * len(after):
            restated += 1
            first = first or sent.text
    return because, restated, first


def screen(
    a: Analysis,
    rubric: Rubric,
    sources: tuple[str, ...] = (),
    familiar: frozenset[str] | None = None,
    credited: frozenset[str] | None = None,
) -> Screening:
    """Decide the flags for an analysed essay and what text is left to mark.

    `familiar` is the set of word pairs (stems) that a trained model saw in at least two
    marked answers; without it the word-order check is skipped. `credited` is the same for
    answers at Level 2 or above (the familiar pairs when not given).
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
                rubric.highest_mark(1),
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
    listed: list[tuple[int, int]] = []  # lines that only list terms (genuine ones stay < 0.75)
    sentences = [(doc.sentences[i], a.stems[i]) for i in unique if a.stems[i]]
    covered_in: dict[tuple[str, ...], set[int]] = {}
    for sent, st in sentences:
        if st not in covered_in:
            covered_in[st] = {i for x, y in terms.find(st) for i in range(x, y)}
        covered = covered_in[st]
        covered_total += len(covered)
        if len(st) >= 3 and len(covered) >= 0.5 * len(st):
            stuffed += 1
        if len(st) >= LIST_LINE[0] and len(covered) >= LIST_LINE[1] * len(st):
            listed.append((sent.start, sent.end))
    density = covered_total / max(1, words)
    templated = _templated_share([st for _, st in sentences], covered_in)
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
                rubric.highest_mark(1),
            )
        )
        listed = []  # a script that is mostly lists is capped, and marked as it stands
    elif listed:
        # A list added to real sentences: the sentences are marked, the list earns nothing.
        lines = "line only lists" if len(listed) == 1 else "lines only list"
        flags.append(
            Flag(
                "keyword_stuffing",
                f"{len(listed)} {lines} names, dates and terms; a list earns no credit, "
                "only sentences that explain.",
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
    nonsense = None
    if words >= 60 and (
        abstract >= ABSTRACT_ALONE
        or (abstract >= ABSTRACT_WITH_CROWDING and crowding >= CROWDED_FACTORS)
    ):
        nonsense = (
            "This reads fluently but strings terms and jargon together without a "
            "meaningful argument."
        )
    if nonsense is None and words >= 60:
        # Comparing with marked answers needs a trained model's familiar word pairs.
        anchors = anchoring(a, rubric, familiar, unique, credited) if familiar else None
        because, restated, example = circular(a)
        if anchors and _unanchored(anchors):
            named = ", ".join(_word_for(w, a) for w in anchors.things[:4])
            nonsense = (
                f"Most of the reasons it gives rest on things no marked answer or the mark "
                f"scheme mentions ({named}): it reads fluently but may be made up."
            )
        elif anchors and anchors.everyday >= EVERYDAY_REASONS:
            named = ", ".join(anchors.everyday_things[:4])
            nonsense = (
                f"{anchors.everyday} of its reasons rest on everyday things that no marked "
                f"answer or the mark scheme mentions ({named}): the explanations look made up."
            )
        elif len(wrong := a.coverage.misconceptions) >= max(FALSE_FACTS, words / 100):
            named = "; ".join(m.claim for m in wrong[:3])
            nonsense = (
                f"{len(wrong)} of its facts are wrong ({named}; …): it reads fluently but the "
                "history is muddled or made up."
            )
        elif restated >= CIRCULAR_MIN and restated >= CIRCULAR_SHARE * because:
            nonsense = (
                f"Its explanations go round in circles (“{_clip(example or '')}”): it "
                "reads fluently but says nothing."
            )
    if nonsense:
        flags.append(Flag("gibberish", nonsense, 0))

    # Padding and copying: blank those sentences so only the student's own words count.
    # Order is read from each sentence's first copy: pasted repeats are not out of order.
    again = {start for start, _ in repeated_spans(doc, a.stems, min_words=1)}
    out_of_order = disorder(a, [i for i, s in enumerate(doc.sentences) if s.start not in again])
    if out_of_order:
        # No sustained argument: the top level is out of reach, and the muddle costs marks.
        flags.append(
            Flag(
                "disordered",
                f"The argument is out of order: {out_of_order}, so the essay does not "
                "build an argument.",
                cap=rubric.highest_mark(rubric.top_level - 1),
                penalty=DISORDER_PENALTY,
            )
        )
    # A sentence said again earns nothing, however little of the essay it is (a paragraph
    # pasted twice once raised weak essays by 2-4 marks below the padding share); the
    # flag is for padding that is a material share of the essay.
    blank: list[tuple[int, int]] = [*listed, *repeated_spans(doc, a.stems, min_words=1)]
    if repeated and _words_in(repeated, doc) >= REPEATED_SHARE * words:
        flags.append(
            Flag(
                "repetition",
                f"{len(repeated)} sentences repeat earlier ones word for "
                "word; the repeats earn no credit.",
            )
        )
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
