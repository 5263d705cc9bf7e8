"""The `essaymark` command: the collector held back while the libraries load, then the app."""

from __future__ import annotations

import gc


def main() -> None:
    """Run the Typer app with garbage collection paused during start-up.

    Importing NumPy, SciPy, scikit-learn and NLTK creates millions of objects, and the
    collector walks all of them again and again as they appear (0.3-0.5 s of a `check`).
    None of them is garbage, so collection waits until they are loaded; freezing them then
    keeps later collections (marking a whole batch) from walking them at all.
    """
    gc.disable()
    try:
        from essay_marker import cli
    finally:
        gc.freeze()
        gc.enable()
    cli.main()
