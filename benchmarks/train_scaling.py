"""How training time grows with the data: the corpus at 1x, 2x and 4x.

    python benchmarks/train_scaling.py [--factors 1,2,4]

Each multiple adds copies of the corpus's scripts under new names (the sentence labels
stay with the originals), so the work per script is the real work; the figures are about
time, not agreement (copies make cross-validation optimistic). Training is the whole of
`essaymark train`: analysis, cross-validation of every candidate, sentence-model figures
and the final fit.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from essay_marker.dataset import MarkedSet, load_marked
from essay_marker.rubric import find_rubric
from essay_marker.training.fit import train

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "stalin-main-reason"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", default="1,2,4")
    args = parser.parse_args()
    rubric = find_rubric("stalin-main-reason")
    base = load_marked(CORPUS, CORPUS / "marks.csv", rubric)
    print(f"cores: {os.cpu_count()}; corpus: {len(base.scripts)} scripts")
    first = None
    for k in (int(f) for f in args.factors.split(",")):
        copies = tuple(
            type(s)(f"copy{c}-{s.file}", s.text, s.mark, s.spag)
            for c in range(1, k)
            for s in base.scripts
        )
        marked = MarkedSet(base.scripts + copies, base.annotations, f"x{k}")
        started = time.perf_counter()
        train(marked, rubric, f"scaling-x{k}")
        seconds = time.perf_counter() - started
        first = first or seconds
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"x{k}: {len(marked.scripts)} scripts, train {seconds:.1f} s "
            f"({seconds / first:.2f} x the 1x time), peak memory so far {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
