"""SPaG before any training: the rule-based estimate against real raters' conventions marks.

    python benchmarks/spag.py [--data ../shared/data] [--json]
    python benchmarks/spag.py --calibrate [--write] [--objective qwk|exact|mix]
                              [--start shipped|original]

essaymark's rule-based SPaG band (spag.estimate_spag, what `check` gives before a model is
trained, and with --rules) is compared with human marks for spelling, punctuation and
grammar on real essays, mapped onto the 0-4 SPaG scale:

- ELLIPSE (English language learners, grades 8-12): the mean of the two analytic scores
  that make up SPaG, Conventions (spelling, punctuation, capitals) and Grammar, each the
  mean of two raters on 1-5.
- ASAP-AES with the ASAP++ and original trait scores: the Conventions trait of prompts 1
  and 2 (1-6, one ASAP++ annotator), 7 (0-6, the sum of two raters' 0-3) and 8 (2-12, two
  raters' 1-6). Prompts 3-6 have no conventions trait and are left out.

Each scale is mapped linearly onto 0-4, end to end, and rounded to the nearest band
(halves up): ELLIPSE 1-1.25 -> 0, 1.5-2.25 -> 1, 2.5-3.25 -> 2, 3.5-4.25 -> 3, 4.5-5 -> 4;
ASAP 1-2 1 -> 0, 2 -> 1, 3-4 -> 2, 5 -> 3, 6 -> 4. No scale says "GCSE band n", so this
keeps only the order and the ends; the commonest-band baseline is reported beside every
figure, per source.

Essays are split in two by a hash of their id (as in benchmarks/spelling.py): --calibrate
fits the bands' accuracy and sentence-control thresholds on `dev` only (coordinate ascent
on the mean QWK over the four sources, from the shipped thresholds, on a fixed grid) and
--write puts them in essay_marker/data/spag_bands.toml; the figures reported are on `test`.
The specialist-term thresholds cannot be fitted here (none of these essays is on a
rubric's question) and are kept. Nothing from the essays is written to disk; without the
data the benchmark says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
BANDS_FILE = ROOT / "essay_marker" / "spag_bands.toml"
# ASAP prompts with a conventions trait: the trait's column and its range.
ASAP_CONVENTIONS = {1: ("trait5_score", 1, 6), 2: ("trait5_score", 1, 6)}
ASAP_CONVENTIONS |= {7: ("trait4_score", 0, 6), 8: ("trait6_score", 2, 12)}
SOURCES = ("ellipse", "asap1-2", "asap7", "asap8")
ACCURACY_GRID = [round(0.80 + 0.005 * i, 3) for i in range(41)]  # 0.800 .. 1.000
CONTROL_GRID = [round(0.05 * i, 2) for i in range(21)]  # 0.00 .. 1.00


@dataclass(frozen=True)
class Essay:
    """One essay's source, half, human band and what the estimate rests on."""

    source: str
    split: str
    band: int
    words: int
    accuracy: float
    control: float
    mark: int  # the estimate as the code stands


def to_band(score: float, low: float, high: float) -> int:
    """A score on low..high mapped linearly onto 0-4, rounded to the nearest (halves up)."""
    return math.floor((score - low) / (high - low) * 4 + 0.5)


def dev_or_test(essay_id: str) -> str:
    """The same fixed halves as benchmarks/spelling.py."""
    return "dev" if zlib.crc32(essay_id.encode()) % 2 == 0 else "test"


def marked_essays(data: Path) -> Iterator[tuple[str, str, str, int]]:
    """(source, id, text, band) for every essay with a conventions mark under data."""
    import pandas as pd

    ellipse = data / "ellipse" / "ELLIPSE_Final_github_test.csv.gz"
    if ellipse.is_file():
        cols = ["text_id_kaggle", "full_text", "Conventions", "Grammar"]
        table = pd.read_csv(ellipse, usecols=cols)
        for row in table.itertuples(index=False):
            score = (row.Conventions + row.Grammar) / 2
            yield (
                "ellipse",
                f"ellipse-{row.text_id_kaggle}",
                str(row.full_text),
                to_band(score, 1, 5),
            )
    essays = data / "asap-aes" / "training_set_rel3.tsv.gz"
    traits = data / "asap-traits" / "asap_trait_scores.csv"
    if essays.is_file() and traits.is_file():
        text = pd.read_csv(essays, sep="\t", usecols=["essay_id", "essay_set", "essay"])
        table = text.merge(pd.read_csv(traits).drop(columns="essay_set"), on="essay_id")
        for prompt, (column, low, high) in ASAP_CONVENTIONS.items():
            source = "asap1-2" if prompt <= 2 else f"asap{prompt}"
            rows = table[(table.essay_set == prompt) & table[column].notna()]
            for essay_id, essay, score in zip(rows.essay_id, rows.essay, rows[column], strict=True):
                yield source, f"asap-{essay_id}", str(essay), to_band(float(score), low, high)


def _rubric():
    from essay_marker.rubric import parse_rubric, rubric_template

    # A teacher's new question, as `rubric new` writes it: SPaG out of 4, no terms.
    return parse_rubric(rubric_template("essay", "Write an essay.", 16), "essay.toml")


def _measure(text: str) -> tuple[int, float, float, int]:
    from essay_marker.analysis.coverage import sentence_stems
    from essay_marker.analysis.spag import estimate_spag
    from essay_marker.text import analyse

    rubric = _rubric()
    doc = analyse(text)
    spag = estimate_spag(doc, rubric, sentence_stems(doc, rubric))
    words = doc.word_count
    accuracy = 1.0 - len(spag.misspellings) / words if words else 0.0
    return words, accuracy, spag.sentence_control, spag.mark


def load(data: Path, jobs: int) -> list[Essay]:
    """Every marked essay, measured once (on jobs processes)."""
    rows = list(marked_essays(data))
    texts = [text for _, _, text, _ in rows]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            measured = list(pool.map(_measure, texts, chunksize=64))
    else:
        measured = [_measure(t) for t in texts]
    return [
        Essay(source, dev_or_test(essay_id), band, *m)
        for (source, essay_id, _, band), m in zip(rows, measured, strict=True)
    ]


def agreement(truth: list[int], guess: list[int]) -> dict[str, float]:
    """QWK, exact and adjacent agreement on the 0-4 bands."""
    from sklearn.metrics import cohen_kappa_score

    n = len(truth)
    same = len(set(truth) | set(guess)) == 1
    qwk = 1.0 if same else cohen_kappa_score(truth, guess, weights="quadratic", labels=range(5))
    return {
        "n": n,
        "qwk": round(float(qwk), 3),
        "exact": round(sum(t == g for t, g in zip(truth, guess, strict=True)) / n, 3),
        "adjacent": round(sum(abs(t - g) <= 1 for t, g in zip(truth, guess, strict=True)) / n, 3),
    }


def report(essays: list[Essay], guess: dict[int, int], split: str) -> dict[str, object]:
    """Per source and all together: the estimate's agreement, the commonest dev band's."""
    out: dict[str, object] = {}
    for source in (*SOURCES, "all"):
        mine = [(i, e) for i, e in enumerate(essays) if source in ("all", e.source)]
        chosen = [(i, e) for i, e in mine if e.split == split]
        if not chosen:
            continue
        commonest = Counter(e.band for _, e in mine if e.split == "dev")
        majority = commonest.most_common(1)[0][0]
        truth = [e.band for _, e in chosen]
        out[source] = {
            "estimate": agreement(truth, [guess[i] for i, _ in chosen]),
            "commonest_band": majority,
            "baseline": agreement(truth, [majority] * len(truth)),
            "human_bands": dict(sorted(Counter(truth).items())),
            "estimated_bands": dict(sorted(Counter(guess[i] for i, _ in chosen).items())),
        }
    return out


def _bands_guess(essays: list[Essay], bands) -> dict[int, int]:
    from essay_marker.analysis.spag import spag_band

    return {i: spag_band(e.words, e.accuracy, e.control, None, bands) for i, e in enumerate(essays)}


def _objective(essays: list[Essay], bands, objective: str = "qwk") -> float:
    """Mean over the sources of QWK, exact agreement or their average, dev half only."""
    guess = _bands_guess(essays, bands)
    figures = report(essays, guess, "dev")
    chosen = [f["estimate"] for source, f in figures.items() if source != "all"]
    if objective == "mix":
        return sum((f["qwk"] + f["exact"]) / 2 for f in chosen) / len(chosen)
    return sum(f[objective] for f in chosen) / len(chosen)


def _original():
    from essay_marker.analysis.spag import Band, Bands

    # The thresholds before calibration (commit 317646e), as a starting point.
    return Bands(
        40,
        (
            Band(4, 0.985, 0.85, 6),
            Band(3, 0.96, 0.7, 4),
            Band(2, 0.93, 0.5, 2),
            Band(1, 0.85, 0.0, 0),
        ),
    )


def calibrate(essays: list[Essay], start=None, objective: str = "qwk"):
    """Coordinate ascent over each band's accuracy and control thresholds, on dev."""
    from essay_marker.analysis.spag import bundled_bands

    best = start or bundled_bands()
    score = _objective(essays, best, objective)
    for _ in range(10):
        improved = False
        for k in range(len(best.bands)):
            for field, grid in (("accuracy", ACCURACY_GRID), ("control", CONTROL_GRID)):
                higher = best.bands[k - 1] if k > 0 else None
                lower = best.bands[k + 1] if k + 1 < len(best.bands) else None
                for value in grid:
                    # Thresholds never fall as the band rises.
                    if higher is not None and value > getattr(higher, field):
                        continue
                    if lower is not None and value < getattr(lower, field):
                        continue
                    bands = list(best.bands)
                    bands[k] = replace(bands[k], **{field: value})
                    candidate = replace(best, bands=tuple(bands))
                    s = _objective(essays, candidate, objective)
                    if s > score + 1e-9:
                        best, score, improved = candidate, s, True
        if not improved:
            break
    return best, score


def bands_toml(bands, header: str) -> str:
    """The thresholds as essay_marker/data/spag_bands.toml, keeping the file's own header."""
    lines = [header.rstrip("\n"), f"min_words = {bands.min_words}"]
    for b in bands.bands:
        lines += ["", "[[bands]]", f"band = {b.band}", f"accuracy = {b.accuracy}"]
        lines += [f"control = {b.control}", f"terms = {b.terms}"]
    return "\n".join(lines) + "\n"


def _print(title: str, figures: dict[str, object]) -> None:
    print(title)
    print(f"  {'source':<8} {'n':>5} {'QWK':>6} {'exact':>6} {'adj.':>6}   commonest band: exact")
    for source, f in figures.items():
        e, b = f["estimate"], f["baseline"]
        print(
            f"  {source:<8} {e['n']:>5} {e['qwk']:>6.3f} {e['exact']:>6.1%} {e['adjacent']:>6.1%}"
            f"   {f['commonest_band']}: {b['exact']:.1%} (adjacent {b['adjacent']:.1%})"
        )
        print(f"  {'':<8} human bands {f['human_bands']}, estimated {f['estimated_bands']}")


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--calibrate", action="store_true", help="fit the thresholds on dev")
    parser.add_argument("--write", action="store_true", help="with --calibrate: save them")
    parser.add_argument(
        "--objective",
        choices=("qwk", "exact", "mix"),
        default="qwk",
        help="what --calibrate maximises (mean over the sources; mix: QWK and exact halved)",
    )
    parser.add_argument(
        "--start", choices=("shipped", "original"), default="shipped", help="--calibrate's start"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    essays = load(args.data, args.jobs)
    if not essays:
        print(
            f"no ELLIPSE or ASAP trait marks in {args.data}: skipped (give --data)", file=sys.stderr
        )
        return 0
    shipped = {i: e.mark for i, e in enumerate(essays)}
    summary: dict[str, object] = {
        "essays": dict(Counter(f"{e.source} {e.split}" for e in essays)),
        "as_shipped": {
            "dev": report(essays, shipped, "dev"),
            "test": report(essays, shipped, "test"),
        },
    }
    from essay_marker.analysis.spag import bundled_bands

    untermed = _bands_guess(essays, bundled_bands())
    summary["shipped_thresholds_no_terms"] = {"test": report(essays, untermed, "test")}
    if args.calibrate:
        start = _original() if args.start == "original" else None
        bands, score = calibrate(essays, start, args.objective)
        fitted = _bands_guess(essays, bands)
        summary["calibrated"] = {
            "objective": args.objective,
            "dev_mean": round(score, 3),
            "bands": [b.__dict__ for b in bands.bands],
            "dev": report(essays, fitted, "dev"),
            "test": report(essays, fitted, "test"),
        }
        if args.write:
            text = BANDS_FILE.read_text(encoding="utf-8")
            header = text[: text.index("\nmin_words =") + 1]
            BANDS_FILE.write_text(bands_toml(bands, header), encoding="utf-8")
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    _print("The estimate as the code stands, test half:", summary["as_shipped"]["test"])
    _print(
        "\nThe shipped thresholds, no specialist terms asked for, test half:",
        summary["shipped_thresholds_no_terms"]["test"],
    )
    if args.calibrate:
        cal = summary["calibrated"]
        print(f"\nCalibrated on dev (mean {args.objective} {cal['dev_mean']}): {cal['bands']}")
        _print("Calibrated thresholds, test half:", cal["test"])
        if args.write:
            print(f"written to {BANDS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
