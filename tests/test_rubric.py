"""Rubric loading and validation: every error names the file and the key."""

from __future__ import annotations

import pytest

from essay_marker.errors import RubricError
from essay_marker.rubric import STATUSES, find_rubric, list_rubrics, load_rubric, parse_rubric

MINIMAL = """
id = "mini"
title = "Mini"
question = "Why?"
max_mark = 4
[[levels]]
level = 0
marks = [0, 0]
descriptor = "Nothing."
[[levels]]
level = 1
marks = [1, 4]
descriptor = "Something."
"""

FACTOR = """
[[factors]]
id = "a"
name = "A"
cues = ["alpha"]
[factors.feedback]
absent = "x"
mentioned = "x"
explained = "x"
weighed = "x"
"""

WITH_SPAG = MINIMAL.replace("max_mark = 4\n", "max_mark = 4\nspag_max = 4\n")
SPAG_BANDS = """
[spag_bands]
min_words = 10
[[spag_bands.bands]]
band = 4
accuracy = 0.99
control = 0.9
"""


def test_bundled_rubric_loads_with_the_four_named_factors():
    rubric = find_rubric("stalin-main-reason")
    named = [f.id for f in rubric.factors if f.named]
    assert named == ["general_secretary", "trotsky_unpopularity", "faction_play", "lenin_link"]
    assert len(rubric.factors) >= 8
    assert rubric.max_mark == 16 and rubric.spag_max == 4
    assert [(lv.low, lv.high) for lv in rubric.levels] == [
        (0, 0),
        (1, 4),
        (5, 8),
        (9, 12),
        (13, 16),
    ]
    assert rubric.level_for(11).level == 3
    assert any(m.id == "trotsky_whites" for m in rubric.misconceptions)
    assert next(d for d in rubric.dates if d.id == "gen_sec_year").years == (1922,)
    for f in rubric.factors:
        for status in STATUSES:
            assert f.feedback.for_status(status)


def test_list_rubrics_finds_the_bundled_one():
    assert "stalin-main-reason" in list_rubrics()


DATE = """
[[dates]]
id = "death"
event = "Lenin died"
cues = ["lenin died"]
years = [1924]
correction = "Lenin died in 1924."
"""


def test_dates_are_read_with_their_years():
    rubric = parse_rubric(MINIMAL + DATE.replace("[1924]", "[1925, 1924, 1924]"), "mini.toml")
    assert [(d.id, d.years) for d in rubric.dates] == [("death", (1924, 1925))]


def test_period_and_outside_terms_are_read():
    text = 'period = [1917, 1929]\noutside_terms = ["purge", "five year plan"]\n' + MINIMAL
    rubric = parse_rubric(text, "mini.toml")
    assert rubric.period == (1917, 1929)
    assert rubric.outside_terms == ("purge", "five year plan")
    with pytest.raises(RubricError, match="outside_terms"):
        parse_rubric('outside_terms = ["* purge"]\n' + MINIMAL, "mini.toml")


def test_a_reasons_cue_may_not_be_an_event_outside_the_question():
    """A cue that is also an outside term would credit a sentence about the purges of the
    1930s as evidence for a reason in a question about the 1920s."""
    text = 'period = [1917, 1929]\noutside_terms = ["Purge"]\n' + MINIMAL
    parse_rubric(text + FACTOR, "mini.toml")
    with pytest.raises(RubricError, match=r"factors\[0\]\.cues.*also in outside_terms"):
        parse_rubric(text + FACTOR.replace('"alpha"', '"alpha", "purge"'), "mini.toml")
    signs = 'period = [1917, 1929]\noutside_signs = ["killed"]\n' + MINIMAL
    assert parse_rubric(signs + FACTOR, "mini.toml").outside_signs == ("killed",)
    with pytest.raises(RubricError, match=r"factors\[0\]\.cues.*also in outside_signs"):
        parse_rubric(signs + FACTOR.replace('"alpha"', '"alpha", "killed"'), "mini.toml")


def test_a_quality_names_the_people_it_may_belong_to():
    political = find_rubric("stalin-main-reason").factor("political_skill")
    assert political.whose is not None
    assert "trotsky" in political.whose.others and political.whose.own == ("stalin",)


def test_factorless_rubric_is_valid():
    rubric = parse_rubric(MINIMAL, "mini.toml")
    assert rubric.factors == () and rubric.top_level == 1


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (MINIMAL.replace('id = "mini"\n', ""), "id", "missing"),
        (MINIMAL + "colour = 1\n", "colour", "not a known key"),
        (MINIMAL.replace("max_mark = 4", 'max_mark = "four"'), "max_mark", "should be int"),
        (MINIMAL.replace("marks = [1, 4]", "marks = [0, 4]"), "levels", "overlap"),
        (MINIMAL.replace("marks = [1, 4]", "marks = [2, 4]"), "levels", "gap"),
        (MINIMAL.replace("marks = [1, 4]", "marks = [1, 3]"), "levels", "stop at 3"),
        (MINIMAL + FACTOR + FACTOR, "factors[1].id", "duplicate"),
        (MINIMAL + FACTOR.replace('["alpha"]', "[]"), "factors[0].cues", "empty"),
        (MINIMAL + FACTOR.replace('absent = "x"\n', ""), "factors[0].feedback.absent", "missing"),
        (MINIMAL + FACTOR.replace('["alpha"]', '["* alpha"]'), "factors[0].cues[0]", "cue phrase"),
        (MINIMAL + FACTOR.replace('id = "a"', 'id = "Bad Id"'), "factors[0].id", "valid id"),
        (
            MINIMAL + FACTOR + '[factors.instead]\nfactor = "b"\nwhen = ["beta"]\n',
            "factors[0].instead.factor",
            "not another factor",
        ),
        (
            MINIMAL + FACTOR + '[factors.instead]\nfactor = "a"\nwhen = ["beta"]\n',
            "factors[0].instead.factor",
            "not another factor",
        ),
        (
            MINIMAL + FACTOR + '[factors.instead]\nfactor = "a"\n',
            "factors[0].instead.when",
            "missing",
        ),
        (
            MINIMAL + FACTOR + '[factors.whose]\nothers = ["trotsky"]\n',
            "factors[0].whose.own",
            "missing",
        ),
        (
            MINIMAL + FACTOR + '[factors.whose]\nothers = ["* trotsky"]\nown = ["stalin"]\n',
            "factors[0].whose.others[0]",
            "cue phrase",
        ),
        ("id = ", "", "not valid TOML"),
        (MINIMAL + DATE.replace("[1924]", "[]"), "dates[0].years", "four-digit years"),
        (MINIMAL + DATE.replace("[1924]", '["1924"]'), "dates[0].years", "four-digit years"),
        (MINIMAL + DATE.replace('cues = ["lenin died"]\n', ""), "dates[0].cues", "missing"),
        (MINIMAL + DATE + DATE, "dates", "duplicate"),
        (MINIMAL + SPAG_BANDS, "spag_bands", "spag_max is 0"),
        (WITH_SPAG + SPAG_BANDS.replace("band = 4", "band = 5"), "bands[0].band", "1 to 4"),
        (WITH_SPAG + SPAG_BANDS.replace("0.99", "99"), "bands[0].accuracy", "share of 0 to 1"),
        (WITH_SPAG + SPAG_BANDS + "colour = 1\n", "bands[0].colour", "not a known key"),
        (
            WITH_SPAG + SPAG_BANDS + SPAG_BANDS.split("min_words = 10\n")[1],
            "spag_bands.bands",
            "twice",
        ),
    ],
)
def test_invalid_rubric_names_file_and_key(text, key, words):
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "teacher.toml")
    message = str(info.value)
    assert message.startswith("teacher.toml")
    assert key in message and words in message


def test_missing_rubric_file(tmp_path):
    with pytest.raises(RubricError, match="no such file"):
        load_rubric(tmp_path / "nope.toml")


def test_unknown_rubric_id_lists_known_ones():
    with pytest.raises(RubricError, match="stalin-main-reason"):
        find_rubric("no-such-rubric")


def test_template_for_a_new_question_is_valid_and_factorless(tmp_path):
    from essay_marker.rubric import rubric_template

    text = rubric_template(
        "ww1-causes", 'Why did "war" break out\nin 1914?', 20, spag_max=4, levels=4
    )
    rubric = parse_rubric(text, "ww1.toml")
    assert rubric.id == "ww1-causes" and rubric.factors == ()
    assert rubric.question == 'Why did "war" break out in 1914?'
    assert [(lv.low, lv.high) for lv in rubric.levels] == [
        (0, 0),
        (1, 5),
        (6, 10),
        (11, 15),
        (16, 20),
    ]
    with pytest.raises(RubricError, match="valid id"):
        rubric_template("Bad Id", "Q?", 16)


# ----------------------------------------------------------------- rubrics from strangers

BUNDLED = list_rubrics()["stalin-main-reason"].read_text(encoding="utf-8")


def test_a_deeply_nested_rubric_is_refused_with_one_error():
    text = 'id = "x"\na = ' + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(RubricError, match="nests tables or lists too deeply"):
        parse_rubric(text, "nested.toml")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            "".join(
                f'\n[[factors]]\nid = "f{i}"\nname = "F{i}"\nshort = "f{i}"\ncues = ["cue {i}"]\n'
                f'[factors.feedback]\nabsent = "a"\nmentioned = "m"\nexplained = "e"\nweighed = "w"\n'
                for i in range(100)
            ),
            "110 factors",
        ),
        (
            '\n[[factors]]\nid = "many"\nname = "Many"\nshort = "many"\ncues = ['
            + ", ".join(f'"cue {i}"' for i in range(700))
            + ']\n[factors.feedback]\nabsent = "a"\nmentioned = "m"\nexplained = "e"\nweighed = "w"\n',
            "700 cues per factor",
        ),
        (
            '\n[[misconceptions]]\nid = "deep"\nclaim = "c"\ncorrection = "c"\nwindow = 30\nall_of = ['
            + ", ".join(f'["w{i}"]' for i in range(9))
            + "]\n",
            "9 groups in a misconception",
        ),
    ],
    ids=["factors", "cues", "groups"],
)
def test_rubrics_far_beyond_one_question_are_refused(extra, words):
    with pytest.raises(RubricError, match=words):
        parse_rubric(BUNDLED + extra, "shared.toml")


def test_a_windowed_misconception_of_many_groups_matches_in_linear_time():
    import time

    from essay_marker.analysis.coverage import analyse_coverage
    from essay_marker.text import analyse

    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    groups = ", ".join(f'["{w}"]' for w in words)
    rubric = parse_rubric(
        BUNDLED + f'\n[[misconceptions]]\nid = "slow"\nclaim = "c"\ncorrection = "c"\nwindow = 3\n'
        f"ordered = true\nall_of = [{groups}]\n",
        "shared.toml",
    )
    sentence = " ".join(words * 40) + "."  # each group matches 40 times: 40**8 combinations
    started = time.perf_counter()
    coverage = analyse_coverage(analyse(sentence), rubric)
    assert time.perf_counter() - started < 2.0
    assert "slow" not in {m.id for m in coverage.misconceptions}  # 8 words never fit in 3
    near = analyse("Alpha bravo charlie delta echo foxtrot golf hotel.")
    wide = parse_rubric(
        BUNDLED + f'\n[[misconceptions]]\nid = "fits"\nclaim = "c"\n'
        f'correction = "c"\nwindow = 8\nordered = true\nall_of = [{groups}]\n',
        "w.toml",
    )
    assert "fits" in {m.id for m in analyse_coverage(near, wide).misconceptions}


def test_a_rubric_adds_verdict_and_concession_phrases_to_the_shipped_ones():
    extra = '\n[language]\nverdict = ["chief cause"]\nconcession = ["granted that"]\n'
    rubric = parse_rubric(MINIMAL + extra, "mini.toml")
    assert "chief cause" in rubric.language.verdict and "main reason" in rubric.language.verdict
    assert "granted that" in rubric.language.concession
    assert "although" in rubric.language.concession
