"""Fluent nonsense written blind to the code: how much is flagged, and how many genuine
answers are wrongly flagged when the marked answers' vocabulary does not include their own.

    python benchmarks/nonsense.py

tests/fixtures/nonsense/set1 and set2 were each written by a helper who never saw the code,
the rubric or the corpus: essay-shaped answers that name the real factors but explain them
with absurd things (all absurd, half real history and half absurd, or invented customs and
rules). tests/fixtures/vivid/set1 and set2 are genuine answers written the same way, full of
concrete detail and everyday analogies: the scripts most likely to be mistaken for nonsense.

The gibberish checks compare an essay's reasons with the word pairs of the marked answers
the model was trained on. A corpus script is part of those answers, so its false-alarm
figure here uses the pairs of the *other* answers only (leave one out), as for a new script.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pandas as pd

from essay_marker.analysis.features import analyse_essays, word_pairs
from essay_marker.model.persist import bundled_model
from essay_marker.rubric import find_rubric
from essay_marker.scoring import score_essay
from essay_marker.screen.flags import screen
from essay_marker.training.fit import FAMILIAR_MIN_DOCS

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "stalin-main-reason"


def main() -> None:
    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    started = time.perf_counter()
    for kind in ("nonsense", "vivid"):
        for folder in sorted(p for p in (FIXTURES / kind).iterdir() if p.is_dir()):
            key = pd.read_csv(folder / "key.csv").set_index("file")
            column = "kind" if kind == "nonsense" else "ability"
            print(f"== {kind}/{folder.name}")
            caught: Counter[str] = Counter()
            seen: Counter[str] = Counter()
            for name, row in key.iterrows():
                result = score_essay((folder / name).read_text(encoding="utf-8"), rubric, model)
                flags = [f.id for f in result.flags]
                seen[row[column]] += 1
                caught[row[column]] += "gibberish" in flags
                print(f"{name:17} {row[column]:16} mark {result.mark:2}  flags {flags}")
            label = "flagged gibberish" if kind == "nonsense" else "wrongly flagged gibberish"
            print(
                f"  {label}: {sum(caught.values())} of {sum(seen.values())} "
                + str({k: f"{caught[k]}/{n}" for k, n in seen.items()})
            )

    marks = pd.read_csv(CORPUS / "marks.csv")
    texts = [(CORPUS / f).read_text(encoding="utf-8") for f in marks.file]
    analyses = analyse_essays(texts, rubric, model.hook())
    pairs = [set(word_pairs(a)) for a in analyses]
    # The model's familiar pairs come from every answer with credit, its credited pairs from
    # answers at Level 2 or above (training/fit.py).
    docs = Counter(p for mine, m in zip(pairs, marks.mark, strict=True) if m > 0 for p in mine)
    up = Counter(p for mine, lv in zip(pairs, marks.level, strict=True) if lv >= 2 for p in mine)
    flagged = []
    genuine = 0
    for a, mine, row in zip(analyses, pairs, marks.itertuples(), strict=True):
        if row.level == 0:
            continue
        genuine += 1
        others = frozenset(p for p, n in docs.items() if n - (p in mine) >= FAMILIAR_MIN_DOCS)
        above = frozenset(
            p for p, n in up.items() if n - (row.level >= 2 and p in mine) >= FAMILIAR_MIN_DOCS
        )
        if any(f.id == "gibberish" for f in screen(a, rubric, (), others, above).flags):
            flagged.append(row.file)
    print(
        f"Genuine corpus scripts (Level 1-4) flagged gibberish, each judged against the other "
        f"answers' word pairs: {len(flagged)} of {genuine} {flagged or ''}"
    )
    print(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
