"""score_essay: the whole pipeline from text to a result, on bundled examples."""

from __future__ import annotations

import pytest

from essay_marker.model.persist import bundled_model
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


def test_same_input_same_output_whatever_the_hash_seed():
    # Sets iterate in an order that changes with PYTHONHASHSEED: nothing a student or a
    # teacher reads may depend on it (flag messages once listed words in set order).
    import os
    import subprocess
    import sys

    from tests.conftest import FIXTURES

    # Many essays, so ties that only some essays meet are met: the blind set's dev writers
    # (its frozen test writers are only ever scored by benchmarks/validity.py).
    blind = EXAMPLES.parent / "corpus" / "stalin-main-reason-blind"
    test_writers = ("w01-", "w07-", "w08-", "w10-")
    paths = [
        str(FIXTURES / "adversarial" / "off_topic" / "off_topic-01.txt"),
        str(FIXTURES / "nonsense" / "set1" / "nonsense-02.txt"),
        str(EXAMPLES / "two-reasons-short.txt"),
        *(str(p) for p in sorted(blind.glob("w*.txt")) if not p.name.startswith(test_writers)),
    ]
    assert len(paths) > 100
    script = (
        "import sys, json\n"
        "from essay_marker.model.persist import bundled_model\n"
        "from essay_marker.render.report import result_to_dict\n"
        "from essay_marker.rubric import find_rubric\n"
        "from essay_marker.scoring import score_essays\n"
        "rb = find_rubric('stalin-main-reason')\n"
        "essays = [(open(p, encoding='utf-8').read(), p) for p in sys.argv[1:]]\n"
        "rs = score_essays(essays, rb, bundled_model(rb))\n"
        "print(json.dumps([result_to_dict(r) for r in rs]))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, *paths], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


class _Harsh:
    """A confident scorer that gives every essay the same low mark."""

    scorer_name = "harsh"

    def __init__(self, mark):
        self.mark = mark

    def hook(self):
        return None

    def score(self, analysis, rubric):
        return self.mark, 2, 0.95

    def score_many(self, analyses, rubric):
        return [self.score(a, rubric) for a in analyses]


def test_a_short_answer_the_checklist_rates_well_above_the_model_is_referred(rubric):
    """The model can under-mark a short, dense answer with confidence; where the checklist
    of what the argument does gives it SHORT_GAP marks more, a person looks."""
    from essay_marker.analysis.features import analyse_essay
    from essay_marker.scoring import SHORT_ANSWER, SHORT_GAP, RulesScorer

    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    assert len(text.split()) < SHORT_ANSWER
    checklist = RulesScorer().score(analyse_essay(text, rubric), rubric)[0]
    low = score_essay(text, rubric, _Harsh(checklist - SHORT_GAP))
    assert any("short answer" in why for why in low.refer_reasons), low.refer_reasons
    close = score_essay(text, rubric, _Harsh(checklist - SHORT_GAP + 1))
    assert not any("short answer" in why for why in close.refer_reasons)


NARRATIVE = (
    "Lenin died in January 1924 and there was a big funeral in Red Square. "
    "Stalin spoke at the funeral. Trotsky was in the south of Russia at the time. "
    "In 1922 Stalin had become General Secretary of the party. "
    "Zinoviev and Kamenev worked with Stalin in the Troika. "
    "In 1925 Trotsky lost his post as Commissar for War. "
    "In 1926 Zinoviev and Kamenev joined Trotsky in the United Opposition. "
    "In 1927 Trotsky was expelled from the party. "
    "In 1929 Bukharin was removed from the Politburo. "
    "Trotsky went into exile and Stalin ruled the USSR."
)


def test_an_account_of_events_marked_high_is_referred(rubric):
    """A mark in the levels that ask for explanation, for an essay whose sentences almost
    all tell what happened, is for a person to confirm; the same mark lower down is not."""
    from essay_marker.analysis.features import analyse_essay, causal_share
    from essay_marker.scoring import FEW_EXPLAIN

    assert causal_share(analyse_essay(NARRATIVE, rubric)) < FEW_EXPLAIN
    high = score_essay(NARRATIVE, rubric, _Harsh(11))
    assert any("account of events" in why for why in high.refer_reasons), high.refer_reasons
    low = score_essay(NARRATIVE, rubric, _Harsh(6))
    assert not any("account of events" in why for why in low.refer_reasons)
    explained = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    assert causal_share(analyse_essay(explained, rubric)) >= FEW_EXPLAIN
    assert not any(
        "account of events" in why
        for why in score_essay(explained, rubric, _Harsh(11)).refer_reasons
    )
