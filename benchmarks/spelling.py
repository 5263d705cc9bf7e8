"""Spelling suggestions on real misspellings: how often they are right, and how many get one.

    python benchmarks/spelling.py [--data ../shared/data] [--split dev|test|all] [--json]
                                  [--show N]

Real misspellings: every word that essaymark's checker flags (spag.misspellings, with the
bundled rubric's word list, as `essaymark check` runs it) in the real student essays of
ASAP-AES (US, grades 7-10) and ELLIPSE (English language learners, grades 8-12).

Reference corrections: codespell's dictionary (pip install codespell), a public list of
65,000 common misspellings, most from Wikipedia's "Lists of common misspellings", each
with the correction its editors agreed on. A flagged word is scored when the list has it:
with one correction, that is the reference; with several ("theyre -> they're, their,
there"), the word is ambiguous out of context and the right answer is no suggestion. The
reference is American where the list is (codespell keeps British forms out of it), so a
suggestion counts as right when it is the reference or the reference's British form (in
codespell's British list, or by essaymark's British-spelling rules: neighbourhood).

- precision: suggestions that are the reference, of suggestions made on scored words
- coverage: scored words (one correction) that get a suggestion
- ambiguous: words the list gives several corrections for, and how many got a suggestion

Essays are split in two by a hash of their id: `dev` was looked at while the suggestions
were being fixed, `test` only for the figures. Nothing from the essays is written to disk;
the words listed are misspellings from the public list. Without the data (or codespell) the
benchmark says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Reference:
    """codespell's list: one correction per word, the ambiguous words, British forms."""

    single: dict[str, str]
    several: dict[str, tuple[str, ...]]
    british: dict[str, str]  # American form -> British form


def load_reference() -> Reference | None:
    """codespell's dictionary of misspellings, or None when codespell is not installed."""
    try:
        from importlib.resources import files

        data = files("codespell_lib") / "data"
    except ModuleNotFoundError:
        return None
    single: dict[str, str] = {}
    several: dict[str, tuple[str, ...]] = {}
    for line in (data / "dictionary.txt").read_text(encoding="utf-8").splitlines():
        if "->" not in line:
            continue
        wrong, right = (part.strip() for part in line.split("->", 1))
        # codespell's format: "a->b" is one fix; "a->b, c," several; "a->b, why" a fix
        # codespell will not make by itself, for the reason given: not a sure one.
        if "," not in right:
            single[wrong.lower()] = right.lower()
        else:
            options = [o.strip().lower() for o in right.split(",") if o.strip()]
            several[wrong.lower()] = tuple(options)
    british: dict[str, str] = {}
    for line in (data / "dictionary_en-GB_to_en-US.txt").read_text(encoding="utf-8").splitlines():
        if "->" in line:
            gb, us = (part.strip().lower() for part in line.split("->", 1))
            british.setdefault(us, gb)
    return Reference(single, several, british)


def dev_or_test(essay_id: str) -> str:
    """A fixed half of the essays for developing, the other for the figures."""
    return "dev" if zlib.crc32(essay_id.encode()) % 2 == 0 else "test"


def essays(data: Path) -> Iterator[tuple[str, str, str]]:
    """(corpus, id, text) of every ASAP-AES and ELLIPSE essay found under data."""
    import pandas as pd

    asap = data / "asap-aes" / "training_set_rel3.tsv.gz"
    if asap.is_file():
        table = pd.read_csv(asap, sep="\t", usecols=["essay_id", "essay"])
        for essay_id, text in zip(table.essay_id, table.essay, strict=True):
            yield "asap", f"asap-{essay_id}", str(text)
    ellipse = data / "ellipse" / "ELLIPSE_Final_github_test.csv.gz"
    if ellipse.is_file():
        table = pd.read_csv(ellipse, usecols=["text_id_kaggle", "full_text"])
        for essay_id, text in zip(table.text_id_kaggle, table.full_text, strict=True):
            yield "ellipse", f"ellipse-{essay_id}", str(text)


def flagged(text: str) -> list[tuple[str, str | None]]:
    """(word, suggestion) for every word essaymark's checker flags in one essay."""
    from essay_marker.analysis.coverage import sentence_stems
    from essay_marker.analysis.spag import estimate_spag
    from essay_marker.rubric import find_rubric
    from essay_marker.text import analyse

    rubric = find_rubric("stalin-main-reason")
    doc = analyse(text)
    spag = estimate_spag(doc, rubric, sentence_stems(doc, rubric))
    return [(m.text, m.suggestion) for m in spag.misspellings]


def _key(word: str) -> str:
    return word.lower().replace("’", "'")


def score(words: list[tuple[str, str | None]], ref: Reference) -> dict[str, object]:
    """Precision, coverage and the ambiguous words' suggestions over (word, suggestion)."""
    scored = suggested = right = 0
    ambiguous = ambiguous_suggested = 0
    wrong: Counter[tuple[str, str, str]] = Counter()
    guessed: Counter[tuple[str, str]] = Counter()
    for word, suggestion in words:
        key, fix = _key(word), _key(suggestion) if suggestion else None
        if key in ref.single:
            scored += 1
            if fix is None:
                continue
            suggested += 1
            reference = ref.single[key]
            if same_word(fix, reference, ref):
                right += 1
            else:
                wrong[(key, fix, reference)] += 1
        elif key in ref.several:
            ambiguous += 1
            if fix is not None:
                ambiguous_suggested += 1
                guessed[(key, fix)] += 1
    return {
        "flagged": len(words),
        "scored": scored,
        "suggested": suggested,
        "right": right,
        "precision": round(right / suggested, 4) if suggested else None,
        "coverage": round(suggested / scored, 4) if scored else None,
        "right_of_scored": round(right / scored, 4) if scored else None,
        "ambiguous": ambiguous,
        "ambiguous_suggested": ambiguous_suggested,
        "wrong": [
            {"word": w, "suggestion": s, "reference": r, "count": n}
            for (w, s, r), n in sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "ambiguous_guesses": [
            {"word": w, "suggestion": s, "count": n}
            for (w, s), n in sorted(guessed.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def same_word(suggestion: str, reference: str, ref: Reference) -> bool:
    """The reference, or its British spelling (codespell's list, or essaymark's rules)."""
    from essay_marker.spelling import _american_forms

    return (
        suggestion == reference
        or ref.british.get(reference) == suggestion
        or reference in _american_forms(suggestion)
    )


def _flag_all(texts: list[str], jobs: int) -> list[list[tuple[str, str | None]]]:
    if jobs <= 1:
        return [flagged(t) for t in texts]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(flagged, texts, chunksize=64))


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show", type=int, default=25, help="wrong suggestions to list")
    args = parser.parse_args(argv)
    ref = load_reference()
    if ref is None:
        print("codespell is not installed (pip install codespell): skipped", file=sys.stderr)
        return 0
    chosen = [
        (corpus, text)
        for corpus, essay_id, text in essays(args.data)
        if args.split == "all" or dev_or_test(essay_id) == args.split
    ]
    if not chosen:
        print(
            f"no ASAP-AES or ELLIPSE essays in {args.data}: skipped (give --data)", file=sys.stderr
        )
        return 0
    found = _flag_all([t for _, t in chosen], args.jobs)
    by_corpus: dict[str, list[tuple[str, str | None]]] = {}
    for (corpus, _), words in zip(chosen, found, strict=True):
        by_corpus.setdefault(corpus, []).extend(words)
        by_corpus.setdefault("all", []).extend(words)
    counts = Counter(corpus for corpus, _ in chosen)
    figures = {name: score(words, ref) for name, words in sorted(by_corpus.items())}
    summary = {"split": args.split, "essays": dict(counts), "figures": figures}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"split {args.split}: " + ", ".join(f"{n} {c} essays" for c, n in sorted(counts.items())))
    head = f"{'corpus':<8} {'flagged':>8} {'scored':>7} {'suggested':>9} {'right':>6}"
    print(head + f" {'precision':>9} {'coverage':>8} {'ambiguous':>9} {'guessed':>7}")
    for name, f in figures.items():
        print(
            f"{name:<8} {f['flagged']:>8} {f['scored']:>7} {f['suggested']:>9} {f['right']:>6}"
            f" {f['precision'] or 0:>9.3f} {f['coverage'] or 0:>8.3f}"
            f" {f['ambiguous']:>9} {f['ambiguous_suggested']:>7}"
        )
    every = figures["all"]
    print(f"\nwrong suggestions (word -> suggestion, reference; occurrences), top {args.show}:")
    for w in every["wrong"][: args.show]:
        print(f"  {w['word']} -> {w['suggestion']} ({w['reference']}) x{w['count']}")
    print(f"\nsuggestions on ambiguous words, top {args.show}:")
    for w in every["ambiguous_guesses"][: args.show]:
        print(f"  {w['word']} -> {w['suggestion']} x{w['count']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
