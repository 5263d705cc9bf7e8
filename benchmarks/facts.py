"""Fact checks on essays written blind to the rubric: corrections found against an answer key.

    python benchmarks/facts.py

tests/fixtures/facts/set1 and set2 were each written by a helper who never saw the rubric or
the code: six "muddled" essays (fluent, with 4-8 made-up or swapped facts) and six honest
answers with 0-2 ordinary slips, and a key.csv counting the errors in each. For every essay
this prints the corrections essaymark makes (check them by eye against the key's
description), the key's count, the mark and any flags.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from essay_marker.model.persist import bundled_model
from essay_marker.rubric import find_rubric
from essay_marker.scoring import score_essay

SETS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "facts"


def main() -> None:
    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    started = time.perf_counter()
    for folder in sorted(p for p in SETS.iterdir() if p.is_dir()):
        key = pd.read_csv(folder / "key.csv").set_index("file")
        totals = {"muddled": [0, 0, 0, 0], "slips": [0, 0, 0, 0]}  # errors, found, flagged, n
        print(f"== {folder.name}")
        for name, row in key.iterrows():
            result = score_essay((folder / name).read_text(encoding="utf-8"), rubric, model)
            kind = name.split("-")[0]
            flags = [f.id for f in result.flags]
            t = totals[kind]
            t[0] += int(row["errors"])
            t[1] += len(result.misconceptions)
            t[2] += "gibberish" in flags
            t[3] += 1
            print(
                f"{name:16} key {row['errors']}  corrected {len(result.misconceptions)}  "
                f"mark {result.mark:2}  flags {flags}"
            )
            for m in result.misconceptions:
                print(f"{'':18}- {m.claim}")
        for kind, (errors, found, flagged, n) in totals.items():
            print(
                f"  {kind:8} {n} essays: {found} corrections for {errors} errors in the key; "
                f"flagged as made up: {flagged}"
            )
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
