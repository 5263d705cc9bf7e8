"""Spelling: the word list (pyspellchecker, British forms, rubric terms) and suggestions.

Suggestions are weighed by the kind of slip (data/spelling.toml: contractions, text-speak,
prefixes, sound-alikes) and the word's frequency, so a rubric name is not "corrected" into
an everyday word. Runs offline: the word lists ship with the libraries.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from nltk.metrics.distance import edit_distance

from essay_marker.text import WORD, normalise

T = TypeVar("T")


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
            normalise(w) for t in terms + vocabulary for w in WORD.tokenize(t)
        )
        self.terms = self._rubric_terms | _extra_words()
        # Answers per word: the same words and slips recur across a class's essays, and
        # term_for and correction are slow (edit distances to every term or candidate).
        self._known: dict[str, bool] = {}
        self._term: dict[tuple[str, frozenset[str] | None], str | None] = {}
        self._correction: dict[str, str | None] = {}
        # Proper names among the terms, which outrank rare look-alikes in the word list.
        self.names = frozenset(
            normalise(w) for t in terms for w in WORD.tokenize(t) if w[:1].isupper()
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
