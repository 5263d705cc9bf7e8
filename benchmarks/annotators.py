"""How far two human annotators agree on what the validity set measures: the ceiling.

    python benchmarks/annotators.py [--json]

Part of the blind set's dev split was annotated a second time, sentence by sentence, by
annotators who never saw the first annotation (`second_sentences.csv`, `second_annotation.csv`
in corpus/stalin-main-reason-blind). This compares the two annotations with the figures
benchmarks/validity.py uses for essaymark: which reasons each essay mentions and explains
(F1, the four named reasons and the six others), the main reason, and the role of each
sentence. A target for essaymark above what two careful humans reach is not a target.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validity  # a sibling script, not a package

SECOND_UNITS = "second_sentences.csv"
SECOND_ESSAYS = "second_annotation.csv"


def factor_agreement(
    first: Sequence[validity.Gold], second: Sequence[validity.Gold], factor_ids: Sequence[str]
) -> dict[str, Any]:
    """Mentioned and explained F1 of one annotation against the other, pooled as validity.py
    pools essaymark's (F1 is symmetric: it does not matter which is called the reference)."""
    return {
        f"{kind}_f1": validity.pooled_f1(
            factor_ids,
            lambda fid, test=test: [getattr(g, test)(fid) for g in first],
            lambda fid, test=test: [getattr(g, test)(fid) for g in second],
        )
        for kind, test in (("mentioned", "mentions"), ("explained", "explains"))
    }


def role_agreement(
    first: Sequence[validity.Gold], second: Sequence[validity.Gold]
) -> dict[str, Any]:
    """Cohen's kappa on the role of each sentence both annotated (same cuts), and on the one
    distinction essaymark's explained rests on: explains or weighs, against anything else."""
    roles_a, roles_b = [], []
    for g1, g2 in zip(first, second, strict=True):
        by_span = {(u.start, u.end): u.role for u in g2.units}
        for u in g1.units:
            if (u.start, u.end) in by_span:
                roles_a.append(u.role)
                roles_b.append(by_span[(u.start, u.end)])
    explaining = [[r in validity.EXPLAINING for r in rs] for rs in (roles_a, roles_b)]
    return {
        "units": len(roles_a),
        "role_kappa": round(float(cohen_kappa_score(roles_a, roles_b)), 3),
        "role_exact": round(
            sum(a == b for a, b in zip(roles_a, roles_b, strict=True)) / len(roles_a), 3
        ),
        "explaining_kappa": round(float(cohen_kappa_score(*explaining)), 3),
    }


def essay_agreement(
    first: Sequence[validity.Gold], rows: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Main reason (as validity.py scores essaymark's), level and mark."""
    same_reason = [g.main_reason == rows[g.file]["main_reason"].strip() for g in first]
    return {
        "main_reason_agreement": round(sum(same_reason) / len(first), 3),
        "mark_qwk": validity.qwk(
            [g.mark for g in first], [int(rows[g.file]["mark"]) for g in first], range(0, 17)
        ),
        "exact_level": round(
            sum(g.level == int(rows[g.file]["level"]) for g in first) / len(first), 3
        ),
    }


def agreement(folder: Path, factor_ids: Sequence[str]) -> dict[str, Any]:
    """Every figure, over the essays annotated twice."""
    second = validity.load_gold(folder, "all", sentences=SECOND_UNITS)
    second = [g for g in second if g.units]
    files = {g.file for g in second}
    first = sorted((g for g in validity.load_gold(folder) if g.file in files), key=lambda g: g.file)
    second.sort(key=lambda g: g.file)
    with open(folder / SECOND_ESSAYS, newline="", encoding="utf-8") as fh:
        rows = {r["file"]: r for r in csv.DictReader(fh)}
    return (
        {"essays": len(first), "files": sorted(files)}
        | factor_agreement(first, second, factor_ids)
        | role_agreement(first, second)
        | essay_agreement(first, rows)
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--set", type=Path, default=validity.BLIND, help="the blind set folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(validity.ROOT))
    from essay_marker.rubric import find_rubric

    ids = [f.id for f in find_rubric("stalin-main-reason").factors]
    fig = agreement(args.set, ids)
    if args.json:
        print(json.dumps(fig, indent=1))
        return
    print(f"{fig['essays']} essays, {fig['units']} sentences annotated twice")
    for kind in ("mentioned_f1", "explained_f1"):
        pooled, each = validity.f1_lines(fig[kind])
        print(f"{kind}: {pooled}")
        print(f"  {each}")
    print(
        f"role kappa {fig['role_kappa']} (exact {fig['role_exact']}); "
        f"explains-or-weighs kappa {fig['explaining_kappa']}"
    )
    print(
        f"main reason agreement {fig['main_reason_agreement']}; mark QWK {fig['mark_qwk']}; "
        f"exact level {fig['exact_level']}"
    )


if __name__ == "__main__":
    main()
