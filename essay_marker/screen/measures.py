"""What the screen measures: small functions from an analysed essay to a number.

Each measure is named in MEASURES and returns a Measurement (its value, the words a message
quotes, and any spans of the essay to blank). Which values raise which flag, and what a
flag does, is data: essay_marker/data/flags.toml, applied by flags.screen(). The numbers in this
module define what a measure counts (five words in a row make a copied run); the thresholds
that decide are in the data file, each with its reason.

It is long (about 800 lines) because it holds every measure, each short: one place to
look up a name flags.toml uses. A measure that grows past a screen belongs in its own module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib import resources
from itertools import pairwise

from essay_marker.analysis.coverage import CueSet, cue_set, within_period, year_of
from essay_marker.analysis.features import Analysis, word_pairs
from essay_marker.analysis.spag import lexicon_for
from essay_marker.rubric import Rubric
from essay_marker.text import Doc, Token, join_words, phrase_stems, stop_words

_NGRAM = 5  # words in a row that count as copied

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


@lru_cache(maxsize=8)
def _copy_grams(
    sources: tuple[str, ...], question: str
) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """The question's five-word runs, and the sources' runs that are not the question's."""
    question_grams = _source_grams((question,)) if question else frozenset()
    return question_grams, _source_grams(sources) - question_grams


def copied_spans(
    doc: Doc, stems: tuple[tuple[str, ...], ...], sources: list[str], question: str = ""
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Text copied from a source: every run of words that stands in one (five words or more
    in a row), wherever it is; and sentences that only restate the question.

    Answers restate the question ("Stalin was able to achieve total power mainly
    because…"), so a sentence counts as the question's copy only when fewer than three of
    its words are its own; such a restatement earns nothing but is no sign of copying.
    """
    question_grams, source_grams = _copy_grams(tuple(sources), question)
    copied, restated = [], []
    for sent, st in zip(doc.sentences, stems, strict=True):
        grams = [st[i : i + _NGRAM] for i in range(len(st) - _NGRAM + 1)]
        asked = {i + k for i, g in enumerate(grams) if g in question_grams for k in range(_NGRAM)}
        if asked and len(st) - len(asked) < 3:
            # Asked as a question ("So what was the main reason Stalin…?") it stays: it
            # earns nothing by itself, and the sentence after it may answer it.
            if not sent.text.rstrip().endswith("?"):
                restated.append((sent.start, sent.end))
            continue
        runs = {i + k for i, g in enumerate(grams) if g in source_grams for k in range(_NGRAM)}
        for run in _runs(sorted(runs)):
            copied.append((sent.tokens[run[0]].start, sent.tokens[run[-1]].end))
    return copied, restated


def _runs(positions: list[int]) -> list[list[int]]:
    """Sorted positions grouped into runs of consecutive ones."""
    runs: list[list[int]] = []
    for p in positions:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def _words_in(spans: list[tuple[int, int]], doc: Doc) -> int:
    """Words lying inside the spans."""
    inside = sorted(spans)
    return sum(any(a <= t.start and t.end <= b for a, b in inside) for t in doc.tokens)


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
def _everyday_words() -> tuple[frozenset[str], frozenset[str]]:
    """Nouns and verbs for everyday things (essay_marker/data/everyday.txt, from WordNet)."""
    text = (resources.files("essay_marker") / "data" / "everyday.txt").read_text(encoding="utf-8")
    nouns: set[str] = set()
    verbs: set[str] = set()
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
    # A superlative ("the most …") is no judgement, and outcomes ("they were outvoted")
    # left the causal cues in session 8, but the thresholds on these sentences were measured
    # counting them: they stay in, so their false-alarm figures still hold.
    cues = lang.causal + lang.judgement + _MEASURED_WITH
    return "becaus" in stems or bool(cue_set(cues).find(stems))


_MEASURED_WITH = ("the most", "outvote", "outvoted", "in power", "the leader")


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
    known, stop, lexicon = _answer_stems(rubric, familiar), stop_words(), lexicon_for(rubric)
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


def _content(tokens: tuple[Token, ...], stems: tuple[str, ...]) -> list[str]:
    stop = stop_words()
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


# --------------------------------------------------------------------------- the measures


@dataclass(frozen=True)
class Measurement:
    """A measure's value (None: not measurable here), the words a message quotes, and spans."""

    value: float | None
    detail: str = ""
    spans: tuple[tuple[int, int], ...] = ()


@dataclass
class Essay:
    """One analysed essay as the measures see it; shared work is computed once, when asked."""

    a: Analysis
    rubric: Rubric
    sources: tuple[str, ...] = ()
    familiar: frozenset[str] | None = None  # word pairs of marked answers (a trained model's)
    credited: frozenset[str] | None = None  # ... of answers at Level 2 or above
    _cache: dict[str, Measurement] = field(default_factory=dict, repr=False)

    def measure(self, name: str) -> Measurement:
        """The named measure's result (computed once)."""
        if name not in self._cache:
            self._cache[name] = MEASURES[name](self)
        return self._cache[name]

    @property
    def doc(self) -> Doc:
        return self.a.doc

    @property
    def words(self) -> int:
        return self.a.doc.word_count

    @cached_property
    def repeated(self) -> list[tuple[int, int]]:
        """Sentences of five or more words said word for word before."""
        return repeated_spans(self.doc, self.a.stems)

    @cached_property
    def unique(self) -> list[int]:
        """Sentences that are not repeats: content measures read each once, so padding
        cannot tip them."""
        repeats = {start for start, _ in self.repeated}
        return [i for i, s in enumerate(self.doc.sentences) if s.start not in repeats]

    @cached_property
    def alpha(self) -> list[str]:
        """The words (letters only) of the distinct sentences."""
        every = [t.norm for t in self.doc.tokens if t.norm.isalpha()]
        once = [t.norm for i in self.unique for t in self.doc.sentences[i].tokens]
        return [w for w in once if w.isalpha()] or every

    @cached_property
    def terms(self) -> tuple[list[tuple[int, int]], int, int, float, float]:
        """List lines, sentences mostly terms, sentences read, term density, templated share."""
        cues = _term_cues(self.rubric)
        covered_total = stuffed = 0
        listed: list[tuple[int, int]] = []
        sentences = [(self.doc.sentences[i], self.a.stems[i]) for i in self.unique]
        sentences = [(s, st) for s, st in sentences if st]
        covered_in: dict[tuple[str, ...], set[int]] = {}
        for sent, st in sentences:
            if st not in covered_in:
                covered_in[st] = {i for x, y in cues.find(st) for i in range(x, y)}
            covered = covered_in[st]
            covered_total += len(covered)
            stuffed += len(st) >= 3 and len(covered) >= 0.5 * len(st)
            # A line of eight or more words, 85% of them terms, is a list, not a sentence.
            if len(st) >= 8 and len(covered) >= 0.85 * len(st):
                listed.append((sent.start, sent.end))
        density = covered_total / max(1, self.words)
        templated = _templated_share([st for _, st in sentences], covered_in)
        return listed, stuffed, len(sentences), density, templated

    @cached_property
    def circular(self) -> tuple[int, int, str | None]:
        """Sentences with "because", how many only restate what they explain, the first."""
        return circular(self.a)

    @cached_property
    def outside(self) -> tuple[int, int, list[str]] | None:
        """Sentences about other years than the question's, sentences about its reasons in
        its years, and the first few outside things named, in the student's words (None
        for a rubric with no period)."""
        period = self.rubric.period
        if period is None:
            return None
        dated_out = {s.start for s in self.a.coverage.out_of_period}
        cues = _outside_cues(self.rubric)
        outside = inside = 0
        named: dict[str, str] = {}  # key -> the student's words, first use first
        for i in self.unique:
            sent, stems = self.doc.sentences[i], self.a.stems[i]
            found = cues.find(stems)
            if sent.heading or not (found or sent.start in dated_out):
                inside += bool(not sent.heading and self.a.coverage.sentences[i].roles)
                continue
            outside += 1
            for a, b in found:
                key = " ".join(stems[a:b])
                named.setdefault(key, self.doc.text[sent.tokens[a].start : sent.tokens[b - 1].end])
            for t in sent.tokens:  # and its first year outside the question's
                y = year_of(t.norm)
                if y is not None and not within_period(y, period):
                    named.setdefault(t.norm, t.text)
                    break
        return outside, inside, list(named.values())

    @cached_property
    def anchors(self) -> Anchoring | None:
        """How the reasons rest on things marked answers talk about (needs a trained model)."""
        if not self.familiar:
            return None
        return anchoring(self.a, self.rubric, self.familiar, self.unique, self.credited)


def _share(n: float, of: float) -> float | None:
    return n / of if of else None


def _letters(e: Essay) -> Measurement:
    return Measurement(sum(t.norm.isalpha() for t in e.doc.tokens))


def _words(e: Essay) -> Measurement:
    return Measurement(e.words, f"{e.words}")


def _english_share(e: Essay) -> Measurement:
    lexicon = lexicon_for(e.rubric)
    return Measurement(_share(sum(lexicon.known(w) for w in e.alpha), len(e.alpha)))


def _other_language_found(e: Essay) -> Measurement:
    language = _other_language(e.alpha)
    return Measurement(1.0 if language else 0.0, f" (it looks like {language})" if language else "")


def _vowel_share(e: Essay) -> Measurement:
    letters = [c for c in e.doc.text.lower() if c.isalpha()]
    vowels = sum(c in "aeiouwyàáâäèéêëìíîïòóôöùúûüŵŷ" for c in letters)
    return Measurement(_share(vowels, len(letters)))


def _familiar_pairs(e: Essay) -> Measurement:
    return Measurement(familiar_share(e.a, e.familiar) if e.familiar else None)


def _topic_sentences(e: Essay) -> Measurement:
    """Sentences that name something of the rubric's topic: its people, events and terms
    (names, topic and subject words, the factors' evidence, the dated events), on stems,
    misspelt names forgiven. A factor's cue phrases alone do not count: many are words any
    essay on power uses ("ruthless", "propaganda"). 0: the essay names none of it."""
    cues = _topic_cues(e.rubric)
    if not cues.firsts:
        return Measurement(None)  # a rubric naming no topic words: nothing to measure by
    return Measurement(sum(bool(cues.find(e.a.stems[i])) for i in e.unique))


@cache
def _topic_cues(rubric: Rubric) -> CueSet:
    # Not the specialist terms: they are credited vocabulary (propaganda, dictatorship) that
    # an essay on another dictator uses as readily.
    words = [*rubric.terms, *rubric.topic_terms, *rubric.subject_terms]
    words += [e for f in rubric.factors for e in f.evidence]
    words += [c for d in rubric.dates for c in d.cues]
    return CueSet(words)


@cache
def _outside_cues(rubric: Rubric) -> CueSet:
    return CueSet(rubric.outside_terms)


def _outside_share(e: Essay) -> Measurement:
    """Share of the sentences about the question's reasons or about other years that are
    about other years (dated outside its period, or naming its outside_terms): most of an
    answer about the purges of the 1930s is about them. None for a rubric with no period."""
    if e.outside is None or e.rubric.period is None:
        return Measurement(None)
    outside, inside, named = e.outside
    first, last = e.rubric.period
    detail = f"things outside the years the question asks about ({first}–{last})"
    detail += f", such as {join_words(named[:3])}" if named else ""
    return Measurement(_share(outside, outside + inside), detail)


def _outside_sentences(e: Essay) -> Measurement:
    return Measurement(e.outside[0] if e.outside else None)


def _term_density(e: Essay) -> Measurement:
    return Measurement(e.terms[3])


def _stuffed_sentences(e: Essay) -> Measurement:
    return Measurement(_share(e.terms[1], e.terms[2]) or 0.0)


def _templated_sentences(e: Essay) -> Measurement:
    return Measurement(e.terms[4])


def _function_share(e: Essay) -> Measurement:
    return Measurement(_share(sum(w in _FUNCTION_WORDS for w in e.alpha), len(e.alpha)))


def _list_lines(e: Essay) -> Measurement:
    listed = e.terms[0]
    lines = "line only lists" if len(listed) == 1 else "lines only list"
    return Measurement(len(listed), f"{len(listed)} {lines}", tuple(listed))


def _abstract_share(e: Essay) -> Measurement:
    """Share of long abstract words (-ism, -tion, -ity…) that are not the rubric's own
    vocabulary: an essay on patience says "patience" often, and that is not jargon."""
    own = _vocabulary(e.rubric)
    hits = sum(len(w) > 6 and bool(_ABSTRACT.search(w)) and w not in own for w in e.alpha)
    return Measurement(_share(hits, len(e.alpha)))


@cache
def _vocabulary(rubric: Rubric) -> frozenset[str]:
    """Every word the rubric's question, terms and topic use, lower-cased."""
    phrases = [rubric.question, rubric.title, *rubric.terms, *rubric.specialist_terms]
    phrases += [*rubric.topic_terms, *rubric.subject_terms]
    phrases += [p for f in rubric.factors for p in (f.name, f.short, *f.cues, *f.evidence)]
    return frozenset(w for p in phrases for w in re.findall(r"[a-z]+", p.lower()))


def _crowding(e: Essay) -> Measurement:
    """Mean distinct factors per sentence that names any."""
    crowded = [
        len({f for f, _ in e.a.coverage.sentences[i].roles})
        for i in e.unique
        if e.a.coverage.sentences[i].roles
    ]
    return Measurement(_share(sum(crowded), len(crowded)) or 0.0)


def _reasons(e: Essay) -> Measurement:
    return Measurement(e.anchors.reasons if e.anchors else None)


def _things(e: Essay) -> str:
    return ", ".join(_word_for(w, e.a) for w in e.anchors.things[:4]) if e.anchors else ""


def _unknown_reasons(e: Essay) -> Measurement:
    x = e.anchors
    return Measurement(_share(x.unknown, x.reasons) if x else None, _things(e))


def _recurring_reasons(e: Essay) -> Measurement:
    x = e.anchors
    return Measurement(_share(x.recurring, x.reasons) if x else None, _things(e))


def _everyday_reasons(e: Essay) -> Measurement:
    x = e.anchors
    if x is None:
        return Measurement(None)
    return Measurement(x.everyday, f"{x.everyday}: {', '.join(x.everyday_things[:4])}")


def _wrong_facts(e: Essay) -> Measurement:
    wrong = e.a.coverage.misconceptions
    return Measurement(len(wrong), "; ".join(m.claim for m in wrong[:3]))


def _wrong_facts_per_100_words(e: Essay) -> Measurement:
    return Measurement(100 * len(e.a.coverage.misconceptions) / max(1, e.words))


def _circular_explanations(e: Essay) -> Measurement:
    _, restated, example = e.circular
    return Measurement(restated, _clip(example or ""))


def _circular_share(e: Essay) -> Measurement:
    because, restated, _ = e.circular
    return Measurement(_share(restated, because) or 0.0)


def _disorder(e: Essay) -> Measurement:
    # Order is read from each sentence's first copy: pasted repeats are not out of order.
    again = {start for start, _ in repeated_spans(e.doc, e.a.stems, min_words=1)}
    why = disorder(e.a, [i for i, s in enumerate(e.doc.sentences) if s.start not in again])
    return Measurement(1.0 if why else 0.0, why or "")


def _repeated_words(e: Essay) -> Measurement:
    """Share of the words in sentences said before; every repeat (short ones too) is blanked."""
    share = _share(_words_in(e.repeated, e.doc), e.words) or 0.0
    spans = repeated_spans(e.doc, e.a.stems, min_words=1)
    return Measurement(share, f"{len(e.repeated)}", tuple(spans))


def _copied_words(e: Essay) -> Measurement:
    """Share of the words copied from the rubric's sources or the texts given with --source.
    Every copied run, and every sentence that only restates the question, is blanked."""
    texts = [*(s.text for s in e.rubric.sources), *e.sources]
    copied, restated = copied_spans(e.doc, e.a.stems, texts, e.rubric.question)
    share = _share(_words_in(copied, e.doc), e.words) or 0.0
    return Measurement(share, f"{share:.0%}", (*copied, *restated))


MEASURES: dict[str, Callable[[Essay], Measurement]] = {
    "letters": _letters,
    "words": _words,
    "english_share": _english_share,
    "other_language": _other_language_found,
    "vowel_share": _vowel_share,
    "familiar_pairs": _familiar_pairs,
    "topic_sentences": _topic_sentences,
    "term_density": _term_density,
    "stuffed_sentences": _stuffed_sentences,
    "templated_sentences": _templated_sentences,
    "function_share": _function_share,
    "list_lines": _list_lines,
    "abstract_share": _abstract_share,
    "crowding": _crowding,
    "reasons": _reasons,
    "unknown_reasons": _unknown_reasons,
    "recurring_reasons": _recurring_reasons,
    "everyday_reasons": _everyday_reasons,
    "wrong_facts": _wrong_facts,
    "wrong_facts_per_100_words": _wrong_facts_per_100_words,
    "circular_explanations": _circular_explanations,
    "circular_share": _circular_share,
    "disorder": _disorder,
    "repeated_words": _repeated_words,
    "copied_words": _copied_words,
    "outside_share": _outside_share,
    "outside_sentences": _outside_sentences,
}
