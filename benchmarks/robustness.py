"""Robustness figures: flags caught on the adversarial suite, false alarms, and gaming tricks.

    python benchmarks/robustness.py [--source FILE]

Prints per-flag catches on tests/fixtures/adversarial, false alarms on every genuine
(Level 1-4) script in corpus/, and the mark change when real essays are padded,
stuffed with keywords or have their sentences shuffled. --source FILE also checks the
corpus's copied scripts against that text (e.g. the revision page students used).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from essay_marker.model.persist import bundled_model
from essay_marker.rubric import find_rubric
from essay_marker.scoring import score_essay
from essay_marker.text import analyse

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a source text students were given")
    args = parser.parse_args()
    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    started = time.perf_counter()

    print(
        "Adversarial suite (tests/fixtures/adversarial): caught with the expected flag / any "
        "capping flag / cases"
    )
    for folder in sorted((ROOT / "tests/fixtures/adversarial").iterdir()):
        exact = capped = total = 0
        missed = []
        for path in sorted(folder.glob("*.txt")):
            r = score_essay(path.read_text(encoding="utf-8"), rubric, model)
            ids = {f.id for f in r.flags}
            total += 1
            exact += folder.name in ids
            capped += any(f.cap is not None for f in r.flags)
            if not any(f.cap is not None for f in r.flags):
                missed.append(f"{path.stem} ({r.mark})")
        print(
            f"  {folder.name:18} {exact:>3} / {capped:>3} / {total}"
            + (f"  missed (mark): {', '.join(missed)}" if missed else "")
        )
    honest = sorted((ROOT / "tests/fixtures/honest").glob("*.txt"))
    wrongly = [
        p.stem for p in honest if score_essay(p.read_text(encoding="utf-8"), rubric, model).flags
    ]
    print(
        f"Honest weak, EAL and narrative scripts (tests/fixtures/honest) flagged: "
        f"{len(wrongly)} of {len(honest)} {wrongly or ''}"
    )

    corpus = []
    for name in ("stalin-main-reason", "stalin-main-reason-holdout"):
        marks = pd.read_csv(ROOT / "corpus" / name / "marks.csv")
        for row in marks.itertuples():
            corpus.append(
                (row.level, (ROOT / "corpus" / name / row.file).read_text(encoding="utf-8"))
            )
    genuine = [(lv, t) for lv, t in corpus if lv > 0]
    alarms = Counter()
    results = {}
    for i, (_, text) in enumerate(genuine):
        results[i] = score_essay(text, rubric, model)
        alarms.update(f.id for f in results[i].flags)
    flagged = sum(bool(r.flags) for r in results.values())
    print(
        f"False alarms on {len(genuine)} genuine scripts: {flagged} ({flagged / len(genuine):.1%})"
        f" {dict(alarms)}"
    )
    unusable = [t for lv, t in corpus if lv == 0]
    sources = (args.source.read_text(encoding="utf-8"),) if args.source else ()
    caught = sum(bool(score_essay(t, rubric, model, sources=sources).flags) for t in unusable)
    print(
        f"Level 0 scripts in the corpus flagged: {caught} of {len(unusable)}"
        + (" (with --source)" if sources else " (copied ones need --source)")
    )

    rng = random.Random(0)
    strong = [i for i, (lv, _) in enumerate(genuine) if lv >= 3]
    deltas = {"padded x3": [], "keywords appended": [], "sentences shuffled": []}
    disordered = 0
    for i in strong:
        text, base = genuine[i][1], results[i].mark
        deltas["padded x3"].append(
            score_essay(text + ("\n\n" + text) * 3, rubric, model).mark - base
        )
        stuffed = (
            text
            + "\n\n"
            + " ".join(
                [
                    "General Secretary Politburo Troika NEP Testament 1922 "
                    "1924 1927 Zinoviev Kamenev Bukharin"
                ]
                * 3
            )
        )
        deltas["keywords appended"].append(score_essay(stuffed, rubric, model).mark - base)
        sentences = [s.text for s in analyse(text).sentences]
        rng.shuffle(sentences)
        moved = score_essay(" ".join(sentences), rubric, model)
        deltas["sentences shuffled"].append(moved.mark - base)
        disordered += any(f.id == "disordered" for f in moved.flags)
    print(f"Mark change on {len(strong)} Level 3-4 scripts (mean / min / max, marks out of 16):")
    for name, d in deltas.items():
        print(
            f"  {name:20} {statistics.mean(d):+.2f} / {min(d):+d} / {max(d):+d}"
            f"  (lower in {sum(x < 0 for x in d)}, higher in {sum(x > 0 for x in d)})"
        )
    print(f"Shuffled scripts flagged disordered: {disordered} of {len(strong)}")
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
