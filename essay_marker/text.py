"""The text pipeline: paragraphs, sentences, tokens, stems and a word list, with offsets.

This is the only module that imports NLTK, and it uses only the parts that need no
downloaded data (Punkt with hand-set parameters, a regexp tokeniser, the Snowball stemmer,
edit distance), so essaymark works offline on a school laptop.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, TypeVar

from nltk.metrics.distance import edit_distance
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# Abbreviations essays use; Punkt must not end a sentence after them.
ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "vs",
        "c",
        "ca",
        "approx",
        "no",
        "gen",
        "sec",
        "u.s.s.r",
        "u.s.a",
        "u.k",
        "u.s",
        "jan",
        "feb",
        "aug",
        "sept",
        "oct",
        "nov",
        "dec",
        "govt",
        "dept",
        "esp",
    ]
)
# Invisible format characters that copy-paste leaves inside words: soft hyphen, zero-width
# space and joiners, word joiner, byte-order mark, direction marks. A word keeps them (so
# offsets stay those of the original text) and its normal form drops them.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_LETTER = rf"[^\W_][{INVISIBLE}]*"
# Words, with an inner apostrophe ("didn't", "Lenin's") kept in one token; hyphens split.
_WORD = RegexpTokenizer(rf"(?:{_LETTER})+(?:['’](?:{_LETTER})+)*")
_DROP_INVISIBLE = str.maketrans("", "", INVISIBLE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# Punkt leaves "…in 1922. this meant…" whole because the next word has no capital;
# students often write that way, so a full stop before any word ends a sentence.
_LOWER_START = re.compile(r"(?<=[^\W_][.!?])\s+(?=[a-z])")
_LINE_BREAK = re.compile(r"\n")


@dataclass(frozen=True)
class Token:
    """One word of the student's text with its offsets, normal form and stem."""

    text: str
    start: int
    end: int
    norm: str
    stem: str


@dataclass(frozen=True)
class Sentence:
    """One sentence: its offsets in the essay, its paragraph number and its words."""

    index: int
    start: int
    end: int
    text: str
    paragraph: int
    tokens: tuple[Token, ...]
    heading: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        """The stems of the sentence's words, in order."""
        return tuple(t.stem for t in self.tokens)


@dataclass(frozen=True)
class Doc:
    """An analysed essay: the original text and its sentences; offsets index `text`."""

    text: str
    sentences: tuple[Sentence, ...]
    paragraph_count: int

    @property
    def tokens(self) -> tuple[Token, ...]:
        """Every word token in order."""
        return tuple(t for s in self.sentences for t in s.tokens)

    @property
    def word_count(self) -> int:
        """Number of words."""
        return sum(len(s.tokens) for s in self.sentences)


T = TypeVar("T")
_stemmer = SnowballStemmer("english")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Snowball stem of an already-normalised word; digits are kept as they are."""
    return word if word.isdigit() else _stemmer.stem(word)


def normalise(word: str) -> str:
    """Lower-case, curly quotes straightened, possessive 's dropped, apostrophes removed.

    Other than ASCII, the word is first put in Unicode NFKC form with invisible characters
    removed, so "Sta\u00adlin" and a full-width "Ｓｔａｌｉｎ" read as "stalin".
    """
    if not word.isascii():
        word = unicodedata.normalize("NFKC", word.translate(_DROP_INVISIBLE))
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w.replace("'", "")


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """Stems of a cue phrase, normalised exactly as essay words are."""
    return tuple(stem(normalise(w)) for w in _WORD.tokenize(phrase))


def _punkt() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


_PUNKT = _punkt()


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a paragraph at line breaks that end a sentence or a list item."""
    spans, pos = [], start
    for m in _LINE_BREAK.finditer(text, start, end):
        before = text[pos : m.start()].rstrip()
        after = text[m.end() : end].lstrip()
        ends_sentence = before.endswith((".", "!", "?", ":", ";"))
        short_line = len(before) < 60 and after[:1].isupper()
        if before and (ends_sentence or short_line or after[:1] in "-*•0123456789"):
            spans.append((pos, m.start()))
            pos = m.end()
    spans.append((pos, end))
    return spans


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for a, b in _line_spans(text, start, end):
        chunk = text[a:b]
        for s, e in _PUNKT.span_tokenize(chunk):
            pos = s
            for m in _LOWER_START.finditer(chunk, s, e):
                prev = chunk[pos : m.start()].split()
                last = prev[-1].rstrip(".!?").lower() if prev else ""
                if last not in ABBREVIATIONS:
                    out.append((a + pos, a + m.start()))
                    pos = m.end()
            out.append((a + pos, a + e))
    return [part for a, b in out for part in _clauses(text, a, b)]


# A run-on "sentence" far longer than a sentence (a whole essay joined with "and", "so",
# commas) is cut where a clause begins, so that each part is read as the point it makes:
# one 900-word run-on once read as a single sentence and was marked 0 with confidence 1.
_RUN_ON_WORDS = 60  # longer than this is a run-on
_CLAUSE_WORDS = 20  # a part is at least this long before the next clause starts one
_CLAUSE = re.compile(
    r"(?:,\s*|\s+)(?=(?:and|so|but|because|then|which|when|after|while|this|that|as a result)\b)",
    re.IGNORECASE,
)


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """A run-on sentence's clauses, or the sentence itself when it is an ordinary length."""
    if len(text[a:b].split(maxsplit=_RUN_ON_WORDS)) <= _RUN_ON_WORDS:
        return [(a, b)]
    parts, start = [], a
    for m in _CLAUSE.finditer(text, a, b):
        if (
            len(text[start : m.start()].split()) >= _CLAUSE_WORDS
            and len(text[m.end() : b].split()) >= _CLAUSE_WORDS // 2
        ):
            parts.append((start, m.start()))
            start = m.end()
    parts.append((start, b))
    return parts


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    chunk = text[a:b]
    kept = chunk.strip()  # str.strip removes exactly the characters str.isspace accepts
    if not kept:
        return b, b
    start = a + len(chunk) - len(chunk.lstrip())
    return start, start + len(kept)


@lru_cache(maxsize=50_000)
def _forms(word: str) -> tuple[str, str]:
    """A word's normal form and stem."""
    norm = normalise(word)
    return norm, stem(norm)


def tokenize(text: str, start: int = 0, end: int | None = None) -> tuple[Token, ...]:
    """Word tokens of text[start:end] with offsets into text."""
    end = len(text) if end is None else end
    tokens = []
    pos = start
    # The words in one call (span_tokenize costs a generator step per word), then their
    # offsets: a word starts at the first letter after the previous one, and no letter lies
    # between them, so str.index finds exactly where the tokenizer matched it.
    for word in _WORD.tokenize(text[start:end]):
        pos = text.index(word, pos)
        norm, stemmed = _forms(word)
        tokens.append(Token(word, pos, pos + len(word), norm, stemmed))
        pos += len(word)
    return tuple(tokens)


def analyse(text: str) -> Doc:
    """Split an essay into paragraphs, sentences and tokens, keeping character offsets."""
    sentences: list[Sentence] = []
    paragraphs = _paragraph_spans(text)
    for p, (pa, pb) in enumerate(paragraphs):
        for a, b in _sentence_spans(text, pa, pb):
            a, b = _trim(text, a, b)
            if a == b:
                continue
            tokens = tokenize(text, a, b)
            sentences.append(
                Sentence(
                    len(sentences), a, b, text[a:b], p, tokens, _is_heading(text, a, b, len(tokens))
                )
            )
    return Doc(text, tuple(sentences), len(paragraphs))


def _is_heading(text: str, start: int, end: int, words: int) -> bool:
    """A short line of its own with no closing punctuation, followed by more text."""
    if words > 6 or text[end - 1] in ".!?;:,\"'”’)" or not text[end:].strip():
        return False
    line_start = start == 0 or text[start - 1] == "\n"
    line_end = text[end : end + 1] in ("\n", "")
    return line_start and line_end


def close_enough(word: str, term: str) -> bool:
    """True when a misspelt word is within a small edit distance of a known term."""
    if abs(len(word) - len(term)) > 2 or word[:1] != term[:1]:
        return False
    allowed = 1 if len(term) < 8 else 2
    return edit_distance(word, term, transpositions=True) <= allowed


# British spellings a US-based word list lacks: try the American form of the word. Each
# pattern is tried at one place at a time and at all at once, so a suffix inside a longer
# word counts too (organisational -> organizational, defenceless -> defenseless).
_BRITISH = (
    (
        re.compile(
            r"is(?=(?:e|ed|es|er|ers|ing|ation|ational|ationally|ations|able|ably|ability|"
            r"ant|ement|ements|ee|ees)$)"
        ),
        "iz",
    ),
    (re.compile(r"ys(?=(?:e|ed|es|er|ers|ing)$)"), "yz"),
    (re.compile(r"our"), "or"),
    (re.compile(r"([tv])re(?=(?:s|d)?$)"), r"\1er"),
    (re.compile(r"([tv])r(?=(?:ed|ing)$)"), r"\1er"),
    (re.compile(r"ence"), "ense"),
    (re.compile(r"ll(?=(?:ed|ing|er|ers|or|ors)$)"), "l"),
    (re.compile(r"([^l])l(?=(?:ful|fully|fulness|ment|ments)$)"), r"\1ll"),
    (re.compile(r"^(fulfi|enro|insti|disti|appa)l(?=s?$)"), r"\1ll"),
    (re.compile(r"ogue(?=s?$)"), "og"),
    (re.compile(r"mme(?=s?$)"), "m"),
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe"), "e"),
    (re.compile(r"^scep"), "skep"),
    (re.compile(r"^sulph"), "sulf"),
    (re.compile(r"grey"), "gray"),
)

# American forms a suggestion may come out in, put back into British (the word list is
# American): -ize/-yze suffixes, and the common -or, -er and -ense roots.
_TO_BRITISH = (
    (re.compile(r"(?<=[a-z]{3})iz(?=(?:e|ed|es|ing|ation|ations|ational|er|ers)$)"), "is"),
    (re.compile(r"yz(?=(?:e|ed|es|ing|er|ers)$)"), "ys"),
    (
        re.compile(
            r"^(un)?(col|hon|lab|fav|behavi|neighb|rum|hum|vig|harb|endeav|arm|flav|val|od|rig|"
            r"splend|glam|savi|clam|parl|tum|vap|demean)or(?=(?:s|ed|ing|ful|fully|able|ably|"
            r"ite|ites|al|ally|er|ers|less|hood|ist)?$)"
        ),
        r"\1\2our",
    ),
    (re.compile(r"^(cent|theat|fib|lit|somb|calib|sab|spect|meag)er(?=(?:s|d)?$)"), r"\1re"),
    (re.compile(r"^(defen|offen|preten|licen)se(?=s?$)"), r"\1ce"),
    (
        re.compile(
            r"^(travel|cancel|model|label|level|signal|fuel|marvel|quarrel|counsel|"
            r"rival|total)(ed|ing|er|ers)$"
        ),
        r"\1l\2",
    ),
    (re.compile(r"^program(s?)$"), r"programme\1"),
    (re.compile(r"^(catal|dial|anal|monol|prol|epil)og(s?)$"), r"\1ogue\2"),
)


@dataclass(frozen=True)
class SpellingLists:
    """The word lists of essay_marker/data/spelling.toml."""

    contractions: dict[str, str]  # bare form -> contraction (wasnt -> wasn't)
    written: frozenset[str]  # every contraction, lower case: the word list lacks must've
    slips: frozenset[str]  # bare forms that are words, but not in an essay (cant)
    text_speak: frozenset[str]
    prefixes: frozenset[str]
    irregular_plurals: frozenset[str]
    not_ize: frozenset[str]
    run_together: dict[str, str]  # alot -> a lot


@cache
def spelling_lists() -> SpellingLists:
    """The lists, read once; a contraction's bare form counts only where it is no word."""
    import tomllib

    path = resources.files("essay_marker") / "data" / "spelling.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    checker = _spellchecker()
    slips = frozenset(data["slips"])
    contractions = {}
    for c in data["contractions"]:
        bare = c.lower().replace("'", "")
        if bare in slips or not checker.known([bare]):
            contractions[bare] = c
    return SpellingLists(
        contractions=contractions,
        written=frozenset(c.lower() for c in data["contractions"]),
        slips=slips,
        text_speak=frozenset(data["text_speak"]),
        prefixes=frozenset(data["prefixes"]),
        irregular_plurals=frozenset(data["irregular_plurals"]),
        not_ize=frozenset(data["not_ize"]),
        run_together={pair.replace(" ", ""): pair for pair in data["run_together"]},
    )


_VOWELS = frozenset("aeiouy")
# Consonants students put for one another because they sound alike.
_SOUND_ALIKE = frozenset(
    {frozenset(p) for p in ("ck", "cs", "sz", "gj", "fv", "iy", "kq", "sc", "xz")}
)
# The cost of an edit, in powers of ten of word frequency: a candidate one edit away must be
# that much more common to win. Learners mostly leave letters out (writen, meant for ment),
# double or undouble them, swap two, or confuse vowels; they rarely get the first letter
# wrong or put one consonant for an unrelated one (succed is succeed, not sucked).
_COST = {
    "omit_double": 0.3,  # a doubled letter written once: writen -> written
    "omit_apostrophe": 0.5,
    "omit_vowel": 0.7,
    "omit": 1.2,
    "add_double": 0.5,  # a letter doubled: untill -> until
    "add_final_e": 0.7,  # develope -> develop
    "add_final_s": 2.0,  # an -s plural of a word that makes its plural otherwise (robberys)
    "add": 1.5,
    "swap": 0.8,  # thier -> their
    "vowel": 1.2,  # seperate -> separate
    "sound_alike": 1.5,
    "other": 2.5,
    "first_letter": 1.5,  # added to any edit of the first letter
    "plural": 0.2,  # a plural made with -s that takes -ies or -ves: robberys, shelfs
}
# A suggestion is made only when the best candidate is this many powers of ten more likely
# than the next (tbh: "tb" and "th" tie; wud: mud, wed, bud), and is itself a word the list
# has seen often enough (not "beagle" for beable).
_MARGIN = 0.75
# Words of four letters or fewer have many neighbours one edit away, so their best guess
# must stand out further.
_SHORT = 4
_SHORT_MARGIN = 1.25
# Word frequency counts for less than a letter's edit: the word list's counts come from film
# subtitles, where "sucked" outnumbers "succeed".
_FREQUENCY_WEIGHT = 0.5
_MIN_FREQUENCY = 3e-7


def _edit_kind(typed: str, word: str) -> str | None:
    """The one edit that turns the typed word into word, or None if it is not one edit."""
    n, m = len(typed), len(word)
    i = 0
    while i < min(n, m) and typed[i] == word[i]:
        i += 1
    if m == n + 1 and typed[i:] == word[i + 1 :]:  # the student left word[i] out
        letter = word[i]
        first = i == 0
        if letter == "'":
            kind = "omit_apostrophe"
        elif (i > 0 and word[i - 1] == letter) or (i + 1 < m and word[i + 1] == letter):
            kind = "omit_double"
        else:
            kind = "omit_vowel" if letter in _VOWELS else "omit"
    elif n == m + 1 and typed[i + 1 :] == word[i:]:  # the student added typed[i]
        letter = typed[i]
        first = i == 0
        if (i > 0 and typed[i - 1] == letter) or (i + 1 < n and typed[i + 1] == letter):
            kind = "add_double"
        elif letter == "e" and i == n - 1:
            kind = "add_final_e"
        elif letter == "s" and i == n - 1:
            kind = "add_final_s"
        else:
            kind = "add"
    elif (
        n == m
        and i < n - 1
        and typed[i] == word[i + 1]
        and typed[i + 1] == word[i]
        and (typed[i + 2 :] == word[i + 2 :])
    ):
        kind, first = "swap", i == 0
    elif n == m and i < n and typed[i + 1 :] == word[i + 1 :]:
        a, b = typed[i], word[i]
        first = i == 0
        if a in _VOWELS and b in _VOWELS:
            kind = "vowel"
        elif frozenset((a, b)) in _SOUND_ALIKE:
            kind = "sound_alike"
        else:
            kind = "other"
    else:
        return None
    return f"{kind}+first" if first else kind


def _moved_doubles(word: str) -> set[str]:
    """The word with one doubled letter written once and one other consonant doubled."""
    out = set()
    for i in range(len(word) - 1):
        if word[i] == word[i + 1] and word[i].isalpha():
            once = word[:i] + word[i + 1 :]
            for j, letter in enumerate(once):
                if letter.isalpha() and letter not in _VOWELS and j != i:
                    out.add(once[: j + 1] + letter + once[j + 1 :])
    return out - {word}


def _distance(a: str, b: str) -> int:
    return edit_distance(a, b, transpositions=True)


def _cost(kind: str) -> float:
    base, _, first = kind.partition("+")
    return _COST[base] + (_COST["first_letter"] if first else 0.0)


def to_british(word: str) -> str:
    """The British form of an American spelling (organization -> organisation), else word."""
    if word in spelling_lists().not_ize:
        return word
    for pattern, repl in _TO_BRITISH:
        if pattern.search(word):
            return pattern.sub(repl, word)
    return word


_RARE = 1e-7  # word-list frequency below which a near-miss of a rubric name is a slip
_COMMON = 1e-5  # word-list frequency of an everyday word (about one in 100,000)


class Lexicon:
    """Which words are English: a maintained word list, British forms and the rubric's terms."""

    def __init__(self, terms: tuple[str, ...] = (), vocabulary: tuple[str, ...] = ()) -> None:
        self._checker = _spellchecker()
        self._rubric_terms = frozenset(
            normalise(w) for t in terms + vocabulary for w in _WORD.tokenize(t)
        )
        self.terms = self._rubric_terms | _extra_words()
        # Answers per word: the same words and slips recur across a class's essays, and
        # term_for and correction are slow (edit distances to every term or candidate).
        self._known: dict[str, bool] = {}
        self._term: dict[tuple[str, frozenset[str] | None], str | None] = {}
        self._correction: dict[str, str | None] = {}
        # Proper names among the terms, which outrank rare look-alikes in the word list.
        self.names = frozenset(
            normalise(w) for t in terms for w in _WORD.tokenize(t) if w[:1].isupper()
        )

    def known(self, word: str) -> bool:
        """True if word (any case) is a correctly spelt English word or a rubric term."""
        found = self._known.get(word)
        if found is None:
            found = _remember(self._known, word, self._lookup(word))
        return found

    def _lookup(self, word: str) -> bool:
        w = word.lower().replace("’", "'")
        if not w or any(c.isdigit() for c in w) or w in self.terms or normalise(w) in self.terms:
            return True
        # The rubric's names win over the general word list: "Trotski" is in some
        # dictionaries, but in this essay it is a slip for "Trotsky".
        stripped = w[:-1] if w.endswith("s") else w
        if (
            stripped not in self.terms
            and self._checker.word_usage_frequency(w) < _RARE
            and self.term_for(w, self.names) is not None
        ):
            return False
        if self._checker.known([w]) or w in spelling_lists().written:
            return True
        if w.endswith("'s") and self._checker.known([w[:-2]]):
            return True
        return any(self._checker.known([form]) for form in _american_forms(w))

    def term_for(self, word: str, among: frozenset[str] | None = None) -> str | None:
        """The rubric term a misspelt word is closest to (Zinovev -> zinoviev), if any."""
        w = normalise(word)
        key = (w, among)
        if key in self._term:
            return self._term[key]
        # (an empty set is no set: a rubric with no names has no name to be near)
        pool = self.terms if among is None else among
        close = [t for t in pool if len(t) >= 5 and close_enough(w, t)]
        term = min(close, key=lambda t: (edit_distance(w, t, transpositions=True), t), default=None)
        return _remember(self._term, key, term)

    def correction(self, word: str) -> str | None:
        """The correction of a lower-case word when one is clearly likeliest, else None."""
        if word in self._correction:
            return self._correction[word]
        return _remember(self._correction, word, self._best_correction(word))

    def _frequency(self, word: str) -> float:
        # Two words run together (infact) are as likely as the rarer of the two; a
        # possessive the list lacks (children's) as its noun.
        if word.endswith("'s") and not self._checker.known([word]):
            word = word[:-2]
        return min((self._checker.word_usage_frequency(p) for p in word.split()), default=0.0)

    def _best_correction(self, word: str) -> str | None:
        w = word.lower().replace("’", "'")
        bare = w.replace("'", "")
        lists = spelling_lists()
        # Text-speak (idk), and strings with no vowel (tbh, www), are no slip for a word.
        if bare in lists.text_speak or not _VOWELS.intersection(bare):
            return None
        if bare in lists.contractions:
            return lists.contractions[bare]
        if bare in lists.run_together:
            return lists.run_together[bare]
        scores = self._candidates(w, bare)
        # Ties go alphabetically, never by set order (which follows string hashing).
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked:
            return None
        best, score = ranked[0]
        margin = _MARGIN if len(bare) > _SHORT else _SHORT_MARGIN
        if len(ranked) > 1 and score - ranked[1][1] < margin:
            return None
        if self._frequency(best) < _MIN_FREQUENCY:
            return None
        return to_british(best)

    def _candidates(self, w: str, bare: str) -> dict[str, float]:
        """Each candidate correction with its score: log10 frequency less the edit's cost."""
        scores: dict[str, float] = {}

        def add(candidate: str, cost: float) -> None:
            frequency = self._frequency(candidate)
            if frequency > 0:
                score = _FREQUENCY_WEIGHT * math.log10(frequency) - cost
                scores[candidate] = max(scores.get(candidate, -math.inf), score)

        for candidate in self._checker.candidates(w) or ():
            kind = _edit_kind(w, candidate)
            if kind is not None and candidate != w:
                add(candidate, _cost(kind))
        for key, contraction in spelling_lists().contractions.items():
            if abs(len(key) - len(bare)) <= 1 and key[:1] == bare[:1]:
                kind = _edit_kind(bare, key)
                if kind is not None:
                    add(contraction, _cost(kind))
        # The doubled letter in the wrong place (dissapear -> disappear, two edits away).
        for word in _moved_doubles(w):
            if self._checker.known([word]):
                add(word, _COST["omit_double"] + _COST["add_double"])
        # Plurals and possessives a single edit cannot reach: robberys, shelfs, childrens.
        if w.endswith("ys") and self._checker.known([w[:-2] + "ies"]):
            add(w[:-2] + "ies", _COST["plural"])
        if w.endswith("fs") and self._checker.known([w[:-2] + "ves"]):
            add(w[:-2] + "ves", _COST["plural"])
        # (wifes -> wives, but cafes is the plural of cafe, not of cave)
        base = w[:-3]
        known = self._checker.known
        if w.endswith("fes") and known([base + "ves"]) and not known([base + "ve"]):
            add(base + "ves", _COST["plural"])
        if w.endswith("s") and w[:-1] in spelling_lists().irregular_plurals:
            add(f"{w[:-1]}'s", _COST["omit_apostrophe"])
        return scores

    def suggest(self, word: str) -> str | None:
        """A likely correct spelling, preferring the rubric's own terms; None when unsure."""
        w = word.lower()
        # A rubric name with an s is its possessive: "Lenins funeral".
        if w.endswith("s") and normalise(word[:-1]) in self.names:
            return f"{word[:-1]}'s"
        # The rubric's names and rare terms (Zinoviev, Cheka) first; its everyday words
        # (country, party) compete with the rest of the word list like any other word.
        # A closer correction from the word list wins (comunist is communist, not communism).
        term = self.term_for(word, self._rubric_terms)
        fix = self.correction(w)
        if term is None:
            return fix
        if term in self.names or self._frequency(term) < _COMMON:
            return term if fix is None or _distance(w, term) <= _distance(w, fix) else fix
        # An everyday term only when the word list has nothing one edit away (permenant).
        return fix if fix is not None or self._checker.candidates(w) else term

    def common_fix(self, word: str) -> str | None:
        """A correction only when it is a well-known word (a capitalised Becuase)."""
        fix = self.correction(word.lower())
        if fix and fix != word.lower() and self._frequency(fix) > 1e-5:
            return fix
        return None


def context_slip(word: str, after: tuple[str, ...]) -> str | None:
    """A real word that is wrong where it stands, when the next words make it certain.

    Only sure cases: "their is" (there), "there own" (their), "their going to" (they're),
    and bare contractions that are dictionary words but never meant as such in an essay
    (cant, wont, hes). Anything less certain is left alone.
    """
    w = word.lower().replace("’", "'")
    nxt = after[0].lower().replace("’", "'") if after else ""
    if w in spelling_lists().slips:
        return spelling_lists().contractions[w]
    if w == "their" and nxt in _BE:
        return "there"
    if w in ("there", "they're", "theyre") and nxt == "own":
        return "their"
    if w == "their" and nxt == "going" and len(after) > 1 and after[1].lower() == "to":
        return "they're"
    return None


_BE = frozenset(["is", "are", "was", "were", "isn't", "aren't", "wasn't", "weren't"])


_REMEMBER = 100_000  # answers kept per cache, so memory stays bounded over any batch


def _remember(cache: dict[Any, Any], key: Any, value: T) -> T:
    """Store value under key, emptying the cache first when it is full."""
    if len(cache) >= _REMEMBER:
        cache.clear()
    cache[key] = value
    return value


def _american_forms(word: str) -> set[str]:
    """The word with one or two British spelling patterns swapped (manoeuvres -> maneuvers)."""
    once = {form for p, r in _BRITISH for form in _swaps(p, r, word)}
    twice = {form for w in once for p, r in _BRITISH for form in _swaps(p, r, w)}
    return (once | twice) - {word}


def _swaps(pattern: re.Pattern[str], repl: str, word: str) -> set[str]:
    """The word with the pattern swapped at each place it matches, and at all of them."""
    matches = list(pattern.finditer(word))
    if not matches:
        return set()
    out = {pattern.sub(repl, word)}
    if len(matches) > 1:
        for m in matches:
            out.add(word[: m.start()] + m.expand(repl) + word[m.end() :])
    return out


@cache
def _extra_words() -> frozenset[str]:
    """Correct words the general word list lacks (essay_marker/data/words.txt)."""
    path = resources.files("essay_marker") / "data" / "words.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


@cache
def _spellchecker():
    # Imported here: the word list takes a moment to load and only some paths need it.
    from importlib.resources import as_file, files

    from spellchecker import SpellChecker

    # The English list's words are all lower case already: loading its file lowers the text
    # in one call, where language="en" lowers 160,000 keys one by one (0.05 s of `check`).
    bundled = files("spellchecker") / "resources" / "en.json.gz"
    if not bundled.is_file():
        return SpellChecker(language="en", distance=1)
    checker = SpellChecker(language=None, distance=1)
    with as_file(bundled) as path:
        checker.word_frequency.load_dictionary(path)
    return checker
