"""The scoring halves of benchmarks/spelling.py and benchmarks/spag.py, on made-up data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spelling():
    return _load("spelling")


@pytest.fixture(scope="module")
def spag():
    return _load("spag")


def test_suggestions_are_scored_against_one_reference_or_its_british_form(spelling):
    ref = spelling.Reference(
        single={"recieve": "receive", "organizaton": "organization", "wasnt": "wasn't"},
        several={"theyre": ("they're", "their", "there")},
        british={},
    )
    words = [
        ("recieve", "receive"),  # right
        ("Recieve", "relieve"),  # wrong
        ("organizaton", "organisation"),  # right: the British form of the reference
        ("wasnt", None),  # scored, no suggestion
        ("theyre", "they're"),  # ambiguous: reported apart
        ("zzxq", "zzz"),  # not in the list: not scored
    ]
    f = spelling.score(words, ref)
    assert (f["flagged"], f["scored"], f["suggested"], f["right"]) == (6, 4, 3, 2)
    assert f["precision"] == round(2 / 3, 4) and f["coverage"] == 0.75
    assert (f["ambiguous"], f["ambiguous_suggested"]) == (1, 1)
    assert f["wrong"] == [
        {"word": "recieve", "suggestion": "relieve", "reference": "receive", "count": 1}
    ]


def test_halves_are_fixed_by_the_id(spelling, spag):
    ids = [f"asap-{i}" for i in range(200)]
    halves = [spelling.dev_or_test(i) for i in ids]
    assert halves == [spag.dev_or_test(i) for i in ids]
    assert 80 < halves.count("dev") < 120


def test_scales_map_linearly_onto_the_spag_bands(spag):
    # ELLIPSE's 1-5 in half steps; ASAP prompt 1's 1-6; prompt 8's 2-12.
    assert [spag.to_band(x / 2, 1, 5) for x in range(2, 11)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert [spag.to_band(x, 1, 6) for x in range(1, 7)] == [0, 1, 2, 2, 3, 4]
    assert [spag.to_band(x, 2, 12) for x in (2, 3, 4, 7, 12)] == [0, 0, 1, 2, 4]


def test_agreement_and_the_commonest_band_baseline(spag):
    f = spag.agreement([1, 2, 2, 3], [1, 2, 3, 3])
    assert (f["n"], f["exact"], f["adjacent"]) == (4, 0.75, 1.0) and f["qwk"] > 0.5
    essays = [
        spag.Essay("ellipse", split, band, 100, 1.0, 1.0, guess)
        for split, band, guess in [("dev", 2, 0), ("dev", 2, 0), ("dev", 3, 0), ("test", 2, 2)]
    ]
    out = spag.report(essays, {i: e.mark for i, e in enumerate(essays)}, "test")["ellipse"]
    assert out["commonest_band"] == 2 and out["baseline"]["exact"] == 1.0
    assert out["estimate"]["exact"] == 1.0
