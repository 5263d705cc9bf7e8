"""The annotation units of the blind validity set: how its essays were cut for annotators.

    python tools/blind_units.py ESSAY.txt

Sentences (a full stop, ! or ? before any letter or digit), every line or bullet, and
sentences over 60 words cut at a clause join (", and", ", so", " because"…) into parts of
35 words or more. corpus/stalin-main-reason-blind/sentences.csv has one row per unit, with
these offsets. Kept apart from essaymark's own sentence splitter on purpose: the reference
must not depend on the code it measures.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(]?[A-Za-z0-9])")
_ABBREVIATION = re.compile(r"\b(e\.g|i\.e|Mr|Mrs|Dr|St|etc|vs|c|ca)\.$", re.I)
_JOIN = re.compile(
    r",\s+(?=(and|so|but|because|which|then|after|when|this)\b)"
    r"|\s+(?=(and then|and so|so then|and he|and that|so he|because)\b)",
    re.I,
)
LONG, PART = 60, 35


def _sentences(line: str, base: int) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _END.finditer(line):
        if _ABBREVIATION.search(line[start : m.start()].rstrip()):
            continue
        out.append((base + start, base + m.start()))
        start = m.end()
    out.append((base + start, base + len(line.rstrip())))
    return [(a, b) for a, b in out if b > a]


def _cut(text: str, a: int, b: int) -> list[tuple[int, int]]:
    if len(text[a:b].split()) <= LONG:
        return [(a, b)]
    parts, start = [], a
    for m in _JOIN.finditer(text, a, b):
        j = m.start()
        if len(text[start:j].split()) >= PART and len(text[j:b].split()) >= 15:
            parts.append((start, j))
            start = j
            while start < b and text[start] in ", ":
                start += 1
    parts.append((start, b))
    return parts


def units(text: str) -> list[tuple[int, int]]:
    """(start, end) of every annotation unit of an essay, in order."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            for a, b in _sentences(line[lead:], pos + lead):
                out.extend(_cut(text, a, b))
        pos += len(line) + 1
    return [(a, b) for a, b in out if text[a:b].strip()]


if __name__ == "__main__":
    essay = Path(sys.argv[1]).read_text(encoding="utf-8")
    for i, (a, b) in enumerate(units(essay), 1):
        print(f"{i}\t{a}\t{b}\t{' '.join(essay[a:b].split())}")
