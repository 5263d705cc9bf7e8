"""Regenerate the README's sample outputs from what the commands really print.

    python tools/readme_samples.py          # rewrite README.md's samples
    python tools/readme_samples.py --check  # exit 1 if any sample is stale (tests run this)

A sample is a fenced block between `<!-- sample: COMMAND -->` and `<!-- /sample -->`;
COMMAND is run from the repository's root, 88 columns wide, and its standard output
replaces the block, so the README cannot drift from the program.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_SAMPLE = re.compile(r"(<!-- sample: (.+?) -->\n)```text\n.*?```\n(<!-- /sample -->)", re.S)
WIDTH = "88"


def output(command: str) -> str:
    """What the command prints (standard output), as a user's terminal would show it."""
    args = shlex.split(command)
    if args[0] == "essaymark":  # the installed command, run as `python -m essay_marker`
        args = [sys.executable, "-m", "essay_marker", *args[1:]]
    env = os.environ | {"COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode and not done.stdout:
        # A sample that failed would otherwise be written back empty, and the README lose it.
        sys.exit(f"{command} failed: {done.stderr.strip()}")
    return done.stdout


def regenerate(text: str) -> str:
    """The README with every sample block replaced by its command's real output."""
    return _SAMPLE.sub(
        lambda m: f"{m.group(1)}```text\n{output(m.group(2))}```\n{m.group(3)}", text
    )


def main() -> None:
    text = README.read_text(encoding="utf-8")
    fresh = regenerate(text)
    if "--check" in sys.argv:
        sys.exit(0 if fresh == text else "README.md samples are stale: run tools/readme_samples.py")
    README.write_text(fresh, encoding="utf-8")


if __name__ == "__main__":
    main()
