"""Spelling, punctuation and grammar: an estimate on the mark scheme's 0-4 bands."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from essay_marker.analysis.coverage import CueSet
from essay_marker.records import Misspelling, Spag, Span
from essay_marker.rubric import Rubric
from essay_marker.spelling import Lexicon, context_slip, spelling_lists
from essay_marker.text import Doc, Token

_LONG_SENTENCE = 45  # words; beyond this a sentence is usually a run-on


@cache
def lexicon_for(rubric: Rubric) -> Lexicon:
    """The rubric's word list (names, terms, British forms), built once per process."""
    return Lexicon(rubric.terms, rubric.specialist_terms)


@cache
def _terms(rubric: Rubric) -> CueSet:
    return CueSet(rubric.specialist_terms)


def misspellings(doc: Doc, lexicon: Lexicon) -> list[Misspelling]:
    """Words the checker does not know, and real words wrong where they stand (their is)."""
    out = []
    prefixes = spelling_lists().prefixes
    for sent in doc.sentences:
        words = [t.text for t in sent.tokens]
        for i, tok in enumerate(sent.tokens):
            slip = context_slip(tok.text, tuple(words[i + 1 : i + 3]))
            if slip is not None:
                out.append(Misspelling(tok.text, tok.start, tok.end, slip))
                continue
            if lexicon.known(tok.text) or _hyphenated_prefix(doc.text, tok, prefixes):
                continue
            # A capitalised word we do not know is usually a proper noun: count it only
            # when it is a slip for one of the rubric's names (Stallin) or, opening a
            # sentence, for a common word (Becuase).
            proper = tok.text[:1].isupper() and lexicon.term_for(tok.text) is None
            if proper and (i > 0 or len(tok.text) < 5 or lexicon.common_fix(tok.text) is None):
                continue
            out.append(Misspelling(tok.text, tok.start, tok.end, lexicon.suggest(tok.text)))
    return out


def _hyphenated_prefix(text: str, tok: Token, prefixes: frozenset[str]) -> bool:
    """un in "un-Leninist": a prefix joined by a hyphen to the word after it."""
    return (
        tok.text.lower() in prefixes
        and text[tok.end : tok.end + 1] in ("-", "‐", "‑")
        and text[tok.end + 1 : tok.end + 2].isalpha()
    )


def _sentence_control(doc: Doc) -> float:
    """Share of sentences that start with a capital, end with punctuation and are not run-ons."""
    if not doc.sentences:
        return 0.0
    good = 0
    for s in doc.sentences:
        first = next((ch for ch in s.text if ch.isalpha()), "")
        starts_ok = first.isupper() or not first
        ends_ok = s.text.rstrip("\"'’”)").endswith((".", "!", "?", ":"))
        lower_i = any(t.text == "i" or t.text.startswith("i'") for t in s.tokens)
        if starts_ok and ends_ok and len(s.tokens) <= _LONG_SENTENCE and not lower_i:
            good += 1
    return good / len(doc.sentences)


@dataclass(frozen=True)
class Band:
    """What an essay must reach for one SPaG band (essay_marker/data/spag_bands.toml)."""

    band: int
    accuracy: float
    control: float
    terms: int


@dataclass(frozen=True)
class Bands:
    """The bands from the top, and the words an essay needs for any band above 0."""

    min_words: int
    bands: tuple[Band, ...]


def _bands(data: dict[str, Any]) -> Bands:
    bands = tuple(sorted((Band(**b) for b in data["bands"]), key=lambda b: -b.band))
    return Bands(data["min_words"], bands)


@cache
def bundled_bands() -> Bands:
    """The shipped thresholds (essay_marker/data/spag_bands.toml)."""
    path = resources.files("essay_marker") / "data" / "spag_bands.toml"
    return _bands(tomllib.loads(path.read_text(encoding="utf-8")))


@cache
def bands_for(spag_bands: str) -> Bands:
    """A rubric's own bands (its `spag_bands`, checked when it was loaded), else the shipped."""
    return _bands(json.loads(spag_bands)) if spag_bands else bundled_bands()


def spag_band(
    words: int, accuracy: float, control: float, terms: int | None, bands: Bands | None = None
) -> int:
    """The highest band whose every threshold the essay reaches, else 0.

    terms is None where the rubric lists no specialist terms: then no band asks for any.
    """
    table = bands or bundled_bands()
    if words < table.min_words:
        return 0
    for b in table.bands:
        enough_terms = terms is None or terms >= b.terms
        if accuracy >= b.accuracy and control >= b.control and enough_terms:
            return b.band
    return 0


def estimate_spag(doc: Doc, rubric: Rubric, stems: list[tuple[str, ...]]) -> Spag:
    """Band the essay's spelling accuracy, sentence control and range of specialist terms."""
    lexicon = lexicon_for(rubric)
    misspelt = misspellings(doc, lexicon)
    words = doc.word_count
    accuracy = 1.0 - len(misspelt) / words if words else 0.0
    control = _sentence_control(doc)
    terms: dict[str, Span] = {}
    finder = _terms(rubric)
    for sent, st in zip(doc.sentences, stems, strict=True):
        for a, b in finder.find(st):
            key = " ".join(st[a:b])
            start, end = sent.tokens[a].start, sent.tokens[b - 1].end
            terms.setdefault(key, Span(doc.text[start:end], start, end))
    # A rubric with no specialist terms (a teacher's new question) asks for none: counting
    # them capped every essay at band 1.
    found = len(terms) if rubric.specialist_terms else None
    bands = bands_for(rubric.spag_bands)
    band = spag_band(words, accuracy, control, found, bands) if rubric.spag_max else 0
    # Rubrics with a different SPaG maximum scale the four bands.
    mark = round(band * rubric.spag_max / 4) if rubric.spag_max else 0
    return Spag(
        mark=mark,
        max_mark=rubric.spag_max,
        spelling_accuracy=round(accuracy, 3),
        sentence_control=round(control, 3),
        specialist_terms=tuple(sorted(terms.values(), key=lambda s: s.start)),
        misspellings=tuple(misspelt),
    )
