"""Batch marking a class folder: markbook, slips, class report, exit codes, atomic writes."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from essay_marker import fsutil
from essay_marker.batch.files import discover, slip_name
from essay_marker.batch.markbook import markbook_writer
from essay_marker.batch.run import run_batch
from essay_marker.cli import app
from essay_marker.model.persist import bundled_model_path

from .conftest import FIXTURES
from .regen_golden import GOLDEN

CLASS = FIXTURES / "class"
runner = CliRunner()
BAD = {"corrupt.docx", "empty.txt", "photo.txt"}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    return p.tags, "".join(p.text)


@pytest.fixture(scope="module")
def marked(tmp_path_factory, rubric):
    out = tmp_path_factory.mktemp("batch") / "marked"
    outcome = run_batch(CLASS, out, rubric, bundled_model_path(rubric), jobs=1)
    return outcome, out


def test_discovery_skips_hidden_lock_and_unsupported_files():
    names = [f.relative for f in discover(CLASS)]
    assert names == sorted(names)
    assert ".hidden.txt" not in names and "~$a05-freya.docx" not in names
    assert "notes.odt" not in names and "set-b/jordan.pdf" in names and "a05-freya.docx" in names


def test_slip_names_are_safe_and_distinct():
    assert slip_name("set-b/Amy B.docx") == "set-b__Amy_B"
    assert slip_name("amy.txt") != slip_name("set-b/amy.txt")


def test_markbook_matches_golden(marked):
    _, out = marked
    assert (out / "marks.csv").read_text(encoding="utf-8") == (
        GOLDEN / "batch-marks.csv"
    ).read_text(encoding="utf-8")


def test_markbook_rows_and_errors(marked, rubric):
    outcome, out = marked
    with (out / "marks.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [f.relative for f in discover(CLASS)]
    for r in rows:
        assert r["teacher_mark"] == ""
        if r["file"] in BAD:
            assert r["error"] and r["mark"] == ""
        else:
            assert not r["error"] and 0 <= int(r["mark"]) <= 16
            assert all(r[f"factor_{f.id}"] for f in rubric.factors)
    assert outcome.failed == len(BAD) and outcome.marked == len(rows) - len(BAD)
    xlsx = pd.read_excel(out / "marks.xlsx", dtype=str).fillna("")
    assert list(xlsx["file"]) == [r["file"] for r in rows]


def _same_cells(out):
    """marks.xlsx holds what marks.csv holds: numbers as numbers, yes/no as booleans."""
    from openpyxl import load_workbook

    table = pd.read_csv(out / "marks.csv", dtype=str, keep_default_na=False)
    sheet = load_workbook(out / "marks.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(table.columns)
    for got, want in zip(rows[1:], table.to_dict("records"), strict=True):
        for name, value in zip(table.columns, got, strict=True):
            if name in ("level", "mark", "spag", "confidence"):
                assert value == (float(want[name]) if want[name] else None), name
            elif name == "refer_to_teacher" and want[name]:
                assert value is (want[name] == "true")
            else:
                assert (value or "") == want[name].removeprefix("'") or value == want[name], name
    return sheet


def test_markbook_xlsx_is_a_sheet_a_teacher_can_work_in(marked):
    _, out = marked
    sheet = _same_cells(out)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["B"].width >= 20  # the file names fit


def test_streamed_xlsx_numbers_and_gaps(marked, tmp_path, rubric):
    outcome, _ = marked
    good = next(r for r in outcome.rows if not r.error)
    bad = next(r for r in outcome.rows if r.error)
    rows = [replace(good, confidence=i / 100, mark=i % 17, file=f"{i}.txt") for i in range(101)]
    rows += [bad, replace(good, level=0, mark=0, spag=0, confidence=0.0)]
    with markbook_writer(rubric, tmp_path, len(rows)) as add:
        for row in rows:
            add(row)
    _same_cells(tmp_path)


def test_slips_for_every_student_with_text_escaped(marked):
    outcome, out = marked
    for row in outcome.rows:
        html = out / "feedback" / f"{row.slip}.html"
        md = out / "feedback" / f"{row.slip}.md"
        assert html.exists() == md.exists() == (not row.error)
    # sneaky.txt pads with repeats (and a script tag): flagged, so its slip says only that
    # the teacher will read it, and nothing of why.
    tags, text = parse(out / "feedback" / "sneaky.html")
    assert "script" not in tags and "Your teacher will read this essay" in text
    assert "repeat" not in text and "What went well" not in text
    _, slip = parse(out / "feedback" / "e19-osian.html")
    assert "What went well" in slip and "Even better if" in slip and "Your next step" in slip
    assert "Level" in slip


def test_class_report_is_self_contained_and_covers_everyone(marked):
    outcome, out = marked
    page = (out / "class-report.html").read_text(encoding="utf-8")
    tags, text = parse(out / "class-report.html")
    assert "script" not in tags and "http://" not in page and "https://" not in page
    assert page.count("data:image/png;base64,") == 2
    for row in outcome.rows:
        assert row.student in text
    for bad in BAD:
        assert bad in text
    assert "What to reteach" in text and " of " in text and "For you to review" in text


def test_parallel_run_gives_identical_results(marked, tmp_path, rubric):
    _, out = marked
    run_batch(CLASS, tmp_path / "p", rubric, bundled_model_path(rubric), jobs=2)
    assert (tmp_path / "p" / "marks.csv").read_bytes() == (out / "marks.csv").read_bytes()
    assert (tmp_path / "p" / "class-report.html").read_bytes() == (
        out / "class-report.html"
    ).read_bytes()
    slips = sorted(p.name for p in (out / "feedback").iterdir())
    assert slips == sorted(p.name for p in (tmp_path / "p" / "feedback").iterdir())
    for name in slips:
        assert (tmp_path / "p" / "feedback" / name).read_bytes() == (
            out / "feedback" / name
        ).read_bytes()


def test_resume_skips_unchanged_files_and_remarks_changed_ones(tmp_path, rubric):
    folder = tmp_path / "class"
    shutil.copytree(CLASS, folder)
    out = tmp_path / "out"
    first = run_batch(folder, out, rubric, None, jobs=1)
    (folder / "c13-noah.txt").write_text("Stalin was General Secretary. " * 30, encoding="utf-8")
    again = run_batch(folder, out, rubric, None, jobs=1, resume=True)
    assert again.reused == first.marked - 1
    assert [r.file for r in again.rows] == [r.file for r in first.rows]


def test_interrupted_write_leaves_previous_markbook_whole(tmp_path, rubric, monkeypatch):
    out = tmp_path / "out"
    run_batch(CLASS, out, rubric, None, jobs=1)
    before = (out / "marks.csv").read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fsutil.os, "replace", boom)  # atomic writes rename with os.replace
    with pytest.raises(KeyboardInterrupt):
        run_batch(CLASS, out, rubric, None, jobs=1)
    assert (out / "marks.csv").read_bytes() == before
    assert not [p for p in out.rglob("*.tmp")]


def test_cli_exit_codes(tmp_path):
    r = runner.invoke(app, ["batch", str(CLASS), "--out", str(tmp_path / "a"), "--jobs", "1"])
    assert r.exit_code == 1, r.output
    assert "could not be read" in r.stderr
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(CLASS / "e19-osian.txt", good)
    r = runner.invoke(app, ["batch", str(good), "--out", str(tmp_path / "b"), "--jobs", "1"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "is not a folder" in r.stderr and "Traceback" not in r.stderr


def test_cli_json_lines(tmp_path):
    import json

    r = runner.invoke(
        app, ["batch", str(CLASS), "-o", str(tmp_path / "j"), "-j", "1", "-f", "json"]
    )
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert {x["input"] for x in lines} == {f.relative for f in discover(CLASS)}
    assert sum("error" in x for x in lines) == len(BAD)


def test_a_5_mb_file_is_an_error_row_and_the_batch_carries_on(tmp_path, rubric):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(CLASS / "e19-osian.txt", folder)
    (folder / "huge.txt").write_bytes(b"Trotsky was arrogant and unpopular. " * 150_000)
    outcome = run_batch(folder, tmp_path / "out", rubric, bundled_model_path(rubric), jobs=1)
    rows = {r.file: r for r in outcome.rows}
    assert "too long for an essay" in rows["huge.txt"].error
    assert rows["e19-osian.txt"].error == "" and rows["e19-osian.txt"].mark is not None
    assert outcome.failed == 1


def test_reteach_lines_count_wrong_years_as_well_as_wrong_claims(rubric):
    from essay_marker.records import BatchRow
    from essay_marker.render.classreport import reteach_lines

    rows = [
        BatchRow("a", "a.txt", "", "", targets=("fact:gen_sec_year", "fact:trotsky_whites")),
        BatchRow("b", "b.txt", "", "", targets=("fact:gen_sec_year",)),
    ]
    lines = reteach_lines(rows, rubric)
    assert lines[0].startswith("2 of 2 gave the wrong year for “Stalin became General Secretary”")
    assert any(x.startswith("1 of 2 made the error “Trotsky led the Whites”") for x in lines)


# --------------------------------------------------------------- hostile and careless folders


def _essay_text():
    return (FIXTURES.parent.parent / "examples" / "two-reasons-short.txt").read_text(
        encoding="utf-8"
    )


def test_slip_names_keep_every_script_and_every_letter():
    from essay_marker.batch.files import slip_names

    names = slip_names(
        [
            "Bob.txt",
            "Bob.docx",
            "Cara Jones.txt",
            "Cara_Jones.txt",
            "李明.txt",
            "王芳.txt",
            "Zoë.txt",
            "Zoé.txt",
            "bob.md",
            "CON.txt",
        ]
    )
    assert len(set(n.casefold() for n in names.values())) == len(names)
    assert names["李明.txt"] == "李明" and names["Zoë.txt"] == "Zoë" and names["Zoé.txt"] == "Zoé"
    assert names["Bob.docx"] == "Bob" and names["Bob.txt"] == "Bob-txt"
    assert names["Cara Jones.txt"] == "Cara_Jones" and names["Cara_Jones.txt"] == "Cara_Jones-2"
    assert names["CON.txt"] == "CON_"


def test_colliding_names_get_their_own_slips_and_are_reported(tmp_path, rubric):
    folder = tmp_path / "class"
    folder.mkdir()
    text = _essay_text()
    for name in ("Bob.txt", "Bob.md", "Cara Jones.txt", "Cara_Jones.txt"):
        (folder / name).write_text(text, encoding="utf-8")
    outcome = run_batch(folder, tmp_path / "out", rubric, None, jobs=1)
    slips = sorted(p.name for p in (tmp_path / "out" / "feedback").glob("*.html"))
    assert len(slips) == 4
    assert set(outcome.renamed) == {"Bob.txt", "Cara_Jones.txt"}
    report = (tmp_path / "out" / "class-report.html").read_text(encoding="utf-8")
    assert "Slips renamed (2)" in report and "feedback/Bob-txt.html" in report


def test_names_that_look_like_formulas_are_text_in_both_markbooks(tmp_path, rubric):
    from openpyxl import load_workbook

    folder = tmp_path / "class"
    folder.mkdir()
    hostile = ["=HYPERLINK(x).txt", "+1.txt", "-2.txt", "@SUM(A1).txt", "=cmd|' calc'!A0.txt"]
    for name in hostile:
        (folder / name).write_text(_essay_text(), encoding="utf-8")
    out = tmp_path / "out"
    run_batch(folder, out, rubric, None, jobs=1)
    with (out / "marks.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        assert r["file"].startswith("'") and r["student"].startswith("'")
    sheet = load_workbook(out / "marks.xlsx").active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row[:2]]
    assert all(c.data_type == "s" for c in cells)
    assert sorted(c.value for c in cells[1::2]) == sorted(hostile)
    # --resume reads its own guarded names back: nothing is marked twice.
    again = run_batch(folder, out, rubric, None, jobs=1, resume=True)
    assert again.reused == len(hostile)


def test_links_pipes_and_loops_become_error_rows_and_nothing_outside_is_read(tmp_path, rubric):
    import os

    outside = tmp_path / "secret.txt"
    outside.write_text("a teacher's private notes " * 20, encoding="utf-8")
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "amy.txt").write_text(_essay_text(), encoding="utf-8")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    (folder / "leak.txt").symlink_to(outside)
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    (folder / "copy.txt").symlink_to(folder / "amy.txt")  # inside the folder: marked
    os.mkfifo(folder / "pipe.txt")
    outcome = run_batch(folder, tmp_path / "out", rubric, None, jobs=1)
    errors = {r.file: r.error for r in outcome.rows if r.error}
    assert set(errors) == {
        "loop-a.txt",
        "loop-b.txt",
        "gone.txt",
        "leak.txt",
        "elsewhere",
        "pipe.txt",
    }
    assert "loops" in errors["loop-a.txt"] and "does not exist" in errors["gone.txt"]
    assert "outside the class folder" in errors["leak.txt"]
    assert "outside the class folder" in errors["elsewhere"]
    assert "not a regular file" in errors["pipe.txt"]
    assert outcome.marked == 2
    slips = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").rglob("*.html"))
    assert "private notes" not in slips


def test_a_dead_runs_temporary_files_are_cleaned_up_and_a_live_ones_kept(tmp_path, rubric):
    import os
    import subprocess
    import sys

    from essay_marker.fsutil import clean_stale_temps

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".marks.csv.{dead.stdout.strip()}~abc.tmp"
    live = tmp_path / f".marks.csv.{os.getppid()}~abc.tmp"
    other = tmp_path / "notes.tmp"
    for p in (stale, live, other):
        p.write_text("x")
    assert clean_stale_temps(tmp_path) == 1
    assert not stale.exists() and live.exists() and other.exists()


def _children(pid: int) -> set[int]:
    """Processes whose parent is pid (Linux /proc)."""
    from pathlib import Path

    out = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat_file.parent.name))
    return out


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_die_with_a_killed_batch(tmp_path, how):
    import os
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(400):
        (folder / f"s{i:03}.txt").write_text(_essay_text(), encoding="utf-8")
    batch_run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "essay_marker",
            "batch",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline and batch_run.poll() is None:
            time.sleep(0.2)
            workers = _children(batch_run.pid)
        assert len(workers) >= 2, "the batch never started its workers"
        os.kill(batch_run.pid, getattr(signal, how))
        batch_run.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers)
    finally:
        batch_run.kill()


def test_a_resumed_run_keeps_the_reasons_for_each_referral(marked, tmp_path, rubric):
    outcome, out = marked
    resumed = tmp_path / "resumed"
    shutil.copytree(out, resumed)
    again = run_batch(CLASS, resumed, rubric, bundled_model_path(rubric), jobs=1, resume=True)
    assert again.reused == outcome.marked
    assert [r.refer_reasons for r in again.rows] == [r.refer_reasons for r in outcome.rows]
    page = (resumed / "class-report.html").read_text(encoding="utf-8")
    assert page == (out / "class-report.html").read_text(encoding="utf-8")


def test_outputs_follow_the_umask(tmp_path, rubric):
    import os
    import stat

    old = os.umask(0o022)
    try:
        from essay_marker import fsutil

        fsutil._file_mode.cache_clear()
        folder = tmp_path / "c"
        folder.mkdir()
        (folder / "amy.txt").write_text(_essay_text(), encoding="utf-8")
        run_batch(folder, tmp_path / "out", rubric, None, jobs=1)
        for path in [tmp_path / "out" / "marks.csv", tmp_path / "out" / "feedback" / "amy.html"]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(old)
        fsutil._file_mode.cache_clear()
