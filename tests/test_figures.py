"""What `train` and `evaluate` print about a model's figures."""

from __future__ import annotations

import json

from essay_marker.commands.figures import print_figures

from .conftest import MODELS


def _card() -> dict:
    return json.loads((MODELS / "stalin-main-reason.json").read_text())


def test_the_status_models_figures_are_printed_with_what_was_kept(capsys):
    card = _card()
    print_figures(card["cross_validation"], card["sentence_model"], True)
    printed = capsys.readouterr().out.split("Explained or not, per essay")
    assert len(printed) == 2
    for key, part in card["sentence_model"]["status"].items():
        label = "the other reasons" if key == "others" else key
        line = next(x for x in printed[1].splitlines() if x.strip().startswith(label))
        assert f"{part['f1_rules']:.3f} / {part['f1_model']:.3f}" in line
        assert line.endswith("rules kept") != part["used"]


def test_a_card_with_one_status_model_prints_it_for_the_other_reasons(capsys):
    card = _card()
    one = {"pairs": 10, "explained": 4, "f1_rules": 0.5, "f1_model": 0.6, "used": True}
    print_figures(card["cross_validation"], card["sentence_model"] | {"status": one}, True)
    printed = capsys.readouterr().out
    assert "the other reasons          0.500 / 0.600  kept" in printed
    assert "lenin_link                 0." not in printed.split("Explained or not")[-1]
