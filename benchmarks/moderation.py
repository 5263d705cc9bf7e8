"""The moderation loop on real classes: ASAP-AES essays, their human scores as the teacher's.

    python benchmarks/moderation.py [--data ../shared/data] [--prompts 1 2 7] [--class-size 30]

For each prompt: a model is trained (as `essaymark train` trains one) on 300 of the
prompt's essays with their human scores; a "class" of other essays is marked as `batch`
marks it; `moderate` chooses the sample a teacher would mark; the human scores stand in for
the teacher's marks on that sample, and the report's figures and advice are printed beside
the agreement on the whole class (what the sample is meant to estimate). Skips when the
data is absent. No essay text is printed or kept.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from essay_marker import moderation as mod
from essay_marker.dataset import MarkedSet, Script
from essay_marker.rubric import parse_rubric, rubric_template
from essay_marker.scoring import score_essays
from essay_marker.training.fit import train
from essay_marker.training.sets import TrainingSet

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
QUESTIONS = {
    1: "Write a letter to your local newspaper on the effects computers have on people.",
    2: "Should materials found offensive be removed from library shelves?",
    7: "Write a story about a time when you or someone you know was patient.",
    8: "Tell a true story in which laughter was one element.",
}


def rubric_for(prompt: int, low: int, high: int) -> object:
    """A factor-less rubric on the prompt's own scale (marks from 0 to its top score)."""
    text = rubric_template(f"asap-{prompt}", QUESTIONS[prompt], high, spag_max=0)
    for level in range(1, 5):
        text = text.replace(
            f"Describe what a Level {level} answer does.", f"An answer at band {level}."
        )
    return parse_rubric(text, f"asap-{prompt}.toml")


def one_class(table: pd.DataFrame, prompt: int, size: int, sample: int | None) -> dict:
    """Train, mark a class, moderate a sample; figures on the sample and on the class."""
    rows = table[table.essay_set == prompt].sort_values("essay_id")
    scores = rows.domain1_score.astype(int)
    rubric = rubric_for(prompt, int(scores.min()), int(scores.max()))
    training = rows.iloc[:300]
    klass = rows.iloc[300 : 300 + size]
    marked = MarkedSet(
        tuple(
            Script(str(r.essay_id), r.essay, int(r.domain1_score), None)
            for r in training.itertuples()
        ),
        (),
        f"asap-{prompt}",
    )
    started = time.perf_counter()
    model = train(TrainingSet(marked, len(marked.scripts)), rubric, f"asap-{prompt}")
    results = score_essays(
        [(r.essay, f"{r.essay_id}.txt") for r in klass.itertuples()], rubric, model
    )
    book = pd.DataFrame(
        {
            "student": [str(r.essay_id) for r in klass.itertuples()],
            "file": [f"{r.essay_id}.txt" for r in klass.itertuples()],
            "level": [str(r.level) for r in results],
            "mark": [str(r.mark) for r in results],
            "confidence": [f"{r.confidence:.2f}" for r in results],
            "refer_to_teacher": [str(r.refer_to_teacher).lower() for r in results],
            "flags": [";".join(f.id for f in r.flags) for r in results],
            "targets": ["" for _ in results],
            "error": ["" for _ in results],
        }
    )
    human = {f"{r.essay_id}.txt": int(r.domain1_score) for r in klass.itertuples()}
    chosen = mod.choose_sample(book, sample)
    sampled = {c.file: human[c.file] for c in chosen}
    on_sample = mod.agreement(book, sampled, rubric)
    on_class = mod.agreement(book, human, rubric)
    return {
        "prompt": prompt,
        "scale": f"{int(scores.min())}-{int(scores.max())}",
        "class": size,
        "sample": len(chosen),
        "referred": int(sum(r.refer_to_teacher for r in results)),
        "sample_qwk": on_sample["qwk"],
        "sample_mean_difference": on_sample["mean_difference"],
        "class_qwk": on_class["qwk"],
        "class_mean_difference": on_class["mean_difference"],
        "class_exact_level": on_class["exact_level"],
        "advice": mod.recommendation(on_sample, "marked"),
        "seconds": round(time.perf_counter() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--prompts", type=int, nargs="+", default=[1, 2, 7, 8])
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--sample", type=int, help="sample size (default: moderate's)")
    args = parser.parse_args()
    path = args.data / "asap-aes" / "training_set_rel3.tsv.gz"
    if not path.exists():
        print(f"skipped: {path} is not here")
        return
    table = pd.read_csv(path, sep="\t")
    print(
        "prompt scale class sample referred | sample QWK, mean diff "
        "| class QWK, mean diff, exact level"
    )
    for prompt in args.prompts:
        f = one_class(table, prompt, args.class_size, args.sample)
        print(
            f"  {f['prompt']:>2} {f['scale']:>6} {f['class']:>5} {f['sample']:>6} "
            f"{f['referred']:>8} | "
            f"{f['sample_qwk']}, {f['sample_mean_difference']:+.2f} | {f['class_qwk']}, "
            f"{f['class_mean_difference']:+.2f}, {f['class_exact_level']:.0%}  ({f['seconds']} s)"
        )
        print(f"     advice: {f['advice']}")


if __name__ == "__main__":
    main()
