"""`essaymark rubric`: list, show, write and validate rubrics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from essay_marker.commands.common import fail, flag, out, say
from essay_marker.errors import EssaymarkError

if TYPE_CHECKING:
    pass

rubric_app = typer.Typer(help="List, show and validate rubrics.", no_args_is_help=True)


@rubric_app.command("list")
def rubric_list() -> None:
    """List the rubrics that ship with essaymark.

    Example: essaymark rubric list
    """
    from essay_marker.rubric import list_rubrics, load_rubric

    for rid, path in list_rubrics().items():
        try:
            title = load_rubric(path).title
        except EssaymarkError as exc:
            title = f"[invalid: {exc}]"
        out.print(f"{rid}\t{title}", markup=False)


@rubric_app.command("show")
def rubric_show(rubric_id: Annotated[str, typer.Argument(help="Rubric id or .toml file.")]) -> None:
    """Show a rubric's question, levels and factors.

    Example: essaymark rubric show stalin-main-reason
    """
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
        f"\n{len(rb.misconceptions)} misconceptions and {len(rb.dates)} dated events checked; "
        "* = named factor",
        markup=False,
    )


@rubric_app.command("new")
def rubric_new(
    rubric_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. ww1-causes.")],
    question: Annotated[str, typer.Option("--question", help="The question, as students see it.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the .toml file.")],
    max_mark: Annotated[int, typer.Option("--max-mark", min=1, help="Marks for content.")] = 16,
    spag_max: Annotated[int, typer.Option("--spag-max", min=0, help="Marks for SPaG.")] = 4,
    levels: Annotated[int, typer.Option("--levels", min=1, help="Levels above Level 0.")] = 4,
    force: Annotated[bool, flag("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a valid, commented rubric template for a new question.

    Example: essaymark rubric new --id ww1-causes --question "Why did war begin in 1914?"
    --out ww1-causes.toml
    """
    from essay_marker.fsutil import atomic_write
    from essay_marker.rubric import rubric_template

    if out_file.exists() and not force:
        raise fail(
            EssaymarkError(f"{out_file} already exists", "choose another --out or add --force")
        )
    try:
        text = rubric_template(rubric_id, question, max_mark, spag_max, levels)
    except EssaymarkError as exc:
        raise fail(exc) from None
    atomic_write(out_file, text)
    out.print(
        f"wrote {out_file}: edit the level descriptors (and add factors if you wish), then "
        f"'essaymark rubric validate {out_file}'",
        markup=False,
    )


@rubric_app.command("validate")
def rubric_validate(file: Annotated[Path, typer.Argument(help="Rubric .toml file.")]) -> None:
    """Check a rubric file and report the first problem with its key.

    Example: essaymark rubric validate ww1-causes.toml
    """
    from essay_marker.rubric import load_rubric, rubric_warnings

    try:
        rb = load_rubric(file)
    except EssaymarkError as exc:
        raise fail(exc) from None
    summary = (
        f"{len(rb.levels)} levels, {len(rb.factors)} factors, "
        f"{len(rb.misconceptions)} misconceptions, {len(rb.dates)} dated events"
    )
    out.print(f"{file}: valid rubric '{rb.id}' with {summary}", markup=False)
    for warning in rubric_warnings(rb):
        say(f"warning: {file}: {warning}")
