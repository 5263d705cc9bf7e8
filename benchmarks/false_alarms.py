"""False alarms: the screen on every genuine script available, and on the adversarial suite.

    python benchmarks/false_alarms.py [--data ../shared/data] [--json] [--limit N]

Genuine scripts, each screened as `check` screens it:
- the corpus (Level 1-4), each judged against the *other* answers' word pairs (leave one
  out), as a new script would be;
- the blind validity set (Level 1-4), with the shipped model's pairs;
- the real essays in ../shared/data: ASAP-AES (eight prompts) and ELLIPSE (44 prompts),
  each against a rubric written for its prompt from the prompt alone (benchmarks/rubrics/,
  topic terms included), with word pairs learned as a teacher's model would learn them:
  from the other four fifths of the prompt's essays (and kept only when trusted, as
  `train` does). ASAP essays scored at the bottom of a scale that starts at 0 are left out
  (a 0 there can mean off the question); every other essay is genuine.
For each, the scripts whose mark a style or vocabulary flag zeroed or capped (the target is
none), and those only referred (advisories; the target is under 2%). Then the adversarial
suite's catches: a caught script is referred, with its reason, even where its mark stands.
The real data sets are skipped when absent. About five minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = ROOT / "benchmarks" / "rubrics"
DATA = ROOT.parent / "shared" / "data"
# Flags that only say the script is empty or not in English may set marks: certain by
# their nature. Every other flag that set a mark on a genuine script is a false alarm.
CERTAIN = {"empty", "not_english"}


def severity(flag: Any) -> str:
    """A flag's severity; older flags (before severities) by their cap and penalty."""
    found = getattr(flag, "severity", None)
    if found is not None:
        return str(found)
    if flag.cap == 0:
        return "zero"
    if flag.cap is not None or getattr(flag, "penalty", 0):
        return "cap"
    return "advisory"


def _screen_all(analyses: list, rubric: Any, familiar: list, credited: list) -> list[list]:
    from essay_marker.screen.flags import screen

    return [
        list(screen(a, rubric, (), f or None, c or None).flags)
        for a, f, c in zip(analyses, familiar, credited, strict=True)
    ]


def _tally(name: str, flags_per_script: list[list]) -> dict[str, Any]:
    """What the flags did on one genuine set."""
    n = len(flags_per_script)
    set_mark: Counter[str] = Counter()
    advisory: Counter[str] = Counter()
    zeroed = capped = referred = short = 0
    for flags in flags_per_script:
        kinds = [(getattr(f, "check", f.id), severity(f)) for f in flags]
        # Set by a style or vocabulary flag: anything but being empty or not English.
        marking = [(c, s) for c, s in kinds if s in ("zero", "cap") and c not in CERTAIN]
        zeroed += any(s == "zero" for _, s in marking)
        capped += any(s == "cap" for _, s in marking)
        set_mark.update(c for c, _ in marking)
        # Length is a count, not a reading of style: too_short is reported on its own.
        styled = [c for c, s in kinds if s in ("advisory", "blank") and c != "too_short"]
        advisory.update(styled)
        referred += bool(styled)
        short += "too_short" in [c for c, _ in kinds]
    return {
        "set": name,
        "scripts": n,
        "zeroed": zeroed,
        "capped": capped,
        "set_mark_by_check": dict(set_mark.most_common()),
        "referred": referred,
        "referred_share": round(referred / n, 4) if n else None,
        "advisory_by_check": dict(advisory.most_common()),
        "too_short": short,
    }


def corpus_sets() -> list[dict[str, Any]]:
    """The corpus (leave one out) and the blind set, screened with the shipped model."""
    from essay_marker.analysis.features import analyse_essays, word_pairs
    from essay_marker.model.persist import bundled_model
    from essay_marker.rubric import find_rubric

    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    out = []
    texts, marks, levels = [], [], []
    for name in ("stalin-main-reason", "stalin-main-reason-holdout"):
        table = pd.read_csv(ROOT / "corpus" / name / "marks.csv")
        texts += [(ROOT / "corpus" / name / f).read_text(encoding="utf-8") for f in table.file]
        marks += list(table.mark)
        levels += list(table.level)
    analyses = analyse_essays(texts, rubric, model.hook())
    pairs = [set(word_pairs(a)) for a in analyses]
    docs = Counter(p for mine, m in zip(pairs, marks, strict=True) if m > 0 for p in mine)
    up = Counter(p for mine, lv in zip(pairs, levels, strict=True) if lv >= 2 for p in mine)
    keep = [i for i, lv in enumerate(levels) if lv > 0]
    familiar = [frozenset(p for p, n in docs.items() if n - (p in pairs[i]) >= 2) for i in keep]
    credited = [
        frozenset(p for p, n in up.items() if n - (levels[i] >= 2 and p in pairs[i]) >= 2)
        for i in keep
    ]
    flags = _screen_all([analyses[i] for i in keep], rubric, familiar, credited)
    out.append(_tally("corpus, leave one out", flags))
    blind = ROOT / "corpus" / "stalin-main-reason-blind"
    if blind.is_dir():
        table = pd.read_csv(blind / "marks.csv")
        table = table[table.level > 0]
        texts = [(blind / f).read_text(encoding="utf-8") for f in table.file]
        analyses = analyse_essays(texts, rubric, model.hook())
        n = len(analyses)
        flags = _screen_all(analyses, rubric, [model.familiar] * n, [model.credited] * n)
        out.append(_tally("blind validity set", flags))
    return out


def _prompt_set(job: tuple[str, Path, list[str], list[float], float]) -> tuple[str, list[list]]:
    """Screen one prompt's essays, word pairs learned from the other four fifths."""
    from essay_marker.analysis.features import analyse_essays
    from essay_marker.rubric import load_rubric
    from essay_marker.training.fit import common_pairs, trusted_familiar

    name, rubric_path, texts, scores, credit_from = job
    rubric = load_rubric(rubric_path)
    analyses = analyse_essays(texts, rubric)
    folds = [i % 5 for i in range(len(texts))]
    familiar, credited = [frozenset()] * len(texts), [frozenset()] * len(texts)
    for k in range(5):
        train = [i for i, f in enumerate(folds) if f != k]
        fam, _ = trusted_familiar([analyses[i] for i in train])
        cred = (
            common_pairs([analyses[i] for i in train if scores[i] >= credit_from]) if fam else fam
        )
        for i, f in enumerate(folds):
            if f == k:
                familiar[i], credited[i] = fam, cred
    return name, _screen_all(analyses, rubric, familiar, credited)


def real_jobs(
    data: Path, limit: int | None
) -> list[tuple[str, Path, list[str], list[float], float]]:
    """One job per prompt of ASAP-AES and ELLIPSE."""
    jobs = []
    asap = data / "asap-aes" / "training_set_rel3.tsv.gz"
    if asap.exists():
        table = pd.read_csv(asap, sep="\t")
        for prompt, group in table.groupby("essay_set"):
            scores = group.domain1_score.astype(float)
            low, high = scores.min(), scores.max()
            if low == 0:  # a 0 can mean the essay does not answer: not certainly genuine
                group, scores = group[scores > 0], scores[scores > 0]
            group, scores = (
                group.head(limit) if limit else group,
                scores.head(limit) if limit else scores,
            )
            credit_from = low + (high - low) / 4  # above the lowest quarter of the scale
            jobs.append(
                (f"ASAP-AES {prompt}", RUBRICS / f"asap-{prompt}.toml", list(group.essay),
                 list(scores), credit_from)
            )  # fmt: skip
    ellipse = data / "ellipse" / "ELLIPSE_Final_github_test.csv.gz"
    if ellipse.exists():
        table = pd.read_csv(ellipse)
        for prompt, group in table.groupby("prompt"):
            slug = re.sub(r"[^a-z0-9-]", "", prompt.lower().replace(" ", "-"))
            group = group.head(limit) if limit else group
            jobs.append(
                (f"ELLIPSE {prompt}", RUBRICS / f"ellipse-{slug}.toml", list(group.full_text),
                 list(group.Overall), 2.0)
            )  # fmt: skip
    return jobs


def adversarial() -> dict[str, dict[str, int]]:
    """Per family of the adversarial suite: caught with that family's flag, referred at all,
    and mark set (zeroed or capped), of how many."""
    from essay_marker.model.persist import bundled_model
    from essay_marker.rubric import find_rubric
    from essay_marker.scoring import score_essays

    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    out = {}
    for folder in sorted((ROOT / "tests" / "fixtures" / "adversarial").iterdir()):
        paths = sorted(folder.glob("*.txt"))
        results = score_essays(
            [(p.read_text(encoding="utf-8"), p.name) for p in paths], rubric, model
        )
        out[folder.name] = {
            "cases": len(results),
            "caught": sum(folder.name in {f.id for f in r.flags} for r in results),
            "referred": sum(r.refer_to_teacher for r in results),
            "mark_set": sum(any(severity(f) in ("zero", "cap") for f in r.flags) for r in results),
            "good_mark": sum(r.level >= 2 for r in results),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, help="at most this many essays a prompt (quick look)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the real data sets")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = corpus_sets()
    real: dict[str, list[list]] = {"ASAP-AES": [], "ELLIPSE": []}
    jobs = real_jobs(args.data, args.limit)
    with ProcessPoolExecutor(args.jobs) as pool:
        for name, flags in pool.map(_prompt_set, jobs):
            real[name.split()[0]].extend(flags)
    sets += [_tally(name, flags) for name, flags in real.items() if flags]
    everything = {"sets": sets, "adversarial": adversarial()}
    everything["seconds"] = round(time.perf_counter() - started)
    if args.json:
        print(json.dumps(everything, indent=2))
        return
    print(
        "Genuine scripts: zeroed / capped by a style or vocabulary flag (target 0), referred "
        "by one (target < 2%), and under 40 words (too_short, a count)"
    )
    for s in sets:
        print(
            f"  {s['set']:24} {s['scripts']:>6} scripts  zeroed {s['zeroed']:>3}  capped "
            f"{s['capped']:>3} {s['set_mark_by_check'] or ''}  referred {s['referred']} "
            f"({s['referred_share']:.1%}) {s['advisory_by_check'] or ''}; "
            f"too short {s['too_short']}"
        )
    print(
        "Adversarial suite: caught with the family's flag / referred / mark set / Level 2+ of cases"
    )
    for family, c in everything["adversarial"].items():
        print(
            f"  {family:18} {c['caught']:>3} / {c['referred']:>3} / {c['mark_set']:>3} / "
            f"{c['good_mark']:>3} of {c['cases']}"
        )
    print(f"took {everything['seconds']} s")


if __name__ == "__main__":
    main()
