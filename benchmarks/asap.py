"""Teacher retraining, proven on real marked essays: ASAP-AES with the standard 5-fold split.

For each prompt a factor-less rubric is written from `essaymark rubric new`'s template
(marks 0 to the prompt's range, shifted so the lowest score is 0: QWK does not change),
and for each fold essaymark's own training path (`training.train`: nested cross-validation,
candidate selection by cross-validated QWK, thresholds, final fit) learns from the fold's
train and dev essays and marks its test essays. Nothing is tuned on the test essays. QWK
per prompt is averaged over the folds, as published results are; beside it, the nested
cross-validated QWK that `train` reported on the training essays and the inner best (the
figure reported before nested selection), to see which one the test essays bear out.

    python benchmarks/asap.py --data ../shared/data/asap-aes [--prompts 1,2] [--folds 0,1]
        [--jobs 2] [--json]
    python benchmarks/asap.py --class-size 35 [--samples 2]   # a teacher's class set instead

The data stays where it is: nothing from it is written into the project.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from essay_marker.analysis.features import analyse_essay
from essay_marker.dataset import MarkedSet, Script
from essay_marker.model.pipeline import CANDIDATES
from essay_marker.rubric import Rubric, parse_rubric, rubric_template
from essay_marker.training.crossval import cross_validate
from essay_marker.training.fit import train

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "asap-aes"
# domain1_score ranges, from the data set's documentation.
RANGES = {1: (2, 12), 2: (1, 6), 3: (0, 3), 4: (0, 3), 5: (0, 4), 6: (0, 4), 7: (0, 30), 8: (0, 60)}
HUMAN = {1: 0.721, 2: 0.814, 3: 0.769, 4: 0.851, 5: 0.753, 6: 0.776, 7: 0.721, 8: 0.624}
EASE = {1: 0.761, 2: 0.606, 3: 0.621, 4: 0.742, 5: 0.784, 6: 0.775, 7: 0.730, 8: 0.617}
PUBLISHED_AVERAGE = {
    "human rater 1 vs 2": 0.754,
    "EASE (BLRR)": 0.705,
    "LSTM (Taghipour & Ng 2016)": 0.746,
    "BERT (Kumar et al. 2022)": 0.767,
    "string kernels + embeddings (Cozma et al. 2018)": 0.785,
    "R2BERT (Yang et al. 2020)": 0.794,
}


def prompt_rubric(prompt: int) -> Rubric:
    """The rubric a teacher would write for the prompt from the template: no factors."""
    low, high = RANGES[prompt]
    top = high - low
    text = rubric_template(
        f"asap-{prompt}", f"ASAP-AES prompt {prompt}", top, spag_max=0, levels=min(4, top)
    )
    return parse_rubric(text, f"asap-{prompt}.toml")


def _analyse(args: tuple[list[str], Rubric]) -> list:
    texts, rubric = args
    return [analyse_essay(t, rubric) for t in texts]


def analyse_all(texts: list[str], rubric: Rubric, jobs: int) -> list:
    """Every essay analysed once (the analysis does not depend on the training data)."""
    if jobs <= 1:
        return _analyse((texts, rubric))
    size = max(1, len(texts) // (jobs * 4))
    chunks = [(texts[i : i + size], rubric) for i in range(0, len(texts), size)]
    with ProcessPoolExecutor(jobs) as pool:
        return [a for part in pool.map(_analyse, chunks) for a in part]


def run_prompt(
    prompt: int, essays: pd.DataFrame, folds: pd.DataFrame, which: list[int], jobs: int
) -> dict:
    """Train and test on each fold of one prompt; QWK per fold and averaged."""
    rubric = prompt_rubric(prompt)
    low, high = RANGES[prompt]
    data = essays[essays.essay_set == prompt].set_index("essay_id")
    started = time.perf_counter()
    ids = data.index.tolist()
    analyses = dict(zip(ids, analyse_all(data.essay.tolist(), rubric, jobs), strict=True))
    analysed = time.perf_counter() - started
    result: dict = {"prompt": prompt, "essays": len(data), "range": [low, high], "folds": {}}
    for k in which:
        t0 = time.perf_counter()
        split = folds[(folds.fold == k) & folds.essay_id.isin(ids)]
        train_ids = split[split.split != "test"].essay_id.tolist()  # train and dev: no tuning
        test_ids = split[split.split == "test"].essay_id.tolist()
        scripts = tuple(
            Script(str(i), data.essay[i], int(data.domain1_score[i]) - low, None) for i in train_ids
        )
        marked = MarkedSet(scripts, (), f"asap-{prompt}-fold{k}")
        model = train(marked, rubric, f"asap-{prompt}", analyses=[analyses[i] for i in train_ids])
        scored = model.score_many([analyses[i] for i in test_ids], rubric)
        predicted = np.array([mark for mark, _, _ in scored]) + low
        truth = data.domain1_score[test_ids].to_numpy()
        labels = list(range(low, high + 1))
        qwk = float(cohen_kappa_score(truth, predicted, weights="quadratic", labels=labels))
        cv = model.card["cross_validation"]
        result["folds"][k] = {
            "train": len(train_ids),
            "test": len(test_ids),
            "qwk": round(qwk, 4),
            "exact": round(float(np.mean(truth == predicted)), 4),
            "adjacent": round(float(np.mean(np.abs(truth - predicted) <= 1)), 4),
            "cv_qwk": cv["model"]["qwk"],  # nested: the choice made inside each fold
            "cv_qwk_inner_best": cv["qwk_inner_best"],
            "length_baseline_cv_qwk": cv["length_baseline"]["qwk"],
            "chosen": cv["chosen"],
            "winners": cv["winners"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(
            f"prompt {prompt} fold {k}: QWK {qwk:.3f} ({cv['chosen']}; cross-validated "
            f"{cv['model']['qwk']:.3f}, inner best {cv['qwk_inner_best']:.3f}; "
            f"{time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    qwks = [f["qwk"] for f in result["folds"].values()]
    result["qwk"] = round(float(np.mean(qwks)), 4)
    for key in ("cv_qwk", "cv_qwk_inner_best"):
        result[key] = round(float(np.mean([f[key] for f in result["folds"].values()])), 4)
    result["analysis_seconds"] = round(analysed, 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def small_classes(
    prompt: int, essays: pd.DataFrame, size: int, samples: int, every: bool = False
) -> list[dict]:
    """Nested cross-validated figures as `train` reports them, on random class sets.

    Per set: the outer QWK (the honest figure), the inner best (the chosen candidate's
    figure on the folds it was chosen on, as reported before nested selection), the
    length-only figure by the same outer procedure, the spread over repeats, the winners
    and the time. `every` also runs all nine candidates (instead of the small-set six).
    """
    rubric = prompt_rubric(prompt)
    low = RANGES[prompt][0]
    rows = []
    for seed in range(samples):
        part = essays[essays.essay_set == prompt].sample(size, random_state=seed)
        scripts = tuple(
            Script(str(i), text, int(score) - low, None)
            for i, text, score in zip(part.essay_id, part.essay, part.domain1_score, strict=True)
        )
        marked = MarkedSet(scripts, (), f"asap-{prompt}-class{seed}")
        t0 = time.perf_counter()
        cv = cross_validate(marked, rubric).figures
        row = {
            "prompt": prompt,
            "sample": seed,
            "outer": cv["model"]["qwk"],
            "inner_best": cv["qwk_inner_best"],
            "length": cv["length_qwk"],
            "spread_min": cv["spread"]["min"],
            "spread_max": cv["spread"]["max"],
            "clear": cv["beats_length"]["clear"],
            "chosen": cv["chosen"],
            "winners": cv["winners"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        if every:
            nine = cross_validate(marked, rubric, 5, CANDIDATES).figures
            row.update(outer_all9=nine["model"]["qwk"], inner_best_all9=nine["qwk_inner_best"])
        rows.append(row)
        print(rows[-1], file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the asap-aes folder")
    parser.add_argument("--prompts", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--folds", default="0,1,2,3,4")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="for analysis")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--class-size", type=int, help="cross-validate class sets of this size")
    parser.add_argument("--samples", type=int, default=2, help="class sets per prompt")
    parser.add_argument(
        "--all-candidates", action="store_true", help="class sets: also run all nine candidates"
    )
    args = parser.parse_args(argv)
    tsv = args.data / "training_set_rel3.tsv.gz"
    split_file = args.data / "taghipour_ng_2016_folds.csv"
    if not tsv.is_file() or not split_file.is_file():
        print(f"ASAP-AES not found in {args.data}: skipped (give --data)", file=sys.stderr)
        return 0
    prompts = [int(p) for p in args.prompts.split(",")]
    which = [int(k) for k in args.folds.split(",")]
    essays = pd.read_csv(tsv, sep="\t", usecols=["essay_id", "essay_set", "essay", "domain1_score"])
    folds = pd.read_csv(split_file)
    started = time.perf_counter()
    if args.class_size:
        rows = [
            r
            for p in prompts
            for r in small_classes(p, essays, args.class_size, args.samples, args.all_candidates)
        ]
        table = pd.DataFrame(rows)
        if args.json:
            print(table.to_json(orient="records", indent=2))
        columns = ["outer", "inner_best", "length", "spread_min", "spread_max"]
        columns += ["outer_all9", "inner_best_all9"] if args.all_candidates else []
        means = table.groupby("prompt")[columns].mean()
        print(
            f"class sets of {args.class_size}, {args.samples} per prompt; nested cross-validation"
        )
        print(means.round(3).to_string())
        print("mean", means.mean().round(3).to_dict())
        print(f"clearly above length only: {int(table.clear.sum())} of {len(table)}")
        winners = sum((Counter(w) for w in table.winners), Counter())
        print("outer-fold winners:", dict(winners.most_common()))
        print(f"seconds per class set: {table.seconds.mean():.1f} (max {table.seconds.max():.1f})")
        print(f"{time.perf_counter() - started:.0f} s in all")
        return 0
    results = [run_prompt(p, essays, folds, which, args.jobs) for p in prompts]
    average = round(float(np.mean([r["qwk"] for r in results])), 4)
    summary = {
        "prompts": results,
        "average_qwk": average,
        "average_cv_qwk": round(float(np.mean([r["cv_qwk"] for r in results])), 4),
        "average_cv_qwk_inner_best": round(
            float(np.mean([r["cv_qwk_inner_best"] for r in results])), 4
        ),
        "folds": which,
        "cores": os.cpu_count(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"ASAP-AES, Taghipour & Ng folds {which}, cores {os.cpu_count()}")
    print(
        f"{'prompt':>6} {'essays':>7} {'essaymark':>10} {'EASE':>6} {'human':>6}  beats EASE"
        f"  {'CV nested':>9} {'CV inner best':>13}"
    )
    for r in results:
        p = r["prompt"]
        beats = "yes" if r["qwk"] > EASE[p] else "NO"
        figures = f"{r['qwk']:>10.3f} {EASE[p]:>6.3f} {HUMAN[p]:>6.3f}"
        cv = f"{r['cv_qwk']:>9.3f} {r['cv_qwk_inner_best']:>13.3f}"
        print(f"{p:>6} {r['essays']:>7} {figures}  {beats:>10}  {cv}")
    if len(prompts) == 8:
        print(
            f"{'mean':>6} {'':>7} {average:>10.3f} {0.705:>6.3f} {0.754:>6.3f}  {'':>10}  "
            f"{summary['average_cv_qwk']:>9.3f} {summary['average_cv_qwk_inner_best']:>13.3f}"
        )
        for name, value in PUBLISHED_AVERAGE.items():
            print(f"  published: {name} {value:.3f}")
    print(f"{summary['seconds']:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
