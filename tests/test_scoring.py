"""score_essay: the whole pipeline from text to a result, on bundled examples."""

from __future__ import annotations

import pytest

from essay_marker.model import bundled_model
from essay_marker.scoring import score_essay
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def model(rubric):
    return bundled_model(rubric)


def _summary(r):
    return (r.mark, r.level, [f.id for f in r.flags], [(f.id, f.status) for f in r.factors])


def test_invisible_characters_from_copy_paste_change_nothing(rubric, model):
    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    pasted = text.replace("Stalin", "Sta\u00adlin").replace("Trotsky", "Trot\u200bsky")
    clean, dirty = score_essay(text, rubric, model), score_essay(pasted, rubric, model)
    assert _summary(dirty) == _summary(clean)
    for f in dirty.factors:
        for e in f.evidence:
            assert pasted[e.start : e.end] == e.text
