"""How long `essaymark train` takes with nested selection, for a class set and beyond.

    python benchmarks/train_time.py [--sizes 35,200,1000] [--jobs 1,2] [--data DIR]

Times `training.train` (analysis, nested cross-validation, sentence-model figures, the
final fit: all of `essaymark train` but reading files and saving) on:

- a class set of 35 of the held-out corpus scripts for the bundled question, with the
  bundled corpus added as `train` does (35 + 264 scripts, the figures on the 35);
- samples of ASAP-AES prompt 1 (a question essaymark has no corpus for: a factor-less
  rubric, marks 0-10) of each size, as a teacher with a new question would train.

Each run also prints the nested QWK, the inner best and length alone. The load average
is printed too: other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from essay_marker.dataset import MarkedSet, Script, base_corpus, load_marked
from essay_marker.rubric import find_rubric
from essay_marker.training.fit import train
from essay_marker.training.sets import with_base

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.asap import DEFAULT_DATA, RANGES, prompt_rubric  # noqa: E402

HOLDOUT = ROOT / "corpus" / "stalin-main-reason-holdout"


def timed(label: str, data, rubric, jobs: int | None) -> None:
    started = time.perf_counter()
    model = train(data, rubric, "timing", jobs=jobs)
    seconds = time.perf_counter() - started
    cv = model.card["cross_validation"]
    print(
        f"{label:34} jobs {jobs or 'auto':>4}  {seconds:6.1f} s  nested QWK "
        f"{cv['model']['qwk']:.3f}  inner best {cv['qwk_inner_best']:.3f}  length "
        f"{cv['length_qwk']:.3f}  ({cv['folds']} folds x {cv['repeats']}; "
        f"load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="35,200,1000")
    parser.add_argument("--jobs", default="1,2", help="processes for the outer folds")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the asap-aes folder")
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    print(f"cores: {os.cpu_count()}")
    rubric = find_rubric("stalin-main-reason")
    holdout = load_marked(HOLDOUT, HOLDOUT / "marks.csv", rubric)
    own = MarkedSet(holdout.scripts[:35], (), "class-35")
    for j in jobs:
        timed(
            "class of 35 + bundled corpus",
            with_base(own, base_corpus(rubric), rubric.id),
            rubric,
            j,
        )
    tsv = args.data / "training_set_rel3.tsv.gz"
    if not tsv.is_file():
        print(f"ASAP-AES not found in {args.data}: sizes skipped (give --data)")
        return
    essays = pd.read_csv(tsv, sep="\t", usecols=["essay_id", "essay_set", "essay", "domain1_score"])
    prompt = essays[essays.essay_set == 1]
    asap = prompt_rubric(1)
    low = RANGES[1][0]
    for size in (int(s) for s in args.sizes.split(",")):
        part = prompt.sample(size, random_state=0)
        scripts = tuple(
            Script(str(i), text, int(score) - low, None)
            for i, text, score in zip(part.essay_id, part.essay, part.domain1_score, strict=True)
        )
        for j in jobs:
            timed(f"ASAP prompt 1, {size} scripts", MarkedSet(scripts, (), f"asap-{size}"), asap, j)


if __name__ == "__main__":
    main()
