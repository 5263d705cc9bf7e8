"""The HTML pages' templates (render/templates), autoescaped: markup stays out of the code."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape


@cache
def environment() -> Environment:
    """One environment per process: templates are compiled once, then reused for every slip."""
    return Environment(
        loader=PackageLoader("essay_marker", "render/templates"),
        autoescape=select_autoescape(default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
