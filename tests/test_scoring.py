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
    """A scorer that gives every essay the same mark, with the confidence it is given."""

    scorer_name = "harsh"

    def __init__(self, mark, confidence=0.95):
        self.mark = mark
        self.confidence = confidence

    def hook(self):
        return None

    def score(self, analysis, rubric):
        return self.mark, 2, self.confidence

    def score_many(self, analyses, rubric):
        return [self.score(a, rubric) for a in analyses]


def _checklist(text, rubric):
    from essay_marker.analysis.features import analyse_essay
    from essay_marker.levels import RulesScorer

    return RulesScorer().score(analyse_essay(text, rubric), rubric)[0]


def test_a_short_answer_the_checklist_rates_well_apart_from_the_model_is_referred(rubric):
    """The model reads little of a short answer and can misplace it either way; where the
    checklist of what the argument does is SHORT_GAP marks above or below it, a person
    looks, and a smaller gap is no referral."""
    from essay_marker.scoring import SHORT_ANSWER, SHORT_GAP

    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    assert len(text.split()) < SHORT_ANSWER
    checklist = _checklist(text, rubric)
    assert checklist - SHORT_GAP >= 1 and checklist + SHORT_GAP <= rubric.max_mark
    low = score_essay(text, rubric, _Harsh(checklist - SHORT_GAP))
    assert any("under-mark short" in why for why in low.refer_reasons), low.refer_reasons
    high = score_essay(text, rubric, _Harsh(checklist + SHORT_GAP))
    assert any("over-mark short" in why for why in high.refer_reasons), high.refer_reasons
    hidden = score_essay(text, rubric, _Harsh(checklist + SHORT_GAP), hide_mark=True)
    assert any("well below what the model gives" in why for why in hidden.refer_reasons)
    for near in (checklist - SHORT_GAP + 1, checklist + SHORT_GAP - 1):
        close = score_essay(text, rubric, _Harsh(near))
        assert not any("short answer" in why for why in close.refer_reasons)


def test_a_close_call_on_the_level_is_referred_only_when_the_checklist_disagrees(rubric):
    """Low confidence says the level is a close call; it goes to a person when the
    checklist of reasons puts the script in another level, not when it agrees."""
    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    checklist = _checklist(text, rubric)
    same = rubric.level_for(checklist)
    other = rubric.level_for(same.low - 1)
    agreed = score_essay(text, rubric, _Harsh(same.low, confidence=0.45))
    assert not any("not confident" in why for why in agreed.refer_reasons), agreed.refer_reasons
    disputed = score_essay(text, rubric, _Harsh(other.high, confidence=0.45))
    assert any("not confident" in why for why in disputed.refer_reasons), disputed.refer_reasons
    sure = score_essay(text, rubric, _Harsh(other.high, confidence=0.9))
    assert not any("not confident" in why for why in sure.refer_reasons)


def test_the_rules_scorer_refers_its_close_calls_without_a_second_opinion(rubric):
    from essay_marker.levels import RulesScorer

    class _Unsure(RulesScorer):
        def score(self, analysis, rubric):
            mark, spag, _ = super().score(analysis, rubric)
            return mark, spag, 0.3

        def score_many(self, analyses, rubric):
            return [self.score(a, rubric) for a in analyses]

    text = (EXAMPLES / "two-reasons-short.txt").read_text(encoding="utf-8")
    result = score_essay(text, rubric, _Unsure())
    assert any("not confident" in why for why in result.refer_reasons), result.refer_reasons


OFF_LIST = (
    "Stalin won power for several reasons, but I think luck was the main reason. "
    "In 1922 he became General Secretary, which let him give party jobs to his "
    "supporters, so they voted for him at the Party Congress. "
    "Lenin died in January 1924 before he could remove Stalin, and the Testament was "
    "never published. That was luck, because if Lenin had lived a year longer Stalin "
    "would have lost his post. In conclusion, luck was the main reason he won."
)


def test_a_judgement_on_a_reason_off_the_list_is_referred(rubric):
    """essaymark cannot weigh an argument for a reason the mark scheme does not list:
    a person does. A judgement on a listed reason is not referred for it."""
    off = score_essay(OFF_LIST, rubric, _Harsh(9))
    assert off.judgement.present and off.judgement.main_factor is None
    assert any("not on the mark scheme's list" in why for why in off.refer_reasons)
    listed = OFF_LIST.replace("luck", "being General Secretary").replace(
        "That was being General Secretary", "That was lucky"
    )
    on = score_essay(listed, rubric, _Harsh(9))
    assert on.judgement.main_factor == "general_secretary", on.judgement
    assert not any("not on the mark scheme's list" in why for why in on.refer_reasons)


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
