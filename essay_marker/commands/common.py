"""What every command shares: the consoles, exit codes, one-line errors, common options."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from essay_marker.errors import EssaymarkError

if TYPE_CHECKING:
    from essay_marker.rubric import Rubric
    from essay_marker.scoring import Scorer

out = Console(highlight=False, soft_wrap=False)


def flag(*names: str, help: str) -> Any:
    """A yes/no option, shown in help without a value placeholder (it takes none)."""
    return typer.Option(*names, help=help, metavar="")


err = Console(stderr=True, highlight=False)


class Exit(IntEnum):
    """Exit statuses: 0 all done, 1 some inputs failed, 2 nothing could be done."""

    OK = 0
    PARTIAL = 1
    FAILED = 2


class Backend(StrEnum):
    """Where `batch` marks: processes on this machine, or a Dask cluster."""

    local = "local"
    dask = "dask"


class FiguresFormat(StrEnum):
    """Output formats of `evaluate`."""

    text = "text"
    json = "json"


def fail(exc: EssaymarkError) -> typer.Exit:
    """Print one line for a user-fixable error and return the exit to raise."""
    from rich.markup import escape

    # Escaped: file names and hints may hold [brackets] (essaymark[dask], "essay [2].txt").
    err.print(
        f"[bold red]error:[/bold red] {escape(str(exc))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(Exit.FAILED)


def say(message: str) -> None:
    """A progress line on stderr (plain text: file names may hold [brackets])."""
    from rich.markup import escape

    err.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


RubricOpt = Annotated[
    str,
    typer.Option("--rubric", "-r", help="Rubric id (see 'essaymark rubric list') or a .toml file."),
]


ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A model file from 'essaymark train'.")
]


RulesOpt = Annotated[
    bool, flag("--rules", help="Mark with the coverage rules, not the trained model.")
]


ScriptsOpt = Annotated[Path, typer.Option("--scripts", help="Folder of marked scripts.")]


MarksOpt = Annotated[Path, typer.Option("--marks", help="CSV with file,mark[,spag] columns.")]


FoldsOpt = Annotated[int, typer.Option("--folds", min=2, max=20, help="Cross-validation folds.")]


NoBaseOpt = Annotated[
    bool,
    flag(
        "--no-base-corpus",
        help="Learn from these scripts alone, without the corpus bundled for the rubric.",
    ),
]


SourceOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--source",
        "-s",
        metavar="FILE",
        help="A text the students were given; copying it earns no credit (repeatable).",
    ),
]


def sources(paths: list[Path] | None) -> tuple[str, ...]:
    """The texts of --source files (read like essays, so any supported format works)."""
    from essay_marker.readers import read_essay

    return tuple(read_essay(str(p))[1] for p in paths or ())


def needs_a_model(rubric: Rubric, path: Path | None) -> None:
    """Refuse to mark with a rubric that has no factors when there is no model: the rules
    would give every script 0."""
    from essay_marker.errors import RubricError

    if path is None and not rubric.factors:
        raise RubricError(
            rubric.path or rubric.id,
            "factors",
            "has no factors and there is no model trained for it, so nothing could be marked",
            f"train one on marked scripts ('essaymark train --rubric {rubric.path or rubric.id} "
            "--scripts DIR --marks CSV') or add [[factors]] to the rubric",
        )


def model_path_for(rubric: Rubric, model: Path | None, rules: bool) -> Path | None:
    """The model to mark with: --model, else the teacher's active one, else the bundled one."""
    from essay_marker.model.persist import bundled_model_path
    from essay_marker.store import active_path

    if rules and model:
        raise typer.BadParameter("give --model or --rules, not both")
    if rules:
        return None
    return model or active_path(rubric.id) or bundled_model_path(rubric)


def scorer_for(rubric: Rubric, model: Path | None, rules: bool) -> Scorer | None:
    """The loaded model to mark with, or None for the rules."""
    from essay_marker.model.persist import load_model, skip_skops_default_trust

    path = model_path_for(rubric, model, rules)
    needs_a_model(rubric, path)
    skip_skops_default_trust()  # this process is ours: load_model names every type it trusts
    return load_model(path, rubric) if path else None
