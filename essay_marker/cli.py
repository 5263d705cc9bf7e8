"""The essaymark command line: parse, call the library, render, choose the exit code."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from essay_marker.errors import EssaymarkError
from essay_marker.report import Format

app = typer.Typer(
    help="Marks and formative feedback for GCSE history essays, offline.",
    no_args_is_help=True,
    # Student text must never appear in a traceback.
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
rubric_app = typer.Typer(help="List, show and validate rubrics.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


class Exit(IntEnum):
    """Exit statuses: 0 all done, 1 some inputs failed, 2 nothing could be done."""

    OK = 0
    PARTIAL = 1
    FAILED = 2


def fail(exc: EssaymarkError) -> typer.Exit:
    """Print one line for a user-fixable error and return the exit to raise."""
    err.print(f"[bold red]error:[/bold red] {exc}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(Exit.FAILED)


RubricOpt = Annotated[
    str,
    typer.Option("--rubric", "-r", help="Rubric id (see 'essaymark rubric list') or a .toml file."),
]


@app.command()
def check(
    path: Annotated[
        str, typer.Argument(help="Essay file (.txt, .md, .docx, .pdf), or - for stdin.")
    ],
    rubric: RubricOpt = "stalin-main-reason",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    no_mark: Annotated[
        bool, typer.Option("--no-mark", help="Feedback only: hide the level and mark.")
    ] = False,
) -> None:
    """Mark one essay and print formative feedback."""
    from essay_marker.readers import read_essay
    from essay_marker.report import print_text, to_json, to_markdown
    from essay_marker.rubric import find_rubric
    from essay_marker.scoring import score_essay

    try:
        rb = find_rubric(rubric)
        name, text = read_essay(path)
        result = score_essay(text, rb, input_name=name, hide_mark=no_mark)
    except EssaymarkError as exc:
        raise fail(exc) from None
    if fmt is Format.json:
        print(to_json(result, hide_mark=no_mark))
    elif fmt is Format.markdown:
        print(to_markdown(result, hide_mark=no_mark))
    else:
        print_text(result, out, hide_mark=no_mark)


@rubric_app.command("list")
def rubric_list() -> None:
    """List the rubrics that ship with essaymark."""
    from essay_marker.rubric import list_rubrics, load_rubric

    for rid, path in list_rubrics().items():
        try:
            title = load_rubric(path).title
        except EssaymarkError as exc:
            title = f"[invalid: {exc}]"
        out.print(f"{rid}\t{title}", markup=False)


@rubric_app.command("show")
def rubric_show(rubric_id: Annotated[str, typer.Argument(help="Rubric id or .toml file.")]) -> None:
    """Show a rubric's question, levels and factors."""
    from essay_marker.rubric import find_rubric

    try:
        rb = find_rubric(rubric_id)
    except EssaymarkError as exc:
        raise fail(exc) from None
    out.print(f"[bold]{rb.id}[/bold]: {rb.title}")
    out.print(f"Question: {rb.question}", markup=False)
    out.print(f"Marks: {rb.max_mark} + SPaG {rb.spag_max}   File: {rb.path}", markup=False)
    out.print("\n[bold]Levels[/bold]")
    for lv in sorted(rb.levels, key=lambda x: -x.level):
        out.print(f"  Level {lv.level} ({lv.low}-{lv.high}): {lv.descriptor}", markup=False)
    out.print("\n[bold]Factors[/bold]")
    for f in rb.factors:
        star = "*" if f.named else " "
        out.print(
            f" {star} {f.id}: {f.name} ({len(f.cues)} cues, {len(f.evidence)} evidence)",
            markup=False,
        )
    out.print(
        f"\n{len(rb.misconceptions)} misconceptions checked; * = named in the question's teaching"
    )


@rubric_app.command("validate")
def rubric_validate(file: Annotated[Path, typer.Argument(help="Rubric .toml file.")]) -> None:
    """Check a rubric file and report the first problem with its key."""
    from essay_marker.rubric import load_rubric

    try:
        rb = load_rubric(file)
    except EssaymarkError as exc:
        raise fail(exc) from None
    out.print(
        f"{file}: valid rubric '{rb.id}' with {len(rb.levels)} levels, "
        f"{len(rb.factors)} factors, {len(rb.misconceptions)} misconceptions",
        markup=False,
    )
