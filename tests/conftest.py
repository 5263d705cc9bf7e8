"""Shared fixtures: the bundled rubric and paths to fixture data."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from essay_marker.rubric import Rubric, find_rubric

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
EXAMPLES = TESTS.parent / "examples"
MODELS = TESTS.parent / "models"


def load_cases(name: str) -> list[dict]:
    """The [[cases]] of a fixture TOML file."""
    return tomllib.loads((FIXTURES / name).read_text(encoding="utf-8"))["cases"]


@pytest.fixture(autouse=True, scope="session")
def _own_essaymark_home(tmp_path_factory):
    """Tests never see (or change) a developer's own trained models."""
    import os

    old = os.environ.get("ESSAYMARK_HOME")
    os.environ["ESSAYMARK_HOME"] = str(tmp_path_factory.mktemp("essaymark-home"))
    yield
    if old is None:
        os.environ.pop("ESSAYMARK_HOME", None)
    else:
        os.environ["ESSAYMARK_HOME"] = old


@pytest.fixture(scope="session")
def rubric() -> Rubric:
    return find_rubric("stalin-main-reason")
