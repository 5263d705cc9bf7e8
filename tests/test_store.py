"""Teachers' own models: trained into their essaymark folder, versioned, chosen, used."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from essay_marker import store
from essay_marker.cli import app
from essay_marker.rubric import rubric_template

from .conftest import EXAMPLES, TESTS

runner = CliRunner()
HOLDOUT = TESTS.parent / "corpus" / "stalin-main-reason-holdout"


def test_train_versions_use_and_check(tmp_path, monkeypatch):
    monkeypatch.setenv("ESSAYMARK_HOME", str(tmp_path / "home"))
    rubric_file = tmp_path / "plain.toml"
    rubric_file.write_text(rubric_template("plain", "Why did Stalin gain power?", 16))
    args = [
        "train",
        "--rubric",
        str(rubric_file),
        "--scripts",
        str(HOLDOUT),
        "--marks",
        str(HOLDOUT / "marks.csv"),
        "--folds",
        "3",
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "now marking 'plain' with model:plain@v1" in first.stdout
    assert (tmp_path / "home" / "models" / "plain" / "v1.skops").is_file()
    assert store.active_name("plain") == "v1"

    second = runner.invoke(app, [*args, "--force"])
    assert second.exit_code == 0 and "trained on 45 of these 45 scripts" in second.stdout
    assert store.active_name("plain") == "v2" and len(store.versions("plain")) == 2

    listed = runner.invoke(app, ["models", "list", "--rubric", "plain"])
    assert "* v2" in listed.stdout and "  v1" in listed.stdout
    assert runner.invoke(app, ["models", "use", "v1", "--rubric", "plain"]).exit_code == 0
    checked = runner.invoke(
        app,
        [
            "check",
            str(EXAMPLES / "two-reasons-short.txt"),
            "--rubric",
            str(rubric_file),
            "-f",
            "json",
        ],
    )
    assert json.loads(checked.stdout)["scorer"] == "model:plain@v1"
    missing = runner.invoke(app, ["models", "use", "v9", "--rubric", "plain"])
    assert missing.exit_code == 2 and "saved versions: v1, v2" in missing.stderr


def test_no_teacher_model_means_the_bundled_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ESSAYMARK_HOME", str(tmp_path / "empty"))
    assert store.active_path("stalin-main-reason") is None
    listed = runner.invoke(app, ["models", "list"])
    assert "no models of your own" in listed.stdout
