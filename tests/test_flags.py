"""Gaming, off-topic and broken input: flagged, capped, never a crash (issue: robustness)."""

from __future__ import annotations

import json
import random
import re
import runpy
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from essay_marker.analysis.features import analyse_essay
from essay_marker.batch.run import run_batch
from essay_marker.errors import InputError
from essay_marker.model.persist import bundled_model
from essay_marker.readers import MAX_WORDS
from essay_marker.records import FlagId
from essay_marker.render.report import result_to_dict
from essay_marker.scoring import score_essay
from essay_marker.screen.measures import anchoring, circular, copied_spans, disorder, everyday

from .conftest import EXAMPLES, FIXTURES, load_cases

ADVERSARIAL = FIXTURES / "adversarial"
CORPUS = Path(__file__).parent.parent / "corpus"
CASES = sorted(ADVERSARIAL.glob("*/*.txt"))
# Only a certain flag sets the mark (not English: 0); the others refer the script, with
# their reason, and the mark stands (issue 15: a false zero is worse than a referral).
CAPS = {"not_english": 0}
# Nonsense that reads unlike any answer to the question may be flagged off_topic instead:
# the message says it may be either.
ALSO_ACCEPTED = {"gibberish": {"off_topic"}}
HONEST = sorted((FIXTURES / "honest").glob("*.txt"))
# Genuine answers full of concrete detail and everyday analogies, written blind to the code.
VIVID = sorted((FIXTURES / "vivid").glob("*/*.txt"))
# Blind nonsense sets (benchmarks/nonsense.py): half real history with one or two absurd
# reasons, or absurd reasons put as comparisons ("like a snooker hall"), still get through.
NONSENSE = sorted((FIXTURES / "nonsense").glob("*/*.txt"))
NONSENSE_MISSES = {
    "set1/nonsense-06.txt",
    "set1/nonsense-07.txt",
    "set1/nonsense-10.txt",
    "set2/nonsense-01.txt",
    "set2/nonsense-03.txt",
    "set2/nonsense-05.txt",
    "set2/nonsense-07.txt",
}


def _case(path: Path) -> str:
    """A fixture's name with its set folder (set1/nonsense-01.txt) where it has one."""
    return f"{path.parent.name}/{path.name}" if path.parent.name.startswith("set") else path.name


@pytest.fixture(scope="module")
def model(rubric):
    return bundled_model(rubric)


# Caught as they were before flags became advisories, by family, with the measured misses:
# gibberish-10 reads like an answer (referred only because the model and its checklist
# disagree) and off_topic-06 answers a neighbouring question about 1917 (marked 1).
ADVERSARIAL_MISSES = {"gibberish-10.txt", "off_topic-06.txt"}


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_adversarial_case_is_caught_and_referred(path, rubric, model):
    expected = path.parent.name
    result = score_essay(path.read_text(encoding="utf-8"), rubric, model)
    ids = {f.id for f in result.flags}
    accepted = {expected} | ALSO_ACCEPTED.get(expected, set())
    if path.name in ADVERSARIAL_MISSES:
        pytest.xfail(f"known miss: mark {result.mark}, flags {sorted(ids)}")
    assert ids & accepted, f"{path.name}: flags {sorted(ids)}, mark {result.mark}"
    assert result.refer_to_teacher
    assert result.mark <= CAPS.get(expected, rubric.max_mark)


def test_genuine_scripts_are_rarely_flagged(rubric, model):
    """False alarms on every genuine (Level 1-4) script written for the project stay under 2%.

    `other_question` is counted apart: the corpus has answers written to drift into the
    1930s, and telling those students most of their essay is outside the question is true.
    No answer the reference marks at Level 3 or 4 may be told so.
    """
    flagged, elsewhere, total = [], [], 0
    for folder in ("stalin-main-reason", "stalin-main-reason-holdout"):
        marks = pd.read_csv(CORPUS / folder / "marks.csv")
        genuine = marks[marks.level > 0]
        for name, level in zip(genuine.file, genuine.level, strict=True):
            result = score_essay(
                (CORPUS / folder / name).read_text(encoding="utf-8"), rubric, model
            )
            total += 1
            ids = {f.id for f in result.flags}
            if FlagId.OTHER_QUESTION in ids:
                elsewhere.append((name, level))
            if ids - {FlagId.OTHER_QUESTION}:
                flagged.append((name, sorted(ids)))
    assert total >= 280
    assert len(flagged) / total < 0.02, flagged
    assert all(level <= 2 for _, level in elsewhere), elsewhere
    # About one in sixteen (14 of 280 in session 12; 17 since session 18 flags at half the
    # sentences, not three in five, which on the annotated blind dev set still refers no
    # essay read as answering this question): all Level 1-2 answers about the purges, the
    # gulags or Stalin's life, where the message is true.
    assert len(elsewhere) / total <= 0.065, elsewhere


@pytest.mark.parametrize("path", HONEST + VIVID, ids=[_case(p) for p in HONEST + VIVID])
def test_weak_but_honest_scripts_are_not_flagged(path, rubric, model):
    """EAL, narrative, analogy, vivid and rich-vocabulary answers written blind to the checks."""
    result = score_essay(path.read_text(encoding="utf-8"), rubric, model)
    assert not result.flags, [f.message for f in result.flags]


@pytest.mark.parametrize("path", NONSENSE, ids=[_case(p) for p in NONSENSE])
def test_blind_fluent_nonsense_is_flagged(path, rubric, model):
    result = score_essay(path.read_text(encoding="utf-8"), rubric, model)
    ids = {f.id for f in result.flags}
    if _case(path) in NONSENSE_MISSES:
        pytest.xfail(f"known miss: gets {result.mark} with flags {sorted(ids)}")
    assert "gibberish" in ids and result.refer_to_teacher


@pytest.mark.parametrize(
    ("word", "thing"),
    [
        ("boots", True),
        ("parrot", True),
        ("chewed", True),
        ("sneezing", True),
        ("porridge", True),
        ("armed", False),  # not an arm
        ("rose", False),  # rose to power
        ("pale", False),  # mostly an adjective
        ("party", False),
        ("power", False),
        ("testament", False),
    ],
)
def test_everyday_things_are_told_from_other_senses(word, thing):
    assert everyday(word) is thing


def test_reasons_resting_on_everyday_things_are_counted_outside_comparisons(rubric, model):
    base = (
        "Stalin became General Secretary in 1922 and used the post to appoint his supporters. "
        "Trotsky was unpopular because he was arrogant and had been a Menshevik. "
        "Stalin played the Left against the Right in the Politburo. "
    )
    absurd = (
        "Stalin won because he had the shiniest boots in the Kremlin. "
        "Trotsky lost because his parrot was rude to Zinoviev. "
        "The Right backed Stalin because he gave Tomsky a jar of honey. "
    )
    compared = (
        "Stalin ran the Party like a parrot repeating Lenin's words. "
        "Trotsky lost because the parrot image stuck to Stalin and not to him. "
    )
    a = analyse_essay(base + absurd, rubric, model.hook())
    b = analyse_essay(base + compared, rubric, model.hook())
    found = anchoring(a, rubric, model.familiar)
    assert found.everyday == 3 and found.everyday_things[:2] == ("boots", "parrot")
    assert anchoring(b, rubric, model.familiar).everyday == 0


def test_a_thing_only_level_1_answers_mention_does_not_anchor_a_reason(rubric, model):
    """Two Level 1 answers mention Stalin's moustache: that does not make it a reason."""
    text = (ADVERSARIAL / "gibberish" / "gibberish-08.txt").read_text(encoding="utf-8")
    a = analyse_essay(text, rubric, model.hook())
    assert "moustache" not in anchoring(a, rubric, model.familiar).everyday_things
    credited = anchoring(a, rubric, model.familiar, credited=model.credited)
    assert credited.everyday >= 3 and credited.everyday_things[0] == "moustache"


@pytest.mark.parametrize("name", ["b11-ruby.txt", "d36-priya.txt"])
def test_padding_does_not_make_unknown_things_recur(name, rubric, model):
    """Anchoring reads each distinct sentence once: a pasted essay is no more made up.

    Read with its copies, b11-ruby's unknown words all recur, and d36-priya's one everyday
    word ("floor") props up four reasons.
    """
    text = (CORPUS / "stalin-main-reason" / name).read_text(encoding="utf-8")
    result = score_essay(text + ("\n\n" + text) * 3, rubric, model)
    assert "gibberish" not in {f.id for f in result.flags}


def test_circular_explanations_are_counted(rubric):
    text = (
        "The General Secretary was important because it was important. "
        "Trotsky lost because he was arrogant and feared as a Bonaparte. "
        "The factions mattered because they were factions."
    )
    because, restated, first = circular(analyse_essay(text, rubric))
    assert (because, restated) == (3, 2)
    assert first == "The General Secretary was important because it was important."


# Eight-sentence essays whose signposts are out of order, and the reason each gives.
_BODY = [
    "Stalin was made General Secretary in 1922 and controlled appointments.",
    "He put loyal supporters into key posts across the party.",
    "Trotsky was seen as arrogant and many feared him as a Bonaparte.",
    "Stalin sided with Zinoviev and Kamenev against Trotsky in the Troika.",
    "Later he sided with Bukharin to defeat the United Opposition in 1927.",
    "He was chief mourner at Lenin's funeral in January 1924.",
]
_INTRO = "The main reason Stalin won total power was his post as General Secretary."
_END = "In conclusion, the General Secretary post was the main reason, because it gave him votes."
DISORDERED = {
    "it concludes": [_INTRO, _BODY[0], _END, *_BODY[1:]],
    "comes before": [
        _INTRO,
        "Thirdly, " + _BODY[3],
        "Firstly, " + _BODY[0],
        *_BODY[1:3],
        *_BODY[4:],
        _END,
    ],
    "opens mid-argument": ["This meant that " + _BODY[1], _INTRO, _BODY[0], *_BODY[2:], _END],
    "starting a new point": [
        _INTRO,
        *_BODY,
        _END,
        "Another reason was Trotsky missing Lenin's funeral.",
    ],
    "long before the end": [
        _INTRO,
        "Above all, the post gave him the votes at the Party Congress.",
        *_BODY,
        "Zinoviev and Kamenev were expelled in 1927.",
    ],
}


@pytest.mark.parametrize("why", DISORDERED)
def test_disorder_names_what_is_out_of_order(why, rubric):
    a = analyse_essay(" ".join(DISORDERED[why]), rubric)
    assert why in (disorder(a, list(range(len(a.doc.sentences)))) or "")
    ordered = analyse_essay(" ".join([_INTRO, *_BODY, _END]), rubric)
    assert disorder(ordered, list(range(len(ordered.doc.sentences)))) is None


def test_a_strong_essay_shuffled_is_referred_as_disordered(rubric, model):
    # Disorder is read from style, so it refers the script and leaves the mark alone.
    text = _essay("analytical-four-factors.txt")
    paragraphs = text.split("\n\n")
    shuffled = "\n\n".join([paragraphs[-1], *paragraphs[1:-1], paragraphs[0]])
    moved = score_essay(shuffled, rubric, model)
    flag = next(f for f in moved.flags if f.id == "disordered")
    assert flag.severity == "advisory" and moved.refer_to_teacher


def test_pasted_repeats_are_not_read_as_disorder(rubric, model):
    text = _essay("analytical-four-factors.txt")
    ids = {f.id for f in score_essay(text + ("\n\n" + text) * 3, rubric, model).flags}
    assert "repetition" in ids and "disordered" not in ids


def test_an_essay_far_longer_than_an_essay_is_refused(rubric):
    with pytest.raises(InputError, match="too long for an essay"):
        score_essay("Stalin won. " * MAX_WORDS, rubric)


def _essay(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def test_repetition_is_flagged_and_padding_does_not_raise_the_mark(rubric, model):
    text = _essay("two-reasons-short.txt")
    padded = text + ("\n\n" + text) * 3
    plain, long = score_essay(text, rubric, model), score_essay(padded, rubric, model)
    assert "repetition" in {f.id for f in long.flags}
    assert long.mark <= plain.mark
    for f in long.factors:  # evidence still points at the student's own first copy
        for e in f.evidence:
            assert padded[e.start : e.end] == e.text


def test_copied_source_earns_no_credit(rubric, model):
    source = _essay("analytical-four-factors.txt")
    copied = "I think this is the answer.\n\n" + source
    result = score_essay(copied, rubric, model, sources=(source,))
    assert "copied_source" in {f.id for f in result.flags}
    assert result.mark <= 4 and result.refer_to_teacher
    assert score_essay(copied, rubric, model).mark > result.mark  # without the source it looks good


def test_the_question_restated_earns_nothing_unless_asked_as_a_question(rubric):
    said = "What was the main reason Stalin was able to achieve total power in the USSR by the end of the 1920s."
    asked = "So what was the main reason Stalin was able to achieve total power in the USSR by the end of the 1920s?"
    rest = "Stalin was General Secretary from 1922 and this let him appoint his own supporters."
    for opening, blanked in ((said, True), (asked, False)):
        a = analyse_essay(f"{rest} {opening} It was his job.", rubric)
        _, restated = copied_spans(a.doc, a.stems, [], rubric.question)
        assert bool(restated) is blanked


def test_keyword_list_appended_to_an_essay_does_not_create_explanations(rubric, model):
    text = _essay("trotsky-narrative.txt")
    stuffed = (
        text + "\n\nGeneral Secretary 1922 Politburo Troika NEP Lenin Enrolment Testament "
        "Socialism in One Country Zinoviev Kamenev Bukharin United Opposition chief mourner"
    )
    plain, more = score_essay(text, rubric, model), score_essay(stuffed, rubric, model)
    explained = {f.id for f in plain.factors if f.status in ("explained", "weighed")}
    assert {f.id for f in more.factors if f.status in ("explained", "weighed")} <= explained
    assert more.level <= plain.level + 1


_SLIPS = (
    "Lenin died in 1923 and nobody knew who would lead.",
    "The Lenin Enrolment of 1927 brought in thousands of new members.",
    "Trotsky was expelled from the party in 1919.",
)
_MADE_UP = (
    "Stalin formed the Troika with Zinoviev and Kamenev in 1920.",
    "The United Opposition was formed in 1923.",
    "Lenin had introduced the NEP in 1926.",
)


def test_a_few_wrong_facts_are_corrected_but_made_up_history_is_referred(rubric, model):
    text = _essay("analytical-four-factors.txt")
    slips = score_essay(text + "\n\n" + " ".join(_SLIPS), rubric, model)
    assert len(slips.misconceptions) == 3
    assert "gibberish" not in {f.id for f in slips.flags}
    assert slips.mark >= score_essay(text, rubric, model).mark - 3
    made_up = score_essay(text + "\n\n" + " ".join(_SLIPS + _MADE_UP), rubric, model)
    flag = next(f for f in made_up.flags if f.id == "gibberish")
    assert flag.check == "gibberish.made_up_facts" and flag.severity == "advisory"
    assert "Many of its facts are wrong (Lenin died in 1923;" in flag.message
    assert made_up.refer_to_teacher and made_up.level < rubric.top_level


def test_two_wrong_facts_keep_an_answer_out_of_the_top_level(rubric, model):
    text = (CORPUS / "stalin-main-reason" / "a31-isaac.txt").read_text(encoding="utf-8")  # 16/16
    one = score_essay(text + "\n\n" + _SLIPS[0], rubric, model)
    two = score_essay(text + "\n\n" + " ".join(_SLIPS[:2]), rubric, model)
    assert len(one.misconceptions) == 1 and one.level == rubric.top_level  # one slip: still L4
    assert len(two.misconceptions) == 2 and two.level == rubric.top_level - 1
    assert any("2 facts are wrong" in gap for gap in two.level_gap)


FACT_SETS = FIXTURES / "facts"
SLIPS = sorted(FACT_SETS.glob("*/slips-*.txt"))


@pytest.mark.parametrize("path", SLIPS, ids=[f"{p.parent.name}/{p.name}" for p in SLIPS])
def test_honest_slips_are_not_over_corrected_or_flagged(path, rubric, model):
    """Blind-written honest answers: no more corrections than the key's slips, no flags."""
    key = pd.read_csv(path.parent / "key.csv").set_index("file")
    result = score_essay(path.read_text(encoding="utf-8"), rubric, model)
    assert len(result.misconceptions) <= key.loc[path.name, "errors"]
    assert not result.flags


def test_a_term_list_added_to_an_essay_earns_nothing_and_is_flagged(rubric, model):
    text = _essay("two-reasons-short.txt")
    listed = (
        text + "\n\nLenin Enrolment Troika United Opposition Bukharin Rykov Tomsky NEP Politburo"
    )
    plain, more = score_essay(text, rubric, model), score_essay(listed, rubric, model)
    flag = next(f for f in more.flags if f.id == "keyword_stuffing")
    assert flag.severity == "blank" and "1 line only lists" in flag.message
    assert more.mark == plain.mark and more.refer_to_teacher


def test_empty_and_too_short(rubric, model):
    empty = score_essay("... !!! ???", rubric, model)
    assert [f.id for f in empty.flags] == ["empty"] and empty.mark == 0
    short = score_essay("Stalin was General Secretary so he appointed his friends.", rubric, model)
    assert "too_short" in {f.id for f in short.flags} and short.refer_to_teacher
    assert "9 words" in next(f.message for f in short.flags if f.id == "too_short")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=3000))
def test_any_text_gives_valid_json_and_never_raises(text, rubric):
    result = score_essay(text, rubric)
    json.loads(json.dumps(result_to_dict(result)))
    assert 0 <= result.mark <= rubric.max_mark


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(
        st.sampled_from(
            [
                "Stalin",
                "Trotsky",
                "<div>",
                "\x00",
                "\u202e",
                "é",
                "1922",
                "\n\n",
                ".",
                "'",
                "Zinovev",
                "🙂",
                "this meant",
                " ",
            ]
        ),
        max_size=400,
    )
)
def test_odd_tokens_and_markup_never_raise(parts, rubric, model):
    result = score_essay("".join(parts), rubric, model)
    assert 0 <= result.mark <= rubric.max_mark


def test_fuzz_batch_of_broken_files_finishes_with_one_error_row_each(tmp_path, rubric):
    rng = random.Random(7)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    good = _essay("two-reasons-short.txt").encode()
    docx = (FIXTURES / "class" / "a05-freya.docx").read_bytes()
    pdf = (FIXTURES / "essay.pdf").read_bytes()
    for i in range(200):
        kind = i % 5
        if kind == 0:
            name, data = (
                f"r{i:03}.txt",
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))),
            )
        elif kind == 1:
            name, data = f"t{i:03}.docx", docx[: rng.randrange(10, len(docx) - 10)]
        elif kind == 2:
            name, data = f"p{i:03}.pdf", pdf[: rng.randrange(5, len(pdf) - 5)]
        elif kind == 3:
            name, data = f"z{i:03}.txt", b""
        else:
            name, data = f"g{i:03}.txt", good
        (folder / name).write_bytes(data)
    outcome = run_batch(folder, tmp_path / "out", rubric, None, jobs=1)
    assert len(outcome.rows) == 200
    rows = pd.read_csv(tmp_path / "out" / "marks.csv", dtype=str, keep_default_na=False)
    assert len(rows) == 200
    for row in rows.itertuples():
        assert bool(row.error) != bool(row.mark), row
    assert all(rows.error[rows.file.str.startswith(("t", "z"))] != "")
    assert all(rows.error[rows.file.str.startswith("g")] == "")


def test_the_everyday_word_list_is_what_the_tool_writes_from_wordnet(capsys):
    """essay_marker/data/everyday.txt is generated data: regenerate it where WordNet is present."""
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
    except LookupError:
        pytest.skip("NLTK's WordNet data is not installed (python -m nltk.downloader wordnet)")
    tool = runpy.run_path(str(Path(__file__).parent.parent / "tools" / "everyday_words.py"))
    tool["main"]()
    shipped = (Path(__file__).parent.parent / "essay_marker" / "everyday.txt").read_text()
    assert capsys.readouterr().out == shipped


@pytest.mark.parametrize(
    ("name", "paragraph"), [("a01-ethan.txt", 2), ("a02-owen.txt", 1), ("a28-lucy.txt", 2)]
)
def test_a_paragraph_pasted_twice_earns_nothing_whatever_its_share(name, paragraph, rubric, model):
    # Weak corpus answers whose pasted paragraph once raised the mark by 2-3 (to Level 2).
    text = (CORPUS / "stalin-main-reason" / name).read_text(encoding="utf-8")
    paragraph = [p for p in re.split(r"\n\s*\n", text) if len(p.split()) > 15][paragraph]
    padded = text + "\n\n" + paragraph
    assert len(paragraph.split()) < 0.5 * len(text.split())  # under the padding share
    plain, again = score_essay(text, rubric, model), score_essay(padded, rubric, model)
    assert again.mark == plain.mark
    assert [(f.id, f.status) for f in again.factors] == [(f.id, f.status) for f in plain.factors]


# ------------------------------------------------------------- flags as data: the declarations

FLAG_CASES = load_cases("flag_cases.toml")


@pytest.mark.parametrize(
    "case",
    FLAG_CASES,
    ids=[f"{c['check']}-{'fires' if c['fires'] else 'quiet'}" for c in FLAG_CASES],
)
def test_flag_case(case, rubric, model):
    from essay_marker.analysis.features import analyse_essay
    from essay_marker.screen.flags import screen

    a = analyse_essay(case["text"], rubric, model.hook())
    flags = screen(a, rubric, tuple(case.get("sources", ())), model.familiar, model.credited).flags
    assert (case["check"] in {f.check for f in flags}) == case["fires"], [f.check for f in flags]


def test_every_check_has_an_example_that_fires_and_one_that_does_not():
    from essay_marker.screen.flags import checks

    for c in checks():
        fires = {case["fires"] for case in FLAG_CASES if case["check"] == c.check}
        assert fires == {True, False}, f"{c.check} needs examples that fire and that do not"


def test_only_certain_checks_set_a_mark():
    """Severity by certainty: only the checks measured to raise no false alarm on any
    genuine set (benchmarks/false_alarms.py) may zero or cap a mark."""
    from essay_marker.records import Severity
    from essay_marker.screen.flags import checks

    setting = {c.check for c in checks() if c.severity in (Severity.ZERO, Severity.CAP)}
    assert setting == {"empty", "not_english", "gibberish.random"}
    for c in checks():
        for test in (t for group in c.any_of for t in group):
            assert test.reason.strip(), f"{c.check}: {test.measure} needs its reason"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[[flags]]\ncheck = "x"\nid = "x"\nseverity = "advisory"\nmessage = "m"\n'
            'any_of = [[{ measure = "nope", at_least = 1, reason = "r" }]]\n',
            "no measure named 'nope'",
        ),
        (
            '[[flags]]\ncheck = "x"\nid = "x"\nseverity = "advisory"\nmessage = "m"\n'
            'any_of = [[{ measure = "words", at_least = 1 }]]\n',
            "needs its reason",
        ),
        (
            '[[flags]]\ncheck = "x"\nid = "x"\nseverity = "cap"\nmessage = "m"\n'
            'any_of = [[{ measure = "words", at_least = 1, reason = "r" }]]\n',
            "names its level",
        ),
        (
            '[[flags]]\ncheck = "x"\nid = "x"\nseverity = "advisory"\nmessage = "{bad}"\n'
            'any_of = [[{ measure = "words", at_least = 1, reason = "r" }]]\n',
            "no measure named 'bad'",
        ),
    ],
    ids=["unknown-measure", "no-reason", "cap-without-level", "unknown-placeholder"],
)
def test_a_bad_flag_declaration_names_what_is_wrong(text, words):
    from essay_marker.errors import RubricError
    from essay_marker.screen.flags import parse_checks

    with pytest.raises(RubricError, match=words):
        parse_checks(text, "flags.toml")


def test_a_run_on_essay_is_marked_on_its_content(rubric, model):
    """An answer written as one sentence is read clause by clause, never zeroed for its form."""
    text = (CORPUS / "stalin-main-reason" / "a03-joel.txt").read_text(encoding="utf-8")
    run_on = re.sub(r"[.!?]+\s+", " and ", text).replace("\n", " ")
    plain, joined = score_essay(text, rubric, model), score_essay(run_on, rubric, model)
    assert abs(joined.level - plain.level) <= 1 and joined.mark > 0


def test_a_zero_that_no_certain_flag_explains_is_referred(rubric):
    from essay_marker.levels import RulesScorer

    class ZeroScorer(RulesScorer):
        """Marks everything 0 with full confidence, as the old model did a run-on answer."""

        def score_many(self, analyses, rubric):
            return [(0, 0, 1.0) for _ in analyses]

    text = _essay("two-reasons-short.txt")
    r = score_essay(text, rubric, ZeroScorer())
    assert r.mark == 0 and not r.flags
    assert r.refer_to_teacher and any("mark is 0" in why for why in r.refer_reasons)


def test_a_rubric_that_names_no_topic_never_calls_an_essay_off_topic():
    from essay_marker.rubric import parse_rubric, rubric_template

    rubric = parse_rubric(rubric_template("plain", "Why did it happen?", 16), "plain.toml")
    r = score_essay(_essay("two-reasons-short.txt"), rubric)
    assert "off_topic" not in {f.id for f in r.flags}
