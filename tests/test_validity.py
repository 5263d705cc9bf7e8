"""The validity benchmark's scoring on a two-essay fixture whose every figure is worked out by hand.

The fixture (tests/fixtures/validity) has an annotated essay set in the blind set's format
and check-style records for it; the records say true and false things on purpose.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from essay_marker.rubric import find_rubric

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "validity"


@pytest.fixture(scope="module")
def validity():
    spec = importlib.util.spec_from_file_location("validity", ROOT / "benchmarks" / "validity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["validity"] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def figures(validity):
    golds = validity.load_gold(FIXTURE)
    records = json.loads((FIXTURE / "records.json").read_text(encoding="utf-8"))
    return validity.evaluate(golds, records, find_rubric("stalin-main-reason"))


def test_levels_and_referral(figures):
    assert figures["n"] == 2
    assert figures["exact"] == 0.5  # a: 2 = 2; b: 1 vs 3
    assert figures["adjacent"] == 0.5  # b is two levels out
    assert figures["mae"] == 4.0  # |6-7| and |2-9|
    assert figures["off_by_4_or_more"] == 1
    assert figures["referral_recall"] == 0.0  # b is 7 marks off and not referred
    assert figures["referral_rate"] == 0.0
    assert figures["length_leak"] is None  # two essays: nothing left once the mark is out
    assert figures["length_leak_interval"] is None


def test_the_length_leak_comes_with_an_interval_around_it(validity):
    """Marks that add a mark per doubling of length over the true ones leak; the bootstrap
    interval holds the point figure, and marks that ignore length leak nothing."""
    import math
    import random

    rng = random.Random(1)
    golds = [
        validity.Gold(
            file=f"x{i}.txt",
            writer="w",
            split="dev",
            text="w " * rng.choice([150, 300, 600, 1200]),
            mark=rng.randint(2, 14),
            level=2,
            spag=None,
            main_reason="none",
            supported=None,
            consistent=None,
            other_question="",
            units=(),
        )
        for i in range(80)
    ]
    noise = [rng.choice([-1, 0, 1]) for _ in golds]
    padded = [
        g.mark + round(math.log2(g.words / 150)) + e for g, e in zip(golds, noise, strict=True)
    ]
    fair = [g.mark + e for g, e in zip(golds, noise, strict=True)]
    leak = validity.partial_corr(
        padded, [math.log(g.words) for g in golds], [g.mark for g in golds]
    )
    low, high = validity.leak_interval(golds, padded)
    assert low <= leak <= high and low > 0.3
    low, high = validity.leak_interval(golds, fair)
    assert low < 0 < high
    # Half the essays by a writer whose marks follow length, half by one whose do not:
    # each writer's own figure says which.
    golds = [dataclasses.replace(g, writer="pad" if i % 2 else "fair") for i, g in enumerate(golds)]
    mixed = [p if g.writer == "pad" else f for g, p, f in zip(golds, padded, fair, strict=True)]
    each = validity.writer_leaks(golds, mixed)
    assert list(each) == ["fair", "pad"] and each["pad"] > 0.3 > each["fair"]


def test_factors_and_evidence(figures):
    # Every named factor's mention and explanation agrees with the annotation.
    assert figures["mentioned_f1"]["named"] == 1.0
    assert figures["explained_f1"]["named"] == 1.0
    # b's show-trials sentence is about no factor, yet essaymark calls ruthlessness explained.
    assert figures["explained_f1"]["others"] == 0.0
    assert figures["evidence_precision"] == 0.75
    assert figures["evidence_not_about_factor"] == [
        "b.txt [ruthlessness] In 1936 Stalin held show trials."
    ]


def test_judgement(figures):
    assert figures["judgement_accuracy"] == 0.5  # b hedges: no main reason
    assert figures["no_judgement_recall"] == 0.0
    assert figures["no_judgement_precision"] is None
    assert figures["supported_accuracy"] == 1.0


def test_feedback_truth(figures):
    # a: WWW true, both EBIs true, "add a judgement" false; b: judgement praise false,
    # 1936 as specific knowledge false (out of period), "plan" false (it names Lenin).
    assert figures["bullet_truth_by_kind"] == {
        "www": 0.333,
        "ebi": 1.0,
        "next_step": 0.0,
        "level_gap": 1.0,
    }
    assert figures["bullet_truth"] == 0.429
    assert sorted((b["file"], b["false_claims"]) for b in figures["false_bullets"]) == [
        ("a.txt", "no_judgement"),
        ("b.txt", "main_reason(lenin_link), supported(lenin_link)"),
        ("b.txt", "no_reason"),
        ("b.txt", "specific"),
    ]


def test_false_alarms(figures):
    assert figures["false_alarms"] == 1
    assert figures["false_alarms_by_flag"] == {"disordered": 1}


def test_quotes_are_found_when_shortened_and_respaced(validity):
    text = "He gave   jobs to\npeople who supported him, so they voted for him."
    assert validity.find_quote(text, "He gave jobs to people who …") == (0, 28)
    assert validity.find_quote(text, "Nothing like this") is None


def test_length_baseline_and_partial_correlation(validity):
    predict = validity.length_baseline([100, 1000], [2, 12], top=16)
    assert predict([100, 1000, 10**6]) == [2, 12, 16]
    # y follows x exactly, and z explains none of it: the partial correlation is 1.
    assert validity.partial_corr([1, 2, 3, 4], [2, 4, 6, 8], [0, 1, 0, 1]) == 1.0
