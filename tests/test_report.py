"""Whole outputs: JSON against its schema, and golden results for the bundled examples."""

from __future__ import annotations

import json

import jsonschema
import pytest

from essay_marker.report import result_to_dict
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
