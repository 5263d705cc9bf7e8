"""Spelling, punctuation and grammar: an estimate on the mark scheme's 0-4 bands."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from essay_marker.coverage import CueSet, Span
from essay_marker.rubric import Rubric
from essay_marker.text import Doc, Lexicon, Token, context_slip, spelling_lists

_LONG_SENTENCE = 45  # words; beyond this a sentence is usually a run-on


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
    n_terms = len(terms)
    if rubric.spag_max == 0 or words < 40 or accuracy < 0.85:
        band = 0
    elif accuracy >= 0.985 and control >= 0.85 and n_terms >= 6:
        band = 4
    elif accuracy >= 0.96 and control >= 0.7 and n_terms >= 4:
        band = 3
    elif accuracy >= 0.93 and control >= 0.5 and n_terms >= 2:
        band = 2
    else:
        band = 1
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
