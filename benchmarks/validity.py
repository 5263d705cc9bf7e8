"""Validity on essays nobody on the team wrote: marks, factors, judgement, feedback truth.

    python benchmarks/validity.py [--split dev|test|all] [--json] [--set DIR]
                                  [--model FILE | --rules | --lowo] [--in-sample]

Marks every essay of the blind set (corpus/stalin-main-reason-blind) with the same code
path as `essaymark check` (score_essays with the bundled model, or the one given) and
compares what essaymark says with the independent annotation, beside a length-only
baseline fitted on the training corpus. Every run on the frozen `test` split is counted in
benchmarks/test-looks.log, and the count is printed with the figures: look once per release.

The shipped model is trained on the dev split too (tools/training_set.py), so on dev its
figures would be in-sample and the script refuses them: `--lowo` retrains it without each
dev writer in turn and marks that writer's essays (about a minute a writer: 40 minutes
for the 36 dev writers).

The scoring half (load_gold, evaluate, bullet_claims) takes check's JSON records, so a
test can run it on a tiny fixture with known answers (tests/test_validity.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score, f1_score

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "corpus" / "stalin-main-reason-blind"
LOOKS = ROOT / "benchmarks" / "test-looks.log"
NAMED = ("general_secretary", "trotsky_unpopularity", "faction_play", "lenin_link")
EXPLAINING = frozenset({"explains", "weighs"})
OFF_BY = 4  # marks off that a teacher must see: referral should catch these


# --- the annotation --------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One annotated sentence (or clause of a run-on), by offsets into the essay."""

    start: int
    end: int
    factors: frozenset[str]
    role: str
    fact_error: str
    out_of_period: bool


@dataclass(frozen=True)
class Gold:
    """One essay of the blind set with its reference marks and sentence annotation."""

    file: str
    writer: str
    split: str
    text: str
    mark: int
    level: int
    spag: int | None
    main_reason: str  # a factor id, other:<name>, or none
    supported: bool | None
    consistent: bool | None
    other_question: str
    units: tuple[Unit, ...]

    @property
    def words(self) -> int:
        """Word count, as essaymark counts it roughly (whitespace-separated)."""
        return len(self.text.split())

    def mentions(self, factor: str) -> bool:
        """Some sentence is about the factor."""
        return any(factor in u.factors for u in self.units)

    def explains(self, factor: str) -> bool:
        """Some sentence explains the factor or weighs it against another."""
        return any(factor in u.factors and u.role in EXPLAINING for u in self.units)

    def weighs(self) -> bool:
        """Some sentence links or compares reasons."""
        return any(u.role == "weighs" for u in self.units)

    def explained_count(self) -> int:
        """How many distinct factors are explained."""
        return len({f for u in self.units if u.role in EXPLAINING for f in u.factors})

    def overlapping(self, start: int, end: int) -> list[Unit]:
        """The annotated units that share any non-space character with [start, end)."""
        return [
            u
            for u in self.units
            if min(u.end, end) > max(u.start, start)
            and self.text[max(u.start, start) : min(u.end, end)].strip()
        ]


def _bool(value: str) -> bool | None:
    value = value.strip().lower()
    return {"true": True, "false": False}.get(value)


def load_gold(folder: Path, split: str = "all", sentences: str = "sentences.csv") -> list[Gold]:
    """The blind set's essays of one split (dev, test, fresh or all) with their annotation
    (`sentences`: the reference sentence labels, or a second annotator's)."""
    units: dict[str, list[Unit]] = defaultdict(list)
    with open(folder / sentences, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            units[row["file"]].append(
                Unit(
                    int(row["start"]),
                    int(row["end"]),
                    frozenset(f for f in row["factor"].split(";") if f),
                    row["role"],
                    row["fact_error"],
                    row["out_of_period"].strip().lower() == "true",
                )
            )
    out = []
    with open(folder / "marks.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if split != "all" and row["split"] != split:
                continue
            out.append(
                Gold(
                    file=row["file"],
                    writer=row["writer"],
                    split=row["split"],
                    text=(folder / row["file"]).read_text(encoding="utf-8"),
                    mark=int(row["mark"]),
                    level=int(row["level"]),
                    spag=int(row["spag"]) if row.get("spag", "").strip() else None,
                    main_reason=row["main_reason"].strip() or "none",
                    supported=_bool(row.get("judgement_supported", "")),
                    consistent=_bool(row.get("judgement_consistent", "")),
                    other_question=row.get("other_question", "").strip(),
                    units=tuple(sorted(units[row["file"]], key=lambda u: u.start)),
                )
            )
    return out


# --- what essaymark says, as claims that the annotation can check -----------------------


@dataclass(frozen=True)
class Claim:
    """One checkable statement a bullet makes about the essay."""

    kind: str
    factor: str = ""
    start: int = -1
    end: int = -1
    number: int = 0


_QUOTE = re.compile(r"“([^”]*)”")


def find_quote(text: str, quoted: str) -> tuple[int, int] | None:
    """Where a quoted (possibly shortened, re-spaced) sentence stands in the essay."""
    words = quoted.replace("…", " ").split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else None


class ClaimReader:
    """Turns a feedback bullet into the claims it makes, using the rubric's own wording."""

    def __init__(self, rubric: Any) -> None:
        self.rubric = rubric
        # Longest names first, so "Stalin's political skill" wins over a shorter overlap.
        self.shorts = sorted(((f.short, f.id) for f in rubric.factors), key=lambda p: -len(p[0]))

    def factors_in(self, text: str) -> list[str]:
        """Factor ids whose short names appear in text, in order of appearance."""
        found: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for short, fid in self.shorts:
            for m in re.finditer(re.escape(short), text):
                if not any(a < m.end() and m.start() < b for a, b in taken):
                    found.append((m.start(), fid))
                    taken.append((m.start(), m.end()))
        return [fid for _, fid in sorted(found)]

    def _quotes(self, bullet: str, text: str) -> list[tuple[int, int]]:
        spans = [find_quote(text, q) for q in _QUOTE.findall(bullet)]
        return [s for s in spans if s]

    def claims(self, kind: str, bullet: str, record: dict[str, Any]) -> list[Claim] | None:
        """The bullet's claims; None when it makes none the annotation can check."""
        text = record["_text"]
        quotes = self._quotes(bullet, text)
        q = quotes[0] if quotes else (-1, -1)
        out: list[Claim] = []
        for f in self.rubric.factors:
            fb = f.feedback
            if bullet.startswith(fb.explained) or bullet.startswith(fb.weighed):
                status = "explained" if bullet.startswith(fb.explained) else "weighed"
                out.append(Claim(status, f.id))
                if quotes:
                    out.append(Claim("quote_explains", f.id, *q))
                return out
            if bullet.startswith("In “") and fb.mentioned in bullet and quotes:
                return [Claim("quote_about", f.id, *q), Claim("not_explained", f.id)]
            if bullet.startswith(fb.absent):
                # The rubric's `absent` text asks for the reason ("Bring in…", "You could
                # also bring in…"): it claims only that the reason is not yet explained.
                rest = bullet[len(fb.absent) :]
                return [Claim("not_explained", fid) for fid in (f.id, *self.factors_in(rest))]
        named = self.factors_in(bullet)
        if bullet.startswith("You make a clear judgement that"):
            main = named[0] if named else ""
            return [Claim("main_reason", main), Claim("supported", main)]
        if bullet.startswith("You support your points with specific knowledge"):
            return [
                Claim("specific", start=s["start"], end=s["end"])
                for s in _listed(bullet, record.get("specific_evidence", []))
            ]
        if bullet.startswith("You identify") and quotes and named:
            return [Claim("quote_about", named[0], *q)]
        if "is outside the years this question is about" in bullet and quotes:
            return [Claim("out_of_period", start=q[0], end=q[1])]
        if bullet.startswith("Check this fact:") and quotes:
            return [Claim("fact_error", start=q[0], end=q[1])]
        if " without explaining it." in bullet and quotes and named:
            return [Claim("quote_about", named[0], *q), Claim("not_explained", named[0])]
        if bullet.startswith("Answer the question directly") or bullet.startswith(
            "Add a judgement"
        ):
            return [Claim("no_judgement")]
        if bullet.startswith("Make your answer to the question clear") or bullet.startswith(
            "Make your judgement clear"
        ):
            # Asks for an argued main reason: true unless the essay already argues one.
            return [Claim("no_supported_judgement")]
        if bullet.startswith("Your introduction and conclusion argue") or bullet.startswith(
            "Rewrite your introduction so it argues"
        ):
            return [Claim("inconsistent")]
        if bullet.startswith("You say") and "was the main reason" in bullet and named:
            return [Claim("main_reason", named[0]), Claim("not_explained", named[0])]
        if bullet.startswith("Link your reasons") or bullet.startswith("Add two or three"):
            return [Claim("explained", fid) for fid in named[:2]] + [Claim("not_linked")]
        if bullet.startswith("Plan before you write"):
            return [Claim("no_reason")]
        if bullet.startswith("Rewrite this sentence") and quotes:
            return [
                Claim("none_explained"),
                Claim("quote_no_error", start=q[0], end=q[1]),
                Claim("quote_describes", start=q[0], end=q[1]),
            ]
        if bullet.startswith("Correct the facts in your paragraph on") and named:
            return [Claim("none_explained"), Claim("fact_errors_at_least", number=1)]
        if bullet.startswith("Write a paragraph on") and named:
            return [Claim("not_explained", named[0])]
        if bullet.startswith("Write one more paragraph that explains") and named:
            return [Claim("not_explained", named[0]), Claim("explained_below", number=2)]
        if bullet.startswith("Explain how") and "so that your judgement is backed up" in bullet:
            return (
                [Claim("main_reason", named[0]), Claim("unsupported", named[0])] if named else None
            )
        if bullet.startswith("Sharpen your judgement") and len(named) >= 2:
            return [
                Claim("main_reason", named[0]),
                Claim("supported", named[0]),
                Claim("explained", named[1]),
            ]
        if bullet.startswith("Weigh each reason against your main one"):
            return [Claim("judgement")]
        if kind == "level_gap":
            return self._gap_claims(bullet)
        return None

    _GAP = (
        ("does not yet give any reason", Claim("no_reason")),
        ("no reason is explained", Claim("none_explained")),
        ("two or more reasons need explaining", Claim("explained_below", number=2)),
        ("several reasons need explaining, not", Claim("explained_below", number=3)),
        ("not linked or compared", Claim("not_linked")),
        ("there is no judgement", Claim("no_judgement")),
        ("asserted, not backed", Claim("unsupported")),
        ("argue for different main reasons", Claim("inconsistent")),
    )

    def _gap_claims(self, bullet: str) -> list[Claim] | None:
        out = [claim for phrase, claim in self._GAP if phrase in bullet]
        wrong = re.search(r"must be accurate: (\d+) facts are wrong", bullet)
        if wrong:
            out.append(Claim("fact_errors_at_least", number=int(wrong.group(1))))
        return out or None


def _listed(bullet: str, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's specific-knowledge spans a bullet lists ("such as a, b and c"), each
    matched to the first unused span with its words."""
    listed = bullet.split("such as ", 1)[-1].rstrip(".")
    texts = {s["text"] for s in spans}
    *head, tail = listed.split(", ")
    # The last two are joined by " and ", which an item may hold too ("Zinoviev and Kamenev").
    cuts = tail.split(" and ")
    pairs = [(" and ".join(cuts[:k]), " and ".join(cuts[k:])) for k in range(1, len(cuts))]
    ends = next((list(p) for p in pairs if set(p) <= texts), [tail])
    items = [*head, *ends]
    out, left = [], list(spans)
    for item in items:
        hit = next((s for s in left if s["text"] == item), None)
        if hit is not None:
            out.append(hit)
            left.remove(hit)
    return out


def claim_true(c: Claim, g: Gold) -> bool:
    """Whether the annotation bears the claim out."""
    under = g.overlapping(c.start, c.end) if c.start >= 0 else []
    checks: dict[str, Any] = {
        "explained": lambda: g.explains(c.factor),
        "weighed": lambda: any(c.factor in u.factors and u.role == "weighs" for u in g.units),
        "not_explained": lambda: not g.explains(c.factor),
        "quote_about": lambda: any(c.factor in u.factors for u in under),
        "quote_explains": lambda: any(
            c.factor in u.factors and u.role in EXPLAINING | {"judges"} for u in under
        ),
        "quote_describes": lambda: any(u.factors and u.role not in EXPLAINING for u in under),
        "quote_no_error": lambda: bool(under) and not any(u.fact_error for u in under),
        "fact_error": lambda: any(u.fact_error for u in under),
        "out_of_period": lambda: any(u.out_of_period for u in under),
        "specific": lambda: bool(under) and not any(u.out_of_period or u.fact_error for u in under),
        "main_reason": lambda: (
            g.main_reason != "none" if not c.factor else g.main_reason == c.factor
        ),
        "supported": lambda: g.main_reason != "none" and g.supported is True,
        "unsupported": lambda: g.main_reason != "none" and g.supported is False,
        "judgement": lambda: g.main_reason != "none",
        "no_judgement": lambda: g.main_reason == "none",
        "no_supported_judgement": lambda: g.main_reason == "none" or g.supported is False,
        "inconsistent": lambda: g.consistent is False,
        "not_linked": lambda: not g.weighs(),
        "no_reason": lambda: not any(u.factors for u in g.units),
        "none_explained": lambda: g.explained_count() == 0,
        "explained_below": lambda: g.explained_count() < c.number,
        "fact_errors_at_least": lambda: sum(bool(u.fact_error) for u in g.units) >= c.number,
    }
    return bool(checks[c.kind]())


# --- figures -----------------------------------------------------------------------------


def qwk(y: Sequence[int], p: Sequence[int], labels: Iterable[int]) -> float | None:
    """Quadratic weighted kappa, or None when it is undefined (one class only)."""
    if len(y) < 2:
        return None
    k = cohen_kappa_score(y, p, weights="quadratic", labels=list(labels))
    return None if math.isnan(k) else round(float(k), 3)


def partial_corr(x: Sequence[float], y: Sequence[float], given: Sequence[float]) -> float | None:
    """Correlation of x and y once a linear effect of `given` is taken out of both."""
    z = np.column_stack([np.ones(len(given)), np.asarray(given, float)])

    def resid(v: Sequence[float]) -> np.ndarray:
        v = np.asarray(v, float)
        return v - z @ np.linalg.lstsq(z, v, rcond=None)[0]

    a, b = resid(x), resid(y)
    if a.std() < 1e-9 or b.std() < 1e-9:  # nothing left to correlate
        return None
    return round(float(np.corrcoef(a, b)[0, 1]), 3)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    import pandas as pd

    return round(float(pd.Series(x).corr(pd.Series(y), method="spearman")), 3)


def length_baseline(words: Sequence[int], marks: Sequence[int], top: int) -> Any:
    """Mark from log word count alone: a line fitted on a marked corpus, rounded and clipped."""
    fit = LinearRegression().fit(np.log1p(np.asarray(words, float)).reshape(-1, 1), marks)

    def predict(ws: Sequence[int]) -> list[int]:
        raw = fit.predict(np.log1p(np.asarray(ws, float)).reshape(-1, 1))
        return [int(v) for v in np.clip(np.rint(raw), 0, top)]

    return predict


def _halves(golds: Sequence[Gold]) -> tuple[list[int], list[int]]:
    """Indices of essays longer and not longer than the median length of their level."""
    by_level: dict[int, list[int]] = defaultdict(list)
    for g in golds:
        by_level[g.level].append(g.words)
    longer, shorter = [], []
    for i, g in enumerate(golds):
        (longer if g.words > float(np.median(by_level[g.level])) else shorter).append(i)
    return longer, shorter


def mark_figures(
    golds: Sequence[Gold], marks: Sequence[int], levels: Sequence[int], rubric: Any
) -> dict[str, Any]:
    """QWK, exact and adjacent level, each half's QWK, and the length leak."""
    y = [g.mark for g in golds]
    marks_range = range(0, rubric.max_mark + 1)
    longer, shorter = _halves(golds)
    return {
        "qwk": qwk(y, marks, marks_range),
        "exact": round(
            float(np.mean([g.level == lv for g, lv in zip(golds, levels, strict=True)])), 3
        ),
        "adjacent": round(
            float(np.mean([abs(g.level - lv) <= 1 for g, lv in zip(golds, levels, strict=True)])), 3
        ),
        "mae": round(float(np.mean([abs(a - b) for a, b in zip(y, marks, strict=True)])), 2),
        "qwk_longer": qwk([y[i] for i in longer], [marks[i] for i in longer], marks_range),
        "qwk_shorter": qwk([y[i] for i in shorter], [marks[i] for i in shorter], marks_range),
        "length_leak": partial_corr(marks, log_words(golds), y),
        "length_leak_interval": leak_interval(golds, marks),
        "length_leak_by_writer": writer_leaks(golds, marks),
    }


def log_words(golds: Sequence[Gold]) -> list[float]:
    """Each essay's log word count: what the length leak correlates the mark with."""
    return [math.log(max(g.words, 1)) for g in golds]


LEAK_ROUNDS = 1000  # bootstrap resamples for the length leak's interval


def leak_interval(golds: Sequence[Gold], marks: Sequence[int]) -> list[float] | None:
    """A 95% bootstrap interval for the length leak, resampling essays. Essays by one
    writer are not independent, so the real interval is wider still: on a split of a few
    dozen essays, read a leak as a range, not a point."""
    rng = np.random.default_rng(0)
    y = np.array([g.mark for g in golds], float)
    x = np.array(marks, float)
    logw = np.array(log_words(golds))
    draws = []
    for _ in range(LEAK_ROUNDS):
        i = rng.integers(0, len(golds), len(golds))
        r = partial_corr(x[i], logw[i], y[i])
        if r is not None:
            draws.append(r)
    if len(draws) < LEAK_ROUNDS // 2:
        return None
    return [round(float(v), 3) for v in np.percentile(draws, [2.5, 97.5])]


def writer_leaks(golds: Sequence[Gold], marks: Sequence[int]) -> dict[str, float | None]:
    """Each writer's own length leak. A split of a few writers is a small sample of writers
    as well as of essays: on dev (each writer left out, session 22) single writers ranged
    from -0.77 to 0.53 and sets of four writers drawn at random had a leak above 0.17 one
    time in twenty, so one writer can carry a split's figure."""
    by: dict[str, list[int]] = {}
    for i, g in enumerate(golds):
        by.setdefault(g.writer, []).append(i)
    logw = log_words(golds)
    return {
        w: partial_corr([marks[i] for i in ix], [logw[i] for i in ix], [golds[i].mark for i in ix])
        for w, ix in sorted(by.items())
    }


def _f1(gold: list[bool], pred: list[bool]) -> float | None:
    if not any(gold) and not any(pred):
        return None
    return round(float(f1_score(gold, pred, zero_division=0)), 3)


def pooled_f1(
    factor_ids: Sequence[str],
    truth: Callable[[str], list[bool]],
    guess: Callable[[str], list[bool]],
) -> dict[str, Any]:
    """F1 for each factor (over essays), and pooled over the four named factors and over the
    others: `truth` and `guess` give, for a factor, one bool per essay."""
    by_factor: dict[str, Any] = {}
    pooled: dict[str, tuple[list[bool], list[bool]]] = {"named": ([], []), "others": ([], [])}
    for fid in factor_ids:
        t, p = truth(fid), guess(fid)
        by_factor[fid] = _f1(t, p)
        group = pooled["named" if fid in NAMED else "others"]
        group[0].extend(t)
        group[1].extend(p)
    return {k: _f1(*v) for k, v in pooled.items()} | {"by_factor": by_factor}


def factor_figures(
    golds: Sequence[Gold], records: Sequence[dict[str, Any]], rubric: Any
) -> dict[str, Any]:
    """Mentioned and explained F1 per factor and pooled, and evidence precision."""
    ids = [*NAMED, *(f.id for f in rubric.factors if f.id not in NAMED)]

    def statuses(fid: str) -> list[str]:
        return [
            next((f["status"] for f in r["factors"] if f["id"] == fid), "absent") for r in records
        ]

    mentioned = pooled_f1(
        ids,
        lambda fid: [g.mentions(fid) for g in golds],
        lambda fid: [s != "absent" for s in statuses(fid)],
    )
    explained = pooled_f1(
        ids,
        lambda fid: [g.explains(fid) for g in golds],
        lambda fid: [s in ("explained", "weighed") for s in statuses(fid)],
    )
    hits = total = 0
    wrong: list[str] = []
    for g, r in zip(golds, records, strict=True):
        for f in r["factors"]:
            for e in f["evidence"]:
                total += 1
                if any(f["id"] in u.factors for u in g.overlapping(e["start"], e["end"])):
                    hits += 1
                elif len(wrong) < 40:
                    wrong.append(f"{g.file} [{f['id']}] {e['text'][:90]}")
    return {
        "mentioned_f1": mentioned,
        "explained_f1": explained,
        "evidence_precision": round(hits / total, 3) if total else None,
        "evidence_sentences": total,
        "evidence_not_about_factor": wrong,
    }


def judgement_figures(golds: Sequence[Gold], records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Main reason right, 'no judgement' found, supported/asserted right."""
    main_right, none_gold, none_pred, none_both = 0, 0, 0, 0
    sup_right = sup_n = 0
    for g, r in zip(golds, records, strict=True):
        j = r["judgement"]
        pred = (
            j["main_factor"]
            if j["present"] and j["main_factor"]
            else ("unnamed" if j["present"] else "none")
        )
        # "unnamed": a judgement on a reason the rubric does not list, right for "other:…".
        main_right += pred == g.main_reason or (
            pred == "unnamed" and g.main_reason.startswith("other:")
        )
        none_gold += g.main_reason == "none"
        none_pred += pred == "none"
        none_both += pred == "none" and g.main_reason == "none"
        if pred == g.main_reason and g.main_reason != "none" and g.supported is not None:
            sup_n += 1
            sup_right += bool(j["supported"]) == g.supported
    n = len(golds)
    return {
        "judgement_accuracy": round(main_right / n, 3) if n else None,
        "no_judgement_recall": round(none_both / none_gold, 3) if none_gold else None,
        "no_judgement_precision": round(none_both / none_pred, 3) if none_pred else None,
        "supported_accuracy": round(sup_right / sup_n, 3) if sup_n else None,
        "supported_n": sup_n,
    }


BULLET_KINDS = ("www", "ebi", "next_step", "level_gap")


def bullets_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (kind, text) bullet of a result's feedback."""
    fb = record["feedback"]
    out = [("www", b) for b in fb["www"]] + [("ebi", b) for b in fb["ebi"]]
    if fb.get("next_step"):
        out.append(("next_step", fb["next_step"]))
    if fb.get("level_gap"):
        out.append(("level_gap", fb["level_gap"]))
    return out


def feedback_figures(
    golds: Sequence[Gold], records: Sequence[dict[str, Any]], rubric: Any
) -> dict[str, Any]:
    """Share of bullets whose every checkable claim the annotation bears out, per kind."""
    reader = ClaimReader(rubric)
    true = Counter[str]()
    checked = Counter[str]()
    unchecked = Counter[str]()
    false: list[dict[str, str]] = []
    for g, r in zip(golds, records, strict=True):
        for kind, bullet in bullets_of(r):
            claims = reader.claims(kind, bullet, r | {"_text": g.text})
            if not claims:
                unchecked[kind] += 1
                continue
            checked[kind] += 1
            failed = [c for c in claims if not claim_true(c, g)]
            if failed:
                false.append(
                    {
                        "file": g.file,
                        "kind": kind,
                        "bullet": bullet,
                        "false_claims": ", ".join(
                            c.kind + (f"({c.factor})" if c.factor else "") for c in failed
                        ),
                    }
                )
            else:
                true[kind] += 1
    counted = [k for k in BULLET_KINDS if k != "level_gap"]
    total_checked = sum(checked[k] for k in counted)
    return {
        "bullet_truth": round(sum(true[k] for k in counted) / total_checked, 3)
        if total_checked
        else None,
        "bullet_truth_by_kind": {
            k: (round(true[k] / checked[k], 3) if checked[k] else None) for k in BULLET_KINDS
        },
        "bullets_checked": dict(checked),
        "bullets_unchecked": dict(unchecked),
        "false_bullets": false,
    }


def evaluate(
    golds: Sequence[Gold],
    records: Sequence[dict[str, Any]],
    rubric: Any,
    baseline: Any | None = None,
) -> dict[str, Any]:
    """Every figure for essaymark's records against the annotation (and the length baseline)."""
    marks = [r["mark"] for r in records]
    levels = [r["level"] for r in records]
    out: dict[str, Any] = {"n": len(golds), "writers": sorted({g.writer for g in golds})}
    out |= mark_figures(golds, marks, levels, rubric)
    out |= factor_figures(golds, records, rubric)
    out |= judgement_figures(golds, records)
    out |= feedback_figures(golds, records, rubric)
    # A flag on a genuine essay is a false alarm, unless it says the essay answers another
    # question and the annotation says so too.
    genuine = [
        (
            g,
            [f["id"] for f in r["flags"] if not (f["id"] == "other_question" and g.other_question)],
            r,
        )
        for g, r in zip(golds, records, strict=True)
        if g.level >= 1
    ]
    out["false_alarms"] = sum(bool(ids) for _, ids, _ in genuine)
    out["false_alarms_by_flag"] = dict(
        sorted(Counter(i for _, ids, _ in genuine for i in ids).items())
    )
    out["false_alarm_files"] = [
        f"{g.file} ({g.mark}): {', '.join(ids)} -> {r['mark']}" for g, ids, r in genuine if ids
    ]
    said = [
        (bool(g.other_question), any(f["id"] == "other_question" for f in r["flags"]))
        for g, r in zip(golds, records, strict=True)
    ]
    out["other_question"] = {
        "annotated": sum(a for a, _ in said),
        "caught": sum(a and b for a, b in said),
        "flagged_otherwise": sum(b and not a for a, b in said),
    }
    off = [r for g, r in zip(golds, records, strict=True) if abs(r["mark"] - g.mark) >= OFF_BY]
    out["referral_recall"] = (
        round(sum(r["refer_to_teacher"] for r in off) / len(off), 3) if off else None
    )
    out["off_by_4_or_more"] = len(off)
    out["referral_rate"] = round(float(np.mean([r["refer_to_teacher"] for r in records])), 3)
    with_spag = [(g.spag, r["spag"]["mark"]) for g, r in zip(golds, records, strict=True)]
    with_spag = [(a, b) for a, b in with_spag if a is not None]
    out["spag_qwk"] = (
        qwk([a for a, _ in with_spag], [b for _, b in with_spag], range(0, rubric.spag_max + 1))
        if with_spag
        else None
    )
    if baseline is not None:
        base_marks = baseline([g.words for g in golds])
        base_levels = [rubric.level_for(m).level for m in base_marks]
        out["length_baseline"] = mark_figures(golds, base_marks, base_levels, rubric)
    return out


# --- running essaymark -----------------------------------------------------------------


def essaymark_records(
    golds: Sequence[Gold], rubric: Any, model: Path | None, rules: bool, scorer: Any = None
) -> list[dict[str, Any]]:
    """check's JSON record for every essay, marked as `essaymark check` marks it (by the
    scorer given, else the model file, else the bundled model; or by the rules alone)."""
    from essay_marker.render.report import result_to_dict
    from essay_marker.scoring import score_essays

    if scorer is None and not rules:
        scorer = load_scorer(rubric, model)
    results = score_essays([(g.text, g.file) for g in golds], rubric, scorer)
    return [result_to_dict(r) for r in results]


def load_scorer(rubric: Any, model: Path | None) -> Any:
    """The model file given, or the bundled model."""
    from essay_marker.model.persist import bundled_model_path, load_model, skip_skops_default_trust

    skip_skops_default_trust()
    return load_model(model or bundled_model_path(rubric), rubric)


def trained_on_these(golds: Sequence[Gold], scorer: Any) -> list[str]:
    """The essays of golds the model learned from (by the text keys its card keeps)."""
    from essay_marker.training.fit import trained_on
    from essay_marker.training.sets import text_key

    seen = trained_on(scorer)
    return [g.file for g in golds if text_key(g.text) in seen]


def lowo_records(golds: Sequence[Gold], rubric: Any) -> list[dict[str, Any]]:
    """Each writer's essays marked by a model trained as the shipped one is
    (tools/training_set.py) but without that writer: honest figures on the dev split."""
    sys.path.insert(0, str(ROOT / "tools"))
    from training_set import train

    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for writer in sorted({g.writer for g in golds}):
            print(f"training without {writer}…", file=sys.stderr)
            model = Path(tmp) / f"without-{writer}.skops"
            train(model, frozenset({writer}), quiet=True)
            mine = [g for g in golds if g.writer == writer]
            marked = essaymark_records(mine, rubric, model, False)
            out |= zip((g.file for g in mine), marked, strict=True)
    return [out[g.file] for g in golds]


def corpus_baseline(rubric: Any) -> Any:
    """The length-only baseline, fitted on the training corpus's marks."""
    import pandas as pd

    folder = ROOT / "corpus" / "stalin-main-reason"
    marks = pd.read_csv(folder / "marks.csv")
    words = [len((folder / f).read_text(encoding="utf-8").split()) for f in marks.file]
    return length_baseline(words, list(marks.mark), rubric.max_mark)


def count_test_look(argv: Sequence[str]) -> int:
    """Record one more look at the frozen test split; return how many there have been."""
    lines = LOOKS.read_text(encoding="utf-8").splitlines() if LOOKS.exists() else []
    looks = [ln for ln in lines if ln and not ln.startswith("#")]
    entry = f"{date.today().isoformat()} {' '.join(argv)}"
    LOOKS.write_text("\n".join([*lines, entry]) + "\n", encoding="utf-8")
    return len(looks) + 1


def f1_lines(by: dict[str, Any]) -> tuple[str, str]:
    """pooled_f1's figures as two lines: the pooled pair, then each factor's."""
    return (
        f"named {by['named']}  others {by['others']}",
        ", ".join(f"{k} {v}" for k, v in by["by_factor"].items()),
    )


def _print(fig: dict[str, Any], split: str, looks: int | None) -> None:
    base = fig.get("length_baseline", {})
    print(f"Blind validity set, split {split}: {fig['n']} essays by {len(fig['writers'])} writers")
    if looks is not None:
        print(f"  (test split: figures looked at {looks} time(s) in all, this run included)")
    print(f"  {'':22}{'essaymark':>10}{'length only':>13}")
    for key in ("qwk", "exact", "adjacent", "mae", "qwk_longer", "qwk_shorter", "length_leak"):
        print(f"  {key:22}{fig[key]!s:>10}{base.get(key, '')!s:>13}")
    if fig.get("length_leak_interval"):
        low, high = fig["length_leak_interval"]
        print(f"    length leak, 95% bootstrap interval over essays: {low} to {high}")
    if len(fig.get("length_leak_by_writer") or {}) > 1:
        each = ", ".join(f"{w} {v}" for w, v in fig["length_leak_by_writer"].items())
        print(f"    length leak, each writer: {each}")
    for key in ("mentioned_f1", "explained_f1"):
        pooled, each = f1_lines(fig[key])
        print(f"  {key:22}{pooled}")
        print(f"    {each}")
    print(
        f"  evidence precision    {fig['evidence_precision']} "
        f"({fig['evidence_sentences']} evidence sentences)"
    )
    print(
        f"  judgement: main reason {fig['judgement_accuracy']}, no-judgement recall "
        f"{fig['no_judgement_recall']} precision {fig['no_judgement_precision']}, "
        f"supported {fig['supported_accuracy']} (of {fig['supported_n']})"
    )
    print(
        f"  feedback truth {fig['bullet_truth']} "
        + ", ".join(f"{k} {v}" for k, v in fig["bullet_truth_by_kind"].items())
        + f"; checked {fig['bullets_checked']}, no checkable claim {fig['bullets_unchecked']}"
    )
    print(f"  false alarms on genuine essays: {fig['false_alarms']} {fig['false_alarms_by_flag']}")
    oq = fig["other_question"]
    print(
        f"  other_question: {oq['caught']} of {oq['annotated']} essays annotated as answering "
        f"another question flagged; {oq['flagged_otherwise']} of the rest"
    )
    print(
        f"  referral: {fig['referral_recall']} of {fig['off_by_4_or_more']} essays 4+ marks off "
        f"referred; {fig['referral_rate']} of all referred"
    )
    print(f"  SPaG QWK {fig['spag_qwk']}")
    if fig["false_bullets"]:
        print("  False bullets (first 25):")
        for b in fig["false_bullets"][:25]:
            print(f"    {b['file']} {b['kind']} [{b['false_claims']}]: {b['bullet'][:150]}")
    if fig["false_alarm_files"]:
        print("  Flagged genuine essays: " + "; ".join(fig["false_alarm_files"]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # "fresh": writers a release marked before they were read, waiting to join dev (the
    # data card says which release); they join dev, and the shipped model, next session.
    parser.add_argument("--split", choices=("dev", "test", "fresh", "all"), default="dev")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--set", type=Path, default=BLIND, help="the blind set's folder")
    parser.add_argument("--model", type=Path, help="a model file (default: the bundled model)")
    parser.add_argument("--rules", action="store_true", help="mark with the coverage rules only")
    parser.add_argument(
        "--lowo",
        action="store_true",
        help="dev only: leave one writer out (train without each dev writer, mark their essays)",
    )
    parser.add_argument(
        "--in-sample", action="store_true", help="run even on essays the model was trained on"
    )
    parser.add_argument(
        "--writers", help="only these writers, comma-separated (e.g. w11,w12): a fresh batch"
    )
    args = parser.parse_args(argv)
    from essay_marker.rubric import find_rubric

    rubric = find_rubric("stalin-main-reason")
    golds = load_gold(args.set, args.split)
    if args.writers:
        wanted = {w.strip() for w in args.writers.split(",") if w.strip()}
        golds = [g for g in golds if g.writer in wanted]
    if not golds:
        sys.exit(f"no essays in split {args.split} of {args.set}")
    looks = None
    if args.split in ("test", "all"):
        looks = count_test_look(sys.argv[1:] if argv is None else list(argv))
    if args.lowo:
        if args.split != "dev" or args.model or args.rules:
            sys.exit("--lowo retrains the shipped model without each dev writer: --split dev only")
        records = lowo_records(golds, rubric)
    else:
        scorer = None if args.rules else load_scorer(rubric, args.model)
        seen = trained_on_these(golds, scorer) if scorer else []
        if seen and not args.in_sample:
            sys.exit(
                f"{len(seen)} of these {len(golds)} essays trained the model, so its figures "
                "here are in-sample: run with --lowo (each writer marked by a model trained "
                "without them), or --in-sample to see them anyway"
            )
        records = essaymark_records(golds, rubric, args.model, args.rules, scorer)
    fig = evaluate(golds, records, rubric, corpus_baseline(rubric))
    fig["split"] = args.split
    fig["test_looks"] = looks
    fig["length_mark_spearman"] = spearman([g.words for g in golds], [g.mark for g in golds])
    if args.json:
        print(json.dumps(fig, indent=2, ensure_ascii=False))
    else:
        _print(fig, args.split, looks)


if __name__ == "__main__":
    main()
