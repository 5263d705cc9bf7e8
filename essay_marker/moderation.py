"""Moderation: the teacher marks a sample, essaymark shows where it and the teacher disagree.

An AI marker should not be the only marker. After a batch, `choose_sample` picks the
scripts the teacher should mark themselves (every referred script, the ones essaymark is
least sure of, and a spread across levels); `agreement` compares the teacher's marks with
essaymark's as exam boards report it; `recommendation` says in plain words what to do.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from essay_marker.dataset import (
    BATCH_INFO,
    moderation_marks,
    read_markbook_table,
)
from essay_marker.dataset import (
    MODERATION_SHEET as SHEET,
)
from essay_marker.errors import DataError
from essay_marker.rubric import Rubric

SAMPLE_SHARE, SAMPLE_MIN = 0.2, 10  # a fifth of the class, at least ten scripts
# Two teachers marking the same GCSE essays usually agree to about this QWK and within a
# mark on average; inside both, essaymark is doing as well as a second teacher would.
AGREED_QWK, AGREED_DIFFERENCE = 0.7, 1.0
# A level where essaymark's marks differ from the teacher's by this much on average, over
# at least LEVEL_SCRIPTS scripts, is worth retraining for.
LEVEL_GAP, LEVEL_SCRIPTS = 1.5, 3


@dataclass(frozen=True)
class Chosen:
    """A script to moderate and why it was chosen."""

    student: str
    file: str
    slip: str
    why: str
    mark: int | None


def markbook_rows(folder: Path) -> pd.DataFrame:
    """The batch's markbook (marks.xlsx if the teacher edited it last, else marks.csv)."""
    csv_path, xlsx = folder / "marks.csv", folder / "marks.xlsx"
    paths = [p for p in (csv_path, xlsx) if p.is_file()]
    if not paths:
        raise DataError(
            f"{folder} has no markbook (marks.csv)",
            "give the folder that 'essaymark batch' wrote, e.g. marked/",
        )
    return read_markbook_table(max(paths, key=lambda p: p.stat().st_mtime))


def batch_rubric_id(folder: Path) -> str | None:
    """The rubric the batch in folder was marked with, if it recorded one."""
    info = folder / BATCH_INFO
    try:
        return str(json.loads(info.read_text(encoding="utf-8"))["rubric"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def choose_sample(table: pd.DataFrame, size: int | None = None) -> list[Chosen]:
    """Scripts for the teacher to mark: every referred one, the least sure, a spread of levels.

    size defaults to a fifth of the class and at least ten (all of a smaller class). Every
    referred script is included even when that takes the sample past size.
    """
    from essay_marker.batch.files import slip_names

    marked = table[table.get("error", "") == ""] if "error" in table.columns else table
    rows = marked.to_dict("records")
    slips = slip_names([str(r["file"]) for r in table.to_dict("records")])
    n = len(rows)
    target = size or max(SAMPLE_MIN, math.ceil(SAMPLE_SHARE * n))
    target = min(target, n)
    chosen: dict[str, str] = {}
    for r in rows:
        if str(r.get("refer_to_teacher", "")).lower() == "true":
            chosen[r["file"]] = "referred by essaymark"
    by_confidence = sorted(rows, key=lambda r: (_number(r.get("confidence", "")) or 0.0, r["file"]))
    # Up to half the places for the least sure, then levels not yet in the sample.
    for r in by_confidence:
        if len(chosen) >= target // 2:
            break
        chosen.setdefault(r["file"], "essaymark is least sure of this mark")
    levels = sorted({str(r.get("level", "")) for r in rows if str(r.get("level", "")) != ""})
    for level in levels:
        if len(chosen) >= target:
            break
        here = [r for r in rows if str(r.get("level", "")) == level]
        if any(chosen.get(r["file"]) for r in here):
            continue
        middle = sorted(here, key=lambda r: (-(_number(r.get("confidence", "")) or 0.0), r["file"]))
        chosen.setdefault(middle[0]["file"], f"a Level {level} script, for a spread of levels")
    for r in by_confidence:
        if len(chosen) >= target:
            break
        chosen.setdefault(r["file"], "essaymark is least sure of this mark")
    out = []
    for r in rows:
        if r["file"] in chosen:
            mark = _number(r.get("mark", ""))
            out.append(
                Chosen(
                    r.get("student", ""),
                    r["file"],
                    slips[r["file"]],
                    chosen[r["file"]],
                    None if mark is None else int(mark),
                )
            )
    return out


def write_sheet(folder: Path, chosen: list[Chosen], show_marks: bool) -> tuple[Path, Path]:
    """moderation.csv and moderation.xlsx: the scripts, their slips, a teacher_mark column."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from essay_marker.fsutil import atomic_file, atomic_write, text_cell

    columns = ["student", "file", "slip", "why", "essaymark_mark", "teacher_mark", "notes"]
    records = [
        {
            "student": c.student,
            "file": c.file,
            "slip": f"feedback/{c.slip}.html",
            "why": c.why,
            "essaymark_mark": "" if not show_marks or c.mark is None else str(c.mark),
            "teacher_mark": "",
            "notes": "",
        }
        for c in chosen
    ]
    csv_path, xlsx_path = folder / f"{SHEET}.csv", folder / f"{SHEET}.xlsx"
    lines = [",".join(columns)]
    for rec in records:
        lines.append(",".join(_csv(text_cell(rec[c])) for c in columns))
    atomic_write(csv_path, "\n".join(lines) + "\n")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.freeze_panes = "A2"
    sheet.append(columns)
    for rec in records:
        row = []
        for c in columns:
            cell = WriteOnlyCell(sheet, value=rec[c])
            cell.data_type = "s"  # a user's file name is never a formula
            if c == "slip":
                cell.hyperlink = rec[c]
            row.append(cell)
        sheet.append(row)
    with atomic_file(xlsx_path) as fh:
        book.save(fh)
    return csv_path, xlsx_path


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def teacher_marks(folder: Path, extra: Path | None = None) -> dict[str, int]:
    """The teacher's marks by file: the markbook's teacher_mark, then the moderation sheet's,
    then `extra` (a CSV or XLSX with file and teacher_mark or mark columns)."""
    found = moderation_marks(markbook_rows(folder), folder)
    if extra is not None:
        table = read_markbook_table(extra)
        column = "teacher_mark" if "teacher_mark" in table.columns else "mark"
        if "file" not in table.columns or column not in table.columns:
            raise DataError(
                f"{extra} has no file and teacher_mark (or mark) columns",
                "give a CSV or XLSX with a file column and your marks",
            )
        found.update(_marks(table[["file", column]].rename(columns={column: "teacher_mark"})))
    return found


def _marks(table: pd.DataFrame) -> dict[str, int]:
    return {
        str(r["file"]): int(m)
        for r in table.to_dict("records")
        if (m := _number(str(r["teacher_mark"]).strip())) is not None and m == int(m)
    }


@dataclass(frozen=True)
class Disagreement:
    """One script where essaymark and the teacher differ by a level or more."""

    student: str
    file: str
    essaymark: int
    teacher: int
    why: str


def agreement(table: pd.DataFrame, teacher: dict[str, int], rubric: Rubric) -> dict[str, Any]:
    """Agreement as exam boards report it: QWK, exact and adjacent level, mean difference
    (essaymark minus teacher) overall and by the teacher's level, and the disagreements."""
    from sklearn.metrics import cohen_kappa_score

    rows = [r for r in table.to_dict("records") if str(r["file"]) in teacher and r.get("mark")]
    if not rows:
        raise DataError(
            "no script has both a teacher's mark and essaymark's",
            "fill teacher_mark in moderation.csv (or .xlsx, or the markbook) and run again",
        )
    ours = [int(float(r["mark"])) for r in rows]
    theirs = [teacher[str(r["file"])] for r in rows]
    level = [rubric.level_for(m).level for m in ours]
    their_level = [rubric.level_for(min(max(m, 0), rubric.max_mark)).level for m in theirs]
    labels = list(range(rubric.max_mark + 1))
    qwk = (
        float(cohen_kappa_score(theirs, ours, weights="quadratic", labels=labels))
        if len(set(theirs) | set(ours)) > 1
        else float("nan")
    )
    by_level: dict[int, list[int]] = {}
    for t_level, a, b in zip(their_level, ours, theirs, strict=True):
        by_level.setdefault(t_level, []).append(a - b)
    disagreements = [
        Disagreement(
            str(r.get("student", "")),
            str(r["file"]),
            a,
            b,
            "; ".join(x for x in (str(r.get("flags", "")), str(r.get("targets", ""))) if x),
        )
        for r, a, b, la, lb in zip(rows, ours, theirs, level, their_level, strict=True)
        if la != lb
    ]
    return {
        "n": len(rows),
        "qwk": None if math.isnan(qwk) else round(qwk, 3),
        "exact_level": round(
            sum(a == b for a, b in zip(level, their_level, strict=True)) / len(rows), 3
        ),
        "adjacent_level": round(
            sum(abs(a - b) <= 1 for a, b in zip(level, their_level, strict=True)) / len(rows), 3
        ),
        "mean_difference": round(
            sum(a - b for a, b in zip(ours, theirs, strict=True)) / len(rows), 2
        ),
        "by_level": {
            lv: {"n": len(d), "mean_difference": round(sum(d) / len(d), 2)}
            for lv, d in sorted(by_level.items())
        },
        "disagreements": disagreements,
    }


def recommendation(figures: dict[str, Any], folder: Path | str = "marked") -> str:
    """What the teacher should do next, in plain words."""
    n, qwk, diff = figures["n"], figures["qwk"], figures["mean_difference"]
    if n < 5:
        return f"Only {n} scripts are marked by both: mark at least five (ten is better) to judge."
    gaps = [
        (abs(d["mean_difference"]), lv, d)
        for lv, d in figures["by_level"].items()
        if d["n"] >= LEVEL_SCRIPTS and abs(d["mean_difference"]) >= LEVEL_GAP
    ]
    if gaps:
        _, lv, d = max(gaps, key=lambda g: (g[0], -g[1]))
        way = "higher" if d["mean_difference"] > 0 else "lower"
        return (
            f"essaymark marks {abs(d['mean_difference']):.1f} {way} than you at Level {lv} "
            f"({d['n']} scripts): retrain with the {n} scripts you marked "
            f"('essaymark train --from-markbook {folder}/marks.csv') so it marks as you do."
        )
    if qwk is not None and qwk >= AGREED_QWK and abs(diff) < AGREED_DIFFERENCE:
        return (
            f"Agreement is within what two teachers usually reach (QWK {qwk:.2f}, "
            f"{abs(diff):.1f} marks apart on average): check the disagreements below."
        )
    shown = f"{qwk:.2f}" if qwk is not None else "n/a"
    if abs(diff) < 0.5:
        how = "disagrees with you about single scripts more than two teachers usually do"
    else:
        way = "more generous" if diff > 0 else "harsher"
        how = f"is {way} than you by {abs(diff):.1f} marks on average and agrees less than two"
        how += " teachers usually do"
    return (
        f"essaymark {how} (QWK {shown}): mark more scripts and retrain "
        f"('essaymark train --from-markbook {folder}/marks.csv')."
    )


def render_report(figures: dict[str, Any], advice: str, rubric: Rubric, folder: Path) -> str:
    """moderation.html: the figures, the advice and every disagreement, autoescaped."""
    from essay_marker.render.templating import environment

    return (
        environment()
        .get_template("moderation.html")
        .render(f=figures, advice=advice, rubric=rubric, folder=folder.name)
    )
