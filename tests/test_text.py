"""The NLTK text pipeline: sentences, tokens and offsets, with no downloaded data."""

from __future__ import annotations

from essay_marker.text import Lexicon, analyse, close_enough, phrase_stems


def test_offsets_survive_every_step():
    text = "  Stalin became Gen. Sec. in 1922. this meant he could appoint people, e.g. Molotov.\n\nTrotsky's\u2019 fall came later!"
    doc = analyse(text)
    for s in doc.sentences:
        assert text[s.start : s.end] == s.text
        for t in s.tokens:
            assert text[t.start : t.end] == t.text


def test_sentences_split_after_abbreviations_and_lowercase_starts():
    doc = analyse(
        "Stalin became Gen. Sec. in 1922. this meant he could appoint people e.g. Molotov. He won."
    )
    assert [s.text for s in doc.sentences] == [
        "Stalin became Gen. Sec. in 1922.",
        "this meant he could appoint people e.g. Molotov.",
        "He won.",
    ]


def test_paragraphs_and_list_lines():
    doc = analyse("First para.\n\nSecond para one. Second para two.\n\n- Stalin\n- Trotsky\n- 1922")
    assert doc.paragraph_count == 3
    assert [s.text for s in doc.sentences][-3:] == ["- Stalin", "- Trotsky", "- 1922"]


def test_digits_are_kept_as_tokens():
    doc = analyse("In 1922 and the 1920s.")
    assert [t.norm for t in doc.tokens] == ["in", "1922", "and", "the", "1920s"]


def test_stems_normalise_possessives_and_apostrophes():
    assert phrase_stems("Lenin's funeral") == phrase_stems("lenin funerals")
    assert phrase_stems("didn’t") == phrase_stems("didn't")


def test_edit_distance_catches_misspelt_names():
    assert close_enough("zinovev", "zinoviev")
    assert close_enough("trotski", "trotsky")
    assert close_enough("secetary", "secretary")
    assert not close_enough("station", "stalin")


def test_lexicon_knows_british_spellings_and_rubric_terms():
    lex = Lexicon(("Zinoviev", "Politburo"))
    for word in [
        "colour",
        "organised",
        "realise",
        "centre",
        "defence",
        "travelled",
        "Zinoviev",
        "labour",
    ]:
        assert lex.known(word), word
    for word in ["Zinovev", "goverment", "becuase"]:
        assert not lex.known(word), word
    assert lex.suggest("Zinovev") == "zinoviev"
    assert lex.suggest("Lenins") is None or lex.suggest("Lenins").startswith("Lenin")


def test_headings_are_marked_as_headings():
    doc = analyse("Gensec\nStalin had a job called Gensec.\n\nConclusion\nHe won.")
    assert [(s.text, s.heading) for s in doc.sentences] == [
        ("Gensec", True),
        ("Stalin had a job called Gensec.", False),
        ("Conclusion", True),
        ("He won.", False),
    ]


def test_word_list_loads_the_same_words_as_the_libraries_own_english_list():
    from spellchecker import SpellChecker

    from essay_marker.text import _spellchecker

    ours, stock = _spellchecker().word_frequency, SpellChecker(language="en").word_frequency
    assert ours.dictionary == stock.dictionary and ours.letters == stock.letters


def test_corrections_do_not_depend_on_string_hashing():
    # "tbh" is one edit from "tb" and "th", equally common in the word list; the word list
    # alone picks by set order, which differed between these hash seeds.
    import os
    import subprocess
    import sys

    code = "from essay_marker.text import Lexicon; print(Lexicon().correction('tbh'))"
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "8")
    }
    assert seen == {"tb\n"}


def test_invisible_characters_and_width_do_not_change_the_words():
    # Copy-paste leaves soft hyphens and zero-width spaces inside words; some keyboards
    # type full-width letters. The words read as themselves; offsets stay the original's.
    plain = analyse("Stalin beat Trotsky.")
    text = "Sta\u00adlin beat Trot\u200bsky. Ｓｔａｌｉｎ won."
    doc = analyse(text)
    assert [t.norm for t in doc.tokens][:3] == [t.norm for t in plain.tokens]
    assert doc.tokens[3].norm == "stalin"
    for t in doc.tokens:
        assert text[t.start : t.end] == t.text
