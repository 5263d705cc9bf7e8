"""`essaymark models`: a teacher's trained models, listed and chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from essay_marker.commands.common import RubricOpt, fail, out
from essay_marker.errors import EssaymarkError

if TYPE_CHECKING:
    pass

models_app = typer.Typer(help="Your trained models: list them, choose one.", no_args_is_help=True)


@models_app.command("list")
def models_list(rubric: RubricOpt = "stalin-main-reason") -> None:
    """List your saved model versions for a rubric (* = in use).

    Example: essaymark models list
    """
    from essay_marker import store

    saved = store.versions(rubric)
    if not saved:
        out.print(
            f"no models of your own for '{rubric}' in {store.rubric_folder(rubric)}; "
            "the bundled model (if any) is used",
            markup=False,
        )
        return
    for v in saved:
        scripts = "?" if v.scripts is None else v.scripts
        qwk = f"{v.qwk:.3f}" if v.qwk is not None else "?"
        note = "\t(model card damaged)" if v.card.get("damaged") else ""
        out.print(
            f"{'*' if v.active else ' '} {v.name}\t{scripts} scripts\tCV QWK {qwk}\t{v.path}{note}",
            markup=False,
        )
    active = any(v.active for v in saved)
    out.print(
        f"{' ' if active else '*'} {store.BUNDLED}\tthe model that ships with essaymark",
        markup=False,
    )


@models_app.command("use")
def models_use(
    version: Annotated[
        str,
        typer.Argument(help="A version from 'essaymark models list', e.g. v2, or 'bundled'."),
    ],
    rubric: RubricOpt = "stalin-main-reason",
) -> None:
    """Mark with one of your saved versions from now on ('bundled': the shipped model).

    Example: essaymark models use v2
    """
    from essay_marker import store
    from essay_marker.errors import RubricError
    from essay_marker.model.persist import load_model, skip_skops_default_trust
    from essay_marker.rubric import find_rubric

    try:
        if version != store.BUNDLED:
            # Refuse a damaged model (or one for another rubric) before it becomes the default.
            try:
                rb = find_rubric(rubric)
            except RubricError:  # a teacher's rubric given by id: check the file alone
                rb = None
            skip_skops_default_trust()
            load_model(store.saved_path(rubric, version), rb)
        path = store.use(rubric, version)
    except EssaymarkError as exc:
        raise fail(exc) from None
    where = f"{version} ({path})" if path else "the bundled model"
    out.print(f"now marking '{rubric}' with {where}", markup=False)
