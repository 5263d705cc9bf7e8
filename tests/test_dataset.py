"""Loading marked scripts for training, with clear messages for bad data."""

from __future__ import annotations

import pytest

from essay_marker.dataset import load_marked
from essay_marker.errors import DataError

from .conftest import FIXTURES


def _folder(tmp_path, marks: str, files: dict[str, bytes]):
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "marks.csv").write_text(marks, encoding="utf-8")
    return tmp_path


def test_loads_scripts_and_blank_scripts_marked_zero(tmp_path, rubric):
    d = _folder(
        tmp_path,
        "file,mark,spag\na.txt,7,2\nb.txt,0,0\n",
        {"a.txt": b"Stalin was General Secretary.", "b.txt": b""},
    )
    marked = load_marked(d, d / "marks.csv", rubric)
    assert [(s.file, s.mark, s.spag) for s in marked.scripts] == [("a.txt", 7, 2), ("b.txt", 0, 0)]
    assert marked.scripts[1].text == "" and len(marked.sha256) == 64


@pytest.mark.parametrize(
    ("marks", "files", "words"),
    [
        ("file,mark\na.txt,17\n", {"a.txt": b"x"}, "not a whole number 0-16"),
        ("file,mark\na.txt,seven\n", {"a.txt": b"x"}, "not a whole number"),
        ("file,mark\nmissing.txt,3\n", {}, "no such file"),
        ("file,mark\na.txt,3\na.txt,4\n", {"a.txt": b"x"}, "more than once"),
        ("file,mark,spag\na.txt,3,9\n", {"a.txt": b"x"}, "spag '9'"),
        ("name,score\na.txt,3\n", {"a.txt": b"x"}, "no file or mark column"),
        ("file,mark\na.txt,3\n", {"a.txt": bytes(range(256)) * 8}, "binary"),
    ],
)
def test_bad_data_is_reported_clearly(tmp_path, rubric, marks, files, words):
    d = _folder(tmp_path, marks, files)
    with pytest.raises(DataError) as info:
        load_marked(d, d / "marks.csv", rubric)
    assert words in str(info.value)


def test_sentence_labels_are_checked(tmp_path, rubric):
    d = _folder(tmp_path, "file,mark\na.txt,3\n", {"a.txt": b"Stalin was General Secretary."})
    (d / "sentences.csv").write_text("file,start,end,factor,role\na.txt,0,29,no_such,describe\n")
    with pytest.raises(DataError, match="unknown factor"):
        load_marked(d, d / "marks.csv", rubric)


def test_texts_in_one_table(tmp_path, rubric):
    from essay_marker.dataset import load_table

    table = tmp_path / "scripts.tsv"
    table.write_text("id\tessay\tscore\nann\tStalin was General Secretary.\t5\nbob\t\t0\n")
    marked = load_table(table, rubric, "essay", "score", id_col="id")
    assert [(s.file, s.mark) for s in marked.scripts] == [("ann", 5), ("bob", 0)]
    with pytest.raises(DataError, match="no column text"):
        load_table(table, rubric, "text", "score")


def test_too_few_scripts_says_how_many_and_why(tmp_path, rubric):
    from essay_marker.dataset import check_trainable

    d = _folder(tmp_path, "file,mark\na.txt,3\n", {"a.txt": b"Stalin was General Secretary."})
    with pytest.raises(DataError, match="at least 20") as info:
        check_trainable(load_marked(d, d / "marks.csv", rubric), rubric)
    assert "cross-validation" in str(info.value)


def test_markbook_teacher_marks_are_read_back(tmp_path, rubric):
    from essay_marker.batch.run import run_batch
    from essay_marker.dataset import load_markbook

    from .conftest import EXAMPLES

    folder = tmp_path / "class"
    folder.mkdir()
    for p in EXAMPLES.glob("*.txt"):
        (folder / p.name).write_bytes(p.read_bytes())
    run_batch(folder, tmp_path / "marked", rubric, None)
    book = tmp_path / "marked" / "marks.csv"
    with pytest.raises(DataError, match="no teacher marks yet"):
        load_markbook(book, rubric)
    import pandas as pd

    table = pd.read_csv(book, dtype=str, keep_default_na=False)
    table["teacher_mark"] = ["3", "4"] + [""] * (len(table) - 2)
    table.to_csv(book, index=False)
    marked = load_markbook(book, rubric)
    assert [s.mark for s in marked.scripts] == [3, 4]
    assert all(s.text for s in marked.scripts)


def test_a_teachers_marks_are_read_from_the_markbook_spreadsheet_too(tmp_path, rubric):
    """`train --from-markbook marked/marks.xlsx`: the spreadsheet batch writes, edited."""
    import shutil

    from openpyxl import load_workbook

    from essay_marker.batch.run import run_batch
    from essay_marker.dataset import load_markbook

    folder = tmp_path / "class"
    shutil.copytree(FIXTURES / "class", folder)
    out = tmp_path / "marked"
    run_batch(folder, out, rubric, None, jobs=1)
    book = load_workbook(out / "marks.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    col = header.index("teacher_mark") + 1
    files = []
    for row in range(2, sheet.max_row + 1):
        if not sheet.cell(row, header.index("error") + 1).value:
            sheet.cell(row, col).value = 7  # a number, as a teacher types it
            files.append(sheet.cell(row, header.index("file") + 1).value)
    book.save(out / "marks.xlsx")
    marked = load_markbook(out / "marks.xlsx", rubric)
    assert {s.file for s in marked.scripts} == set(files) and {s.mark for s in marked.scripts} == {
        7
    }
