"""SPaG estimate: British spellings and rubric names are not errors; slips are reported."""

from __future__ import annotations

from essay_marker.analysis.coverage import sentence_stems
from essay_marker.analysis.spag import estimate_spag
from essay_marker.text import analyse


def _spag(text, rubric):
    doc = analyse(text)
    return estimate_spag(doc, rubric, sentence_stems(doc, rubric))


def test_names_and_british_spellings_are_not_errors(rubric):
    text = (
        "Zinoviev and Kamenev organised the Troika with Stalin in the Politburo. Their "
        "behaviour favoured the centre of the party and its labour programme. "
    ) * 3
    spag = _spag(text, rubric)
    assert spag.misspellings == ()


def test_misspellings_are_reported_with_offsets_and_suggestions(rubric):
    text = (
        "Zinovev was in the goverment. Stallin was General Secetary and Trotski was arrogant. " * 2
    )
    spag = _spag(text, rubric)
    found = {m.text for m in spag.misspellings}
    assert {"Zinovev", "goverment", "Stallin", "Secetary", "Trotski"} <= found
    for m in spag.misspellings:
        assert text[m.start : m.end] == m.text
    suggestions = {m.text: m.suggestion for m in spag.misspellings}
    assert suggestions["Zinovev"] == "zinoviev"
    assert suggestions["goverment"] == "government"


def test_bands_follow_accuracy_control_and_terms(rubric):
    good = (
        "Stalin became General Secretary in 1922. The Politburo was split into factions over "
        "the NEP. Stalin used the Troika and then Socialism in One Country to defeat the Left "
        "Opposition. He hid Lenin's Testament from the Party Congress. "
    ) * 3
    bad = (
        "stalin was genral secetary and he was relly sneeky and trotski was arogent and he "
        "didnt like him and then he got rid of him and evry one was scard "
    ) * 3
    assert _spag(good, rubric).mark >= 3
    assert _spag(bad, rubric).mark <= 1
    assert 0 <= _spag(bad, rubric).spelling_accuracy < 0.9


def test_a_hyphenated_prefix_is_not_a_misspelling(rubric):
    text = "Trotsky called the policy un-Leninist and anti-worker, a non-Marxist idea. " * 4
    assert "un" not in {m.text for m in _spag(text, rubric).misspellings}
    assert _spag(text, rubric).misspellings == ()


def test_their_and_there_only_where_the_next_words_decide(rubric):
    text = (
        "Their was no rival left in the Politburo. The leaders ran the party in there own "
        "interest. The Right said their going to lose. Their leaders argued. There was a "
        "purge. The rivals lost their seats because they cant win and wont give in."
    )
    slips = {(m.text, m.suggestion) for m in _spag(text, rubric).misspellings}
    assert slips == {
        ("Their", "there"),
        ("there", "their"),
        ("their", "they're"),
        ("cant", "can't"),
        ("wont", "won't"),
    }


def test_a_rubric_without_specialist_terms_asks_for_none():
    # A teacher's new question (`rubric new`) lists no specialist terms; a clean, well
    # punctuated answer must not be held at band 1 for want of them.
    from essay_marker.rubric import parse_rubric, rubric_template

    plain = parse_rubric(rubric_template("plain", "Why did the war begin?", 16), "plain.toml")
    text = (
        "The war began because the great powers had tied themselves to one another. "
        "When one country moved its army, its allies felt bound to follow. Leaders "
        "feared that waiting would leave them open to attack. Each step made the next "
        "one harder to stop, so a local quarrel became a general war. "
    ) * 2
    assert _spag(text, plain).mark >= 3


def test_a_rubric_can_set_its_own_bands():
    from essay_marker.rubric import parse_rubric, rubric_template

    template = rubric_template("plain", "Why did the war begin?", 16)
    lenient = parse_rubric(
        template
        + "\n[spag_bands]\nmin_words = 5\n[[spag_bands.bands]]\nband = 4\n"
        + "accuracy = 0.5\ncontrol = 0.0\n",
        "lenient.toml",
    )
    text = "the war began becuase of alliances and the leaders were scared of each other"
    assert _spag(text, lenient).mark == 4
    assert _spag(text, parse_rubric(template, "plain.toml")).mark < 4


def test_bands_are_read_from_data():
    from essay_marker.analysis.spag import Band, Bands, bundled_bands, spag_band

    strict = Bands(10, (Band(4, 1.0, 1.0, 0), Band(1, 0.5, 0.0, 0)))
    assert spag_band(100, 0.99, 1.0, None, strict) == 1
    assert spag_band(100, 1.0, 1.0, None, strict) == 4
    assert spag_band(9, 1.0, 1.0, None, strict) == 0
    assert spag_band(100, 0.4, 1.0, None, strict) == 0
    # Terms count only where the rubric lists some (terms=None: not asked for).
    shipped = bundled_bands()
    assert spag_band(300, 1.0, 1.0, 0, shipped) < spag_band(300, 1.0, 1.0, None, shipped) == 4
    assert [b.band for b in shipped.bands] == [4, 3, 2, 1]
    for higher, lower in zip(shipped.bands, shipped.bands[1:], strict=False):
        assert higher.accuracy >= lower.accuracy and higher.control >= lower.control
