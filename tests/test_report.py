"""Whole outputs: JSON against its schema, and golden results for the bundled examples."""

from __future__ import annotations

import json

import jsonschema
import pytest

from essay_marker.render.report import result_to_dict
from essay_marker.scoring import score_essay

from .conftest import EXAMPLES, TESTS
from .regen_golden import GOLDEN, golden_record

SCHEMA = json.loads(
    (TESTS.parent / "essay_marker" / "schemas" / "check-result.schema.json").read_text()
)
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.txt"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
@pytest.mark.parametrize("hide", [False, True], ids=["marked", "no-mark"])
def test_json_validates_against_schema(path, hide, rubric):
    result = score_essay(path.read_text(encoding="utf-8"), rubric, input_name=path.name)
    jsonschema.validate(result_to_dict(result, hide_mark=hide), SCHEMA)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_golden(path, rubric):
    expected = json.loads((GOLDEN / f"{path.stem}.json").read_text(encoding="utf-8"))
    assert golden_record(path, rubric) == expected["result"]


def test_a_full_slip_escapes_the_students_text_and_holds_nothing_for_the_teacher(rubric):
    from html.parser import HTMLParser

    from essay_marker.render.report import to_html_slip, to_markdown
    from essay_marker.scoring import score_essay

    text = (
        (EXAMPLES / "two-reasons-short.txt")
        .read_text(encoding="utf-8")
        .replace("He gave jobs", '<script>alert("hi")</script> He gave jobs')
    )
    r = score_essay(text, rubric)
    tags: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append(tag)
    page = to_html_slip(r, text, "Amy")
    parser.feed(page)
    assert "script" not in tags and "&lt;script&gt;" in page
    for slip in (page, to_markdown(r, title="Amy")):
        assert "confidence" not in slip and "scored by" not in slip and "rules:" not in slip
        assert "For your teacher" not in slip


def test_an_answer_to_another_question_is_told_so_and_keeps_its_feedback(rubric):
    """other_question refers the script and says to the student which years the essay is
    about; unlike a flag with nothing for the student, it leaves the feedback on the slip."""
    from essay_marker.render.report import TEACHER_FIRST, to_html_slip, to_markdown

    from .conftest import load_cases

    cases = load_cases("flag_cases.toml")
    text = next(c["text"] for c in cases if c["check"] == "other_question.period" and c["fires"])
    r = score_essay(text, rubric)
    flag = next(f for f in r.flags if f.id == "other_question")
    assert r.refer_to_teacher and "1917–1929" in flag.student and "purges" in flag.student
    for slip in (to_html_slip(r, text, "Amy"), to_markdown(r, title="Amy")):
        assert "different question" in slip and "What went well" in slip
        assert TEACHER_FIRST not in slip and flag.message not in slip
        assert "/16" not in slip  # a referred mark may change: not shown


def test_no_mark_slips_name_no_level_or_mark(rubric):
    from essay_marker.render.report import to_html_slip, to_markdown
    from essay_marker.scoring import score_essay

    for name in ("two-reasons-short.txt", "trotsky-narrative.txt", "analytical-four-factors.txt"):
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        r = score_essay(text, rubric, hide_mark=True)
        for slip in (to_html_slip(r, text, "Amy", hide_mark=True), to_markdown(r, hide_mark=True)):
            assert "Level" not in slip and "/16" not in slip and "confident" not in slip


def test_slips_print_on_a4_without_splitting_a_row(rubric):
    from essay_marker.render.report import to_html_slip
    from essay_marker.scoring import score_essay

    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    page = to_html_slip(score_essay(text, rubric), text, "Amy")
    assert "@page{size:A4" in page and "tr,li,.next{break-inside:avoid}" in page


def test_a_reason_called_explained_is_shown_only_with_a_sentence_that_explains():
    """Beside "explained", a story sentence would call the story an explanation."""
    from essay_marker.records import Evidence, FactorCoverage, Role, Status
    from essay_marker.render.report import _shown

    story = Evidence("In April 1922 Stalin was appointed General Secretary.", 0, 53, Role.DESCRIBE)
    how = Evidence(
        "This let him appoint loyal officials, so they voted for him.", 54, 115, Role.EXPLAIN
    )
    told = FactorCoverage("general_secretary", "GS", True, Status.EXPLAINED, (story,), (story,))
    assert _shown(told) == ""
    shown = FactorCoverage(
        "general_secretary", "GS", True, Status.EXPLAINED, (story, how), (story, how)
    )
    assert _shown(shown).startswith("This let him appoint")
    mentioned = FactorCoverage(
        "general_secretary", "GS", True, Status.MENTIONED, (story,), (story,)
    )
    assert _shown(mentioned).startswith("In April 1922")
