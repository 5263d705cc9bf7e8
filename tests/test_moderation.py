"""Moderation: the sample a teacher marks, the agreement report and what it recommends."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from typer.testing import CliRunner

from essay_marker import moderation as mod
from essay_marker.batch.run import run_batch
from essay_marker.cli import app
from essay_marker.dataset import load_markbook
from essay_marker.model.persist import bundled_model_path

from .conftest import EXAMPLES

CLASS = EXAMPLES / "class-10b"
TEACHER = EXAMPLES / "class-10b-teacher-marks.csv"
runner = CliRunner()


def _table(rows):
    """A markbook table from (file, level, mark, confidence, refer) rows."""
    return pd.DataFrame(
        [
            {"student": f.split(".")[0], "file": f, "level": str(lv), "mark": str(m),
             "confidence": str(c), "refer_to_teacher": str(r).lower(), "error": "",
             "flags": "", "targets": ""}
            for f, lv, m, c, r in rows
        ]
    )  # fmt: skip


def test_the_sample_holds_every_referred_script_the_least_sure_and_a_spread_of_levels():
    rows = [(f"s{i:02}.txt", i % 5, 3 * (i % 5), 0.5 + i / 100, i in (3, 17)) for i in range(40)]
    chosen = mod.choose_sample(_table(rows))
    files = {c.file for c in chosen}
    assert len(chosen) == 10  # a fifth of 40 is 8: at least ten
    assert {"s03.txt", "s17.txt"} <= files  # referred
    assert {"s00.txt", "s01.txt"} <= files  # least sure
    levels = {rows[int(c.file[1:3])][1] for c in chosen}
    assert levels == {0, 1, 2, 3, 4}
    assert next(c for c in chosen if c.file == "s03.txt").why == "referred by essaymark"


def test_every_referred_script_is_kept_even_past_the_sample_size():
    rows = [(f"s{i:02}.txt", 2, 6, 0.9, True) for i in range(6)]
    assert len(mod.choose_sample(_table(rows), size=3)) == 6


def test_agreement_figures_and_advice_on_known_marks(rubric):
    rows = [(f"s{i}.txt", rubric.level_for(m).level, m, 0.8, False) for i, m in enumerate(
        [2, 4, 6, 7, 13, 14, 15, 16])]  # fmt: skip
    table = _table(rows)
    same = mod.agreement(table, {f: m for f, _, m, _, _ in rows}, rubric)
    assert same["qwk"] == 1.0 and same["exact_level"] == 1.0 and same["mean_difference"] == 0
    assert "within what two teachers usually reach" in mod.recommendation(same)
    # A teacher two marks more generous at Level 3 (three scripts there).
    teacher = {f: m for f, _, m, _, _ in rows}
    rows3 = [(f"t{i}.txt", 3, 9, 0.8, False) for i in range(3)]
    table = _table(rows + rows3)
    teacher |= {f: 11 for f, *_ in rows3}
    figures = mod.agreement(table, teacher, rubric)
    assert figures["by_level"][3] == {"n": 3, "mean_difference": -2.0}
    advice = mod.recommendation(figures, "class")
    assert "essaymark marks 2.0 lower than you at Level 3" in advice
    assert "essaymark train --from-markbook class/marks.csv" in advice
    assert "Only 2 scripts" in mod.recommendation(
        mod.agreement(table, {"s0.txt": 2, "s1.txt": 4}, rubric)
    )


@pytest.fixture(scope="module")
def marked(tmp_path_factory, rubric):
    out = tmp_path_factory.mktemp("moderate") / "marked"
    run_batch(CLASS, out, rubric, bundled_model_path(rubric), jobs=1)
    return out


def test_moderation_loop_end_to_end(marked):
    chose = runner.invoke(app, ["moderate", str(marked)])
    assert chose.exit_code == 0, chose.output
    assert "10 scripts to mark yourself" in chose.stdout
    with (marked / "moderation.csv").open(encoding="utf-8") as fh:
        sheet = list(csv.DictReader(fh))
    assert len(sheet) == 10 and all(r["essaymark_mark"] == "" for r in sheet)
    assert all((marked / r["slip"]).is_file() for r in sheet)
    # The teacher marks the sample in the sheet.
    teacher = {r["file"]: r["teacher_mark"] for r in csv.DictReader(TEACHER.open())}
    for r in sheet:
        r["teacher_mark"] = teacher[r["file"]]
    with (marked / "moderation.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(sheet[0]))
        writer.writeheader()
        writer.writerows(sheet)
    report = runner.invoke(app, ["moderate", str(marked), "--report"])
    assert report.exit_code == 0, report.output
    assert "10 scripts marked by you and essaymark: QWK" in report.stdout
    page = (marked / "moderation.html").read_text(encoding="utf-8")
    assert "Disagreements by a level or more" in page and "<script" not in page
    # The marks entered in the sheet are what `train --from-markbook` learns from.
    from essay_marker.rubric import find_rubric

    learned = load_markbook(marked / "marks.csv", find_rubric("stalin-main-reason"), CLASS)
    assert {s.file: s.mark for s in learned.scripts} == {f: int(teacher[f]) for f in
                                                         {r["file"] for r in sheet}}  # fmt: skip


def test_a_marks_file_can_stand_in_for_the_sheet_and_show_marks_fills_the_column(marked):
    report = runner.invoke(app, ["moderate", str(marked), "--report", "--marks", str(TEACHER)])
    assert report.exit_code == 0 and "20 scripts marked by you" in report.stdout
    shown = runner.invoke(app, ["moderate", str(marked), "--show-marks", "--sample", "4"])
    assert shown.exit_code == 0
    with (marked / "moderation.csv").open(encoding="utf-8") as fh:
        assert all(r["essaymark_mark"] != "" for r in csv.DictReader(fh))


def test_moderating_a_folder_without_a_markbook_is_one_line(tmp_path):
    done = runner.invoke(app, ["moderate", str(tmp_path)])
    assert done.exit_code == 2 and "has no markbook" in done.stderr
