"""render/classreport.py: the class report page, tested through the HTML it returns or writes."""

from __future__ import annotations

import base64
import os
import pickle
import statistics
import struct
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from essay_marker.batch.markbook import record_to_row, row_to_record
from essay_marker.batch.marking import Job, mark_files
from essay_marker.model.persist import bundled_model
from essay_marker.render.classreport import render_class_report, reteach_lines, write_class_report

from .conftest import EXAMPLES

SCRIPT = "<script>alert(1)</script>"
QUOTES = 'O\'Brien & "Sons"'
IMG = "<img src=x onerror=alert(1)>"
SHORT = {"absent": "–", "mentioned": "D", "explained": "E", "weighed": "W"}
# Every tag the page is made of: anything else came from a name or an essay.
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "img", "ul",
    "li", "table", "tr", "th", "td",
}  # fmt: skip
# Two explanations that only restate themselves: the flag quotes the first one, markup and all.
CIRCULAR = f"""Stalin got power because of the General Secretary job. The {SCRIPT} job was important because
it was an important job. Trotsky lost power because Trotsky lost power. The Politburo mattered
because the Politburo mattered. Stalin won because Stalin won. In the end Stalin was the
leader of the Soviet Union and Trotsky was sent away to another country, first to Turkey
and later to Mexico, where he kept writing against Stalin."""


class Page(HTMLParser):
    """A page's tags, text and tables (each a list of rows of (tag, attrs, text) cells)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.tables: list[tuple[dict, list[list[tuple[str, dict, str]]]]] = []
        self._cell: list | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append((attrs, []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = [tag, attrs, ""]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell[2] += data

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def table_after(self, heading: str) -> list[list[str]]:
        """The cell texts of the first table whose first header cell is `heading`."""
        for _, rows in self.tables:
            if rows and rows[0] and rows[0][0][2] == heading and rows[0][0][0] == "th":
                return [[c[2] for c in row] for row in rows]
        raise AssertionError(f"no table headed {heading}")

    def grid(self) -> list[list[tuple[str, dict, str]]]:
        (rows,) = [rows for attrs, rows in self.tables if attrs.get("class") == "grid"]
        return rows

    def images(self) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == "img"]


def _jobs(named: dict[str, bytes | str], hide_mark: bool = False) -> list[Job]:
    """Jobs carrying their bytes (str: why the file could not be read)."""
    jobs = []
    for name, data in named.items():
        path = f"/class/{name}"
        if isinstance(data, str):
            jobs.append(Job(path, name, "/nowhere", hide_mark, False, unreadable=data))
        else:
            jobs.append(Job(path, name, "/nowhere", hide_mark, False, data=data))
    return jobs


@pytest.fixture(scope="module")
def model(rubric):
    return bundled_model(rubric)


def _class(rubric, model, hide_mark=False):
    """Class 10B, three students with awkward names or essays, and two files that failed."""
    named: dict[str, bytes | str] = {
        p.name: p.read_bytes() for p in sorted((EXAMPLES / "class-10b").glob("*.txt"))
    }
    named[f"{QUOTES}.txt"] = (EXAMPLES / "two-reasons-short.txt").read_bytes()
    named[f"{IMG}.txt"] = (EXAMPLES / "analytical-four-factors.txt").read_bytes()
    named["circles.txt"] = CIRCULAR.encode()
    named["e&<b>.txt"] = b""  # empty: an error row
    named["gone.txt"] = "gone.txt cannot be read (No such file or directory)"
    rows = [m.row for m in mark_files(_jobs(named, hide_mark), rubric, model)]
    # A name no file can have (it holds a slash), as a markbook read back may give.
    return [replace(r, student=SCRIPT) if r.file == "circles.txt" else r for r in rows]


@pytest.fixture(scope="module")
def rows(rubric, model):
    return _class(rubric, model)


@pytest.fixture(scope="module")
def page(rows, rubric):
    return render_class_report(rows, rubric)


def _marked(rows):
    return [r for r in rows if not r.error]


def _shown(rows, rubric):
    return [
        f
        for f in rubric.factors
        if f.named or any(r.factors.get(f.id, "absent") != "absent" for r in _marked(rows))
    ]


# ------------------------------------------------------------------------------ escaping


def test_the_class_is_what_the_tests_need(rows):
    marked = _marked(rows)
    assert len(rows) == 25 and len(marked) == 23  # an odd number of marks: one median
    circles = next(r for r in rows if r.student == SCRIPT)
    assert circles.refer_to_teacher and SCRIPT in " ".join(circles.refer_reasons)
    assert {r.student for r in marked} >= {SCRIPT, QUOTES, IMG}


def test_names_files_and_essay_text_are_escaped(rows, rubric):
    rubric = replace(rubric, title="<u>Stalin</u> & co", question="Why? <em>Explain</em>")
    renamed = {"<i>x</i>.txt": "<i>x</i>"}
    html = render_class_report(rows, rubric, renamed=renamed)
    p = Page(html)
    assert {tag for tag, _ in p.tags} <= PAGE_TAGS
    assert len(p.images()) == 2 and all(set(img) == {"alt", "src"} for img in p.images())
    for raw in ("<script", "<img src=x", "<u>", "<em>", "<i>", "<b>"):
        assert raw not in html, raw
    # The reader sees each name and message exactly as it was.
    text = p.all_text
    assert "Class report: <u>Stalin</u> & co" in text and "Why? <em>Explain</em>" in text
    assert [row[0][2] for row in p.grid()[1:]] == [r.student for r in _marked(rows)]
    review = {row[0]: row for row in p.table_after("Student")[1:]}
    why = " ".join(next(r for r in rows if r.student == SCRIPT).refer_reasons)
    assert review[SCRIPT][1:3] == ["circles.txt", why] and SCRIPT in why
    failed = p.table_after("File")
    assert failed[1:] == [[r.file, r.error] for r in rows if r.error]
    assert failed[1][0] == "e&<b>.txt" and "e&<b>.txt is empty" in failed[1][1]
    slips = [[c[2] for c in row] for row in p.tables[-1][1]]
    assert slips == [["File", "Slip"], ["<i>x</i>.txt", "feedback/<i>x</i>.html"]]


def test_factor_names_with_quotes_stay_in_their_attribute(page, rows, rubric):
    header = Page(page).grid()[0]
    titles = [attrs.get("title") for tag, attrs, _ in header if "title" in attrs]
    assert titles == [f.name for f in _shown(rows, rubric)]
    assert any("'" in t for t in titles)  # "Stalin's position as General Secretary"


# ------------------------------------------------------------------------- columns and marks


def test_every_factor_column_appears_with_each_students_statuses(page, rows, rubric):
    grid = Page(page).grid()
    shown = _shown(rows, rubric)
    assert [c[2] for c in grid[0]] == ["Student", "Level", "Mark", *(f.short for f in shown)]
    assert all(f in shown for f in rubric.factors if f.named)
    assert any(not f.named for f in shown)  # a factor the rubric does not name, but used
    marked = _marked(rows)
    assert len(grid) == 1 + len(marked)
    for row, r in zip(grid[1:], marked, strict=True):
        cells = [c[2] for c in row]
        assert cells[:3] == [r.student, str(r.level), str(r.mark)]
        statuses = [str(r.factors.get(f.id, "absent")) for f in shown]
        assert cells[3:] == [SHORT[s] for s in statuses]
        assert [c[1].get("class") for c in row[3:]] == statuses


def test_a_factor_nobody_used_has_no_column_until_someone_uses_it(rubric):
    named = {
        "amy.txt": (EXAMPLES / "two-reasons-short.txt").read_bytes(),
        "bob.txt": b"Stalin was General Secretary. " * 10,
    }
    rows = [m.row for m in mark_files(_jobs(named), rubric, None)]
    unused = [f for f in rubric.factors if f not in _shown(rows, rubric)]
    assert unused and not any(f.named for f in unused)

    def heads(rows):
        return [c[2] for c in Page(render_class_report(rows, rubric)).grid()[0]]

    assert not set(heads(rows)) & {f.short for f in unused}
    everything = {f.id: "mentioned" for f in rubric.factors}
    used = [replace(rows[0], factors=everything), rows[1]]
    assert heads(used)[3:] == [f.short for f in rubric.factors]


def test_summary_counts_scripts_and_gives_mean_and_median(page, rows, rubric):
    marks = [r.mark for r in _marked(rows)]
    text = " ".join(Page(page).all_text.split())
    assert "25 scripts: 23 marked, 2 could not be read." in text
    assert (
        f"Mean mark {statistics.mean(marks):.1f}/{rubric.max_mark}, "
        f"median {statistics.median(marks)}." in text
    )


def test_the_median_of_an_even_number_of_marks_is_between_the_middle_two(rows, rubric):
    two = [replace(r, mark=m) for r, m in zip(_marked(rows)[:2], (2, 12), strict=True)]
    three = [*two, replace(_marked(rows)[2], mark=5)]
    assert "median 7." in " ".join(Page(render_class_report(two, rubric)).all_text.split())
    assert "median 5." in " ".join(Page(render_class_report(three, rubric)).all_text.split())


def test_review_and_reteach_sections(page, rows, rubric):
    p = Page(page)
    referred = [r for r in _marked(rows) if r.refer_to_teacher]
    assert referred and f"For you to review ({len(referred)})" in p.all_text
    review = p.table_after("Student")
    assert review[0] == ["Student", "File", "Why", "Mark"]
    assert [row[:2] + row[3:] for row in review[1:]] == [
        [r.student, r.file, str(r.mark)] for r in referred
    ]
    lines = reteach_lines(rows, rubric)
    assert lines and sum(tag == "li" for tag, _ in p.tags) == len(lines)
    for line in lines:
        assert line in p.all_text


def test_hidden_marks_leave_out_level_mark_mean_and_charts(rubric, model):
    rows = _class(rubric, model, hide_mark=True)
    html = render_class_report(rows, rubric, hide_mark=True)
    p = Page(html)
    shown = _shown(rows, rubric)
    grid = p.grid()
    assert [c[2] for c in grid[0]] == ["Student", *(f.short for f in shown)]
    assert all(len(row) == 1 + len(shown) for row in grid)
    assert "Level" not in p.all_text and "Mean mark" not in p.all_text
    assert f"/{rubric.max_mark}" not in p.all_text and "median" not in p.all_text
    assert p.images() == [] and "data:image" not in html
    for row in p.table_after("Student")[1:]:
        assert len(row) < 4 or row[3] == ""  # no mark shown, whatever the columns
    # The same class with marks shown has them all, so the test above can fail.
    visible = Page(render_class_report(rows, rubric))
    assert [c[2] for c in visible.grid()[0]][:3] == ["Student", "Level", "Mark"]
    assert "Mean mark" in visible.all_text and len(visible.images()) == 2


def test_hidden_marks_leave_no_mark_column_in_the_review_table(rubric, model):
    rows = _class(rubric, model, hide_mark=True)
    review = Page(render_class_report(rows, rubric, hide_mark=True)).table_after("Student")
    assert review[0] == ["Student", "File", "Why"]


# ---------------------------------------------------------------- charts and determinism


def _pngs(html):
    out = []
    for img in Page(html).images():
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        out.append((img["alt"], base64.b64decode(img["src"][len(prefix) :], validate=True)))
    return out


def test_charts_are_embedded_pngs_drawn_from_the_marks(page, rows, rubric):
    charts = _pngs(page)
    assert [alt for alt, _ in charts] == ["Distribution of marks", "Distribution of levels"]
    for _, png in charts:
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert 200 < width < 2000 and 100 < height < 1000
        assert b"Software" not in png  # no metadata that changes from one run to the next
    assert charts[0][1] != charts[1][1]
    assert "http://" not in page and "https://" not in page and "<link" not in page
    # Other marks, other chart.
    first = next(i for i, r in enumerate(rows) if not r.error)
    other = [replace(r, mark=r.mark + 1) if i == first else r for i, r in enumerate(rows)]
    redrawn = _pngs(render_class_report(other, rubric))
    assert redrawn[0][1] != charts[0][1] and redrawn[1][1] == charts[1][1]


def test_same_class_same_bytes_written_or_returned(page, rows, rubric, tmp_path):
    assert render_class_report(list(rows), rubric) == page
    path = tmp_path / "class-report.html"
    write_class_report(rows, rubric, path)
    assert path.read_bytes() == page.encode("utf-8")
    write_class_report(rows, rubric, path, renamed={})
    assert path.read_bytes() == page.encode("utf-8")


def test_same_class_same_bytes_in_another_process(page, rows, tmp_path):
    data = tmp_path / "rows.pickle"
    data.write_bytes(pickle.dumps(rows))
    script = (
        "import pickle, sys\n"
        "from essay_marker.render.classreport import render_class_report\n"
        "from essay_marker.rubric import find_rubric\n"
        "rows = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "sys.stdout.buffer.write(render_class_report(rows, find_rubric('stalin-main-reason'))"
        ".encode())\n"
    )
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(data)], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout == page.encode("utf-8")


# ----------------------------------------------------------------------- empty and failed


def test_an_empty_class_gives_a_report_with_nothing_in_it(rubric, tmp_path):
    html = render_class_report([], rubric)
    p = Page(html)
    text = " ".join(p.all_text.split())
    assert "0 scripts: 0 marked, 0 could not be read." in text
    for part in (
        "No common gaps.",
        "For you to review (0)",
        "None flagged.",
        "Every file was read.",
    ):
        assert part in text
    assert p.images() == [] and "Mean mark" not in text and "Slips renamed" not in text
    assert len(p.grid()) == 1
    write_class_report([], rubric, tmp_path / "r.html", hide_mark=True)
    assert "0 scripts" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("hide", [False, True], ids=["marks", "no-marks"])
def test_a_class_where_nothing_could_be_read(hide, rubric, model):
    named = {"a.txt": b"", "b.txt": b"\x00\x01\x02" * 50, "c.txt": "c.txt is not a regular file"}
    rows = [m.row for m in mark_files(_jobs(named, hide), rubric, model)]
    assert all(r.error for r in rows)
    p = Page(render_class_report(rows, rubric, hide_mark=hide))
    text = " ".join(p.all_text.split())
    assert "3 scripts: 0 marked, 3 could not be read." in text and "Mean mark" not in text
    assert "No common gaps." in text and "Could not be marked (3)" in text
    assert p.images() == [] and len(p.grid()) == 1
    assert p.table_after("File")[1:] == [[r.file, r.error] for r in rows]


def _blanked(row, rubric):
    """The row as --resume reads it back from a markbook whose level and mark were cleared."""
    return record_to_row(row_to_record(row, rubric) | {"level": "", "mark": ""}, row.slip)


def test_rows_read_back_without_marks_do_not_break_the_summary(rows, rubric):
    blank = [_blanked(r, rubric) if not r.error else r for r in rows]
    assert all(r.mark is None for r in blank)
    p = Page(render_class_report(blank, rubric))
    assert "25 scripts: 23 marked" in " ".join(p.all_text.split())
    assert "Mean mark" not in p.all_text and p.images() == []


def test_rows_read_back_without_marks_show_blank_cells(rows, rubric):
    blank = [_blanked(r, rubric) if not r.error else r for r in rows]
    grid = Page(render_class_report(blank, rubric)).grid()
    assert all(row[1][2] == row[2][2] == "" for row in grid[1:])
