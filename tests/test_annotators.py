"""The annotator-agreement benchmark on the validity fixture, annotated a second time so that
every figure can be worked out by hand (tests/fixtures/validity/second_*.csv)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from essay_marker.rubric import find_rubric

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "validity"


@pytest.fixture(scope="module")
def figures():
    for name in ("validity", "annotators"):
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while being made
        spec.loader.exec_module(module)
    ids = [f.id for f in find_rubric("stalin-main-reason").factors]
    return sys.modules["annotators"].agreement(FIXTURE, ids)


def test_factors(figures):
    assert figures["essays"] == 2
    # Both annotators find the same named reasons in both essays…
    assert figures["mentioned_f1"]["named"] == 1.0
    # …and the second alone finds ruthlessness in b's show-trials sentence.
    assert figures["mentioned_f1"]["others"] == 0.0
    # Both say a explains the post; only the second says it explains Trotsky: 2·1/(2·1+1).
    assert figures["explained_f1"]["named"] == 0.667
    assert figures["explained_f1"]["others"] is None  # neither explains any other reason


def test_roles_and_essays(figures):
    assert figures["units"] == 7
    assert figures["role_exact"] == 0.857  # 6 of 7: a's Trotsky sentence differs
    # explains-or-weighs: po 6/7, pe (1·2 + 6·5)/49, kappa 10/17
    assert figures["explaining_kappa"] == 0.588
    assert figures["main_reason_agreement"] == 0.5  # b: none against lenin_link
    assert figures["exact_level"] == 1.0
