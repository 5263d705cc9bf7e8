"""The command line, through Typer's CliRunner: output on stdout, one-line errors on stderr."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from essay_marker.cli import app

from .conftest import EXAMPLES

runner = CliRunner()
STRONG = str(EXAMPLES / "analytical-four-factors.txt")


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def test_check_text_report():
    r = run("check", STRONG)
    assert r.exit_code == 0, r.output
    assert "Level" in r.stdout and "What went well" in r.stdout and "Next step" in r.stdout
    assert r.stderr == ""


def test_check_json_has_the_documented_fields():
    r = run("check", STRONG, "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    for key in (
        "schema_version",
        "input",
        "rubric",
        "scorer",
        "level",
        "mark",
        "max_mark",
        "spag",
        "confidence",
        "factors",
        "judgement",
        "flags",
        "refer_to_teacher",
        "feedback",
    ):
        assert key in data
    assert data["rubric"] == "stalin-main-reason"


def test_check_markdown():
    r = run("check", STRONG, "-f", "markdown")
    assert r.exit_code == 0 and r.stdout.startswith("# Feedback")


def test_no_mark_hides_level_and_mark():
    r = run("check", STRONG, "--no-mark", "-f", "json")
    data = json.loads(r.stdout)
    assert data["mark_hidden"] is True
    assert data["level"] is None and data["mark"] is None and data["spag"]["mark"] is None
    assert "Level" not in data["feedback"]["level_gap"]
    text = run("check", STRONG, "--no-mark").stdout
    assert "/16" not in text


def test_stdin():
    r = run("check", "-", "-f", "json", stdin=(EXAMPLES / "two-reasons-short.txt").read_text())
    assert r.exit_code == 0
    assert json.loads(r.stdout)["input"] == "<stdin>"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: str(p / "missing.txt"), "does not exist"),
        (lambda p: str(p), "is a folder"),
        (lambda p: _write(p / "empty.txt", b""), "is empty"),
        (lambda p: _write(p / "b.txt", bytes(range(256)) * 8), "binary"),
        (lambda p: _write(p / "e.odt", b"x"), "not supported"),
        (lambda p: _write(p / "c.docx", b"PK\x03\x04broken"), "Word document"),
        (lambda p: _write(p / "huge.txt", b"Stalin won the vote. " * 250_000), "too long"),
    ],
    ids=["missing", "folder", "empty", "binary", "unsupported", "corrupt-docx", "5-mb"],
)
def test_bad_input_is_one_line_exit_2(tmp_path, make, words):
    r = run("check", make(tmp_path))
    assert r.exit_code == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and lines[0].startswith("error:")
    assert "Traceback" not in r.stderr


def test_invalid_rubric_is_one_line_exit_2(tmp_path):
    bad = _write(tmp_path / "bad.toml", b'id = "x"\n')
    r = run("check", STRONG, "--rubric", bad)
    assert r.exit_code == 2
    assert "bad.toml" in r.stderr and "is missing" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_rubric_list_show_validate(tmp_path):
    assert "stalin-main-reason" in run("rubric", "list").stdout
    shown = run("rubric", "show", "stalin-main-reason")
    assert shown.exit_code == 0 and "general_secretary" in shown.stdout
    ok = run("rubric", "validate", str(EXAMPLES.parent / "rubrics" / "stalin-main-reason.toml"))
    assert ok.exit_code == 0 and "valid rubric" in ok.stdout
    bad = run("rubric", "validate", _write(tmp_path / "bad.toml", b"id = 3\n"))
    assert bad.exit_code == 2 and "id" in bad.stderr


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_command_entry_point_collects_again_once_libraries_are_loaded(monkeypatch):
    import gc

    from essay_marker import cli, launch

    seen = {}
    monkeypatch.setattr(
        cli, "main", lambda: seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    )
    launch.main()
    gc.unfreeze()
    assert seen["enabled"] and seen["frozen"] > 0


def test_a_large_batch_summary_lists_only_the_scripts_to_check(monkeypatch):
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from essay_marker.commands import figures

    def row(i, refer=False, error=None):
        return SimpleNamespace(
            student=f"s{i:03}",
            error=error,
            refer_to_teacher=refer,
            flags=["gibberish"] * refer,
            level=None if error else 2,
            mark=None if error else 6,
        )

    rows = [row(i, refer=i in (5, 50), error="unreadable" if i == 70 else None) for i in range(100)]
    buffer = io.StringIO()
    monkeypatch.setattr(figures, "out", Console(file=buffer, width=120))
    figures.print_batch_summary(SimpleNamespace(out_dir="o", rows=rows), hide_mark=False)
    shown = buffer.getvalue()
    assert [s for s in ("s005", "s050", "s070", "s006") if s in shown] == ["s005", "s050", "s070"]
    assert "3 of 100 scripts need checking; every script is in marks.csv" in " ".join(shown.split())
    buffer.truncate(0)
    figures.print_batch_summary(SimpleNamespace(out_dir="o", rows=rows[:20]), hide_mark=False)
    assert "s006" in buffer.getvalue() and "need checking" not in buffer.getvalue()


def test_closed_standard_input_is_one_line_exit_2():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "essay_marker", "check", "-"],
        stdin=None,
        capture_output=True,
        text=True,
        close_fds=True,
        preexec_fn=lambda: __import__("os").close(0),
    )
    assert done.returncode == 2
    assert (
        done.stderr.startswith("error: standard input is closed") and "Traceback" not in done.stderr
    )


def test_a_deeply_nested_rubric_is_one_line_exit_2(tmp_path):
    nested = _write(tmp_path / "deep.toml", b'id = "x"\na = ' + b"[" * 5000 + b"]" * 5000 + b"\n")
    for args in (("rubric", "validate", nested), ("check", STRONG, "--rubric", nested)):
        r = run(*args)
        assert r.exit_code == 2 and "nests tables or lists too deeply" in r.stderr
        assert "Traceback" not in r.stderr


def test_markdown_slips_escape_html_from_the_essay(tmp_path):
    essay = _write(
        tmp_path / "x.txt",
        (EXAMPLES / "two-reasons-short.txt")
        .read_bytes()
        .replace(b"He gave jobs", b"<script>alert(1)</script> He gave jobs"),
    )
    md = run("check", essay, "-f", "markdown").stdout
    assert "<script>" not in md and "&lt;script&gt;" in md


HOLDOUT = EXAMPLES.parent / "corpus" / "stalin-main-reason-holdout"


def _plain_rubric(tmp_path):
    from essay_marker.rubric import rubric_template

    path = tmp_path / "plain.toml"
    path.write_text(rubric_template("plain", "Why did Stalin gain power?", 16))
    return str(path)


def test_evaluate_json_reports_the_nested_figures(tmp_path):
    marks = str(HOLDOUT / "marks.csv")
    rubric = _plain_rubric(tmp_path)
    result = run("evaluate", "--rubric", rubric, "--scripts", str(HOLDOUT), "--marks", marks,
                 "--folds", "3", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    cv = record["cross_validation"]
    assert record["qwk"] == cv["model"]["qwk"]  # the outer figure: choice inside the folds
    assert record["qwk_inner_best"] == cv["selection"][cv["chosen"]]
    assert record["length_qwk"] == cv["length_baseline"]["qwk"]
    assert record["spread"]["over"] == "repeats" and record["spread"]["n"] == cv["repeats"]
    assert sum(record["winners"].values()) == cv["folds"] * cv["repeats"]
    for key in ("exact", "adjacent", "mae"):
        assert record[key] == cv["model"][key]


def test_train_says_when_the_model_does_not_beat_counting_words(tmp_path):
    """Marks shuffled against the scripts: nothing to learn, and train says so."""
    import csv
    import random

    rows = list(csv.DictReader((HOLDOUT / "marks.csv").open(encoding="utf-8")))
    marks = [r["mark"] for r in rows]
    random.Random(0).shuffle(marks)
    shuffled = tmp_path / "marks.csv"
    shuffled.write_text(
        "file,mark\n" + "".join(f"{r['file']},{m}\n" for r, m in zip(rows, marks, strict=True))
    )
    result = run("train", "--rubric", _plain_rubric(tmp_path), "--scripts", str(HOLDOUT),
                 "--marks", str(shuffled), "--folds", "3", "--out", str(tmp_path / "m.skops"))  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "does not clearly beat counting words" in said
    assert "more marked scripts" in said and "factors in the rubric" in said
    card = json.loads((tmp_path / "m.json").read_text())
    assert not card["cross_validation"]["beats_length"]["clear"]


def test_version_and_every_command_has_an_example_and_no_bool_placeholder():
    from importlib.metadata import version

    assert run("--version").stdout.strip() == f"essaymark {version('essaymark')}"
    commands = [
        ["check"], ["batch"], ["evaluate"], ["train"], ["moderate"], ["models", "list"],
        ["models", "use"], ["rubric", "list"], ["rubric", "show"], ["rubric", "new"],
        ["rubric", "validate"],
    ]  # fmt: skip
    for command in commands:
        text = run(*command, "--help").stdout
        assert "Example:" in text, command
        assert text.count("<bool>") <= 1  # only Typer's own --help shows one
        assert "list[" not in text, command  # a type, not what to type


def test_an_unfinished_rubric_is_warned_about_and_not_used_without_a_model(tmp_path):
    from essay_marker.rubric import rubric_template

    rubric = tmp_path / "new.toml"
    rubric.write_text(rubric_template("new-q", "Why did it happen?", 16), encoding="utf-8")
    checked = run("rubric", "validate", str(rubric))
    assert checked.exit_code == 0
    assert "still the template's" in checked.stderr and "factors: none" in checked.stderr
    marked = run("check", STRONG, "--rubric", str(rubric))
    assert marked.exit_code == 2 and "no model trained for it" in marked.stderr
